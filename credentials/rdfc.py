"""RDFC-1.0 (RDF Dataset Canonicalization) over quads of N-Quads terms.

First-degree hashes label most blank nodes; ties are broken with the Hash N-Degree Quads
algorithm. Output is canonical N-Quads: one line per unique quad, sorted by code point.
The hash is SHA-256 unless another is asked for (RDFC-1.0 §4.2 allows SHA-384). Poison graphs
(RDFC-1.0 §4.4.1) abort with CanonicalizationError once the Hash N-Degree Quads has done
MAX_WORK units of work (a quad hashed, a permutation tried) or recursed MAX_DEPTH deep.
"""

import hashlib
import operator
from collections import defaultdict
from collections.abc import Callable, Sequence
from itertools import permutations
from typing import Any, Protocol

from credentials.errors import CanonicalizationError

Quad = tuple[str, str, str, str]


class _HashObject(Protocol):
    """What RDFC-1.0 needs of a hashlib object."""

    def hexdigest(self) -> str: ...


HASH_ALGORITHMS: dict[str, Callable[[bytes], _HashObject]] = {
    "SHA256": hashlib.sha256,
    "SHA384": hashlib.sha384,
}
MAX_WORK = 100_000
MAX_DEPTH = 256


class _Issuer:
    """Identifier Issuer: hands out `<prefix><n>` labels in order of first request."""

    __slots__ = ("issued", "prefix")

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued = issued if issued is not None else {}

    def issue(self, existing: str) -> str:
        label = self.issued.get(existing)
        if label is None:
            label = self.issued[existing] = f"{self.prefix}{len(self.issued)}"
        return label

    def copy(self) -> "_Issuer":
        return _Issuer(self.prefix, dict(self.issued))


class _Canonicalizer:
    """One run of RDFC-1.0; `budget` counts down the work the Hash N-Degree Quads may do, `depth`
    is how deep its recursion is."""

    __slots__ = ("budget", "canonical", "depth", "digest", "first_degree", "quads_of")

    def __init__(self, quads: list[Quad], digest: Callable[[bytes], _HashObject]) -> None:
        self.digest = digest
        self.quads_of: dict[str, list[Quad]] = defaultdict(list)
        for quad in quads:
            subject, _, obj, graph = quad
            if subject[0] == "_":
                self.quads_of[subject].append(quad)
            if obj[0] == "_" and obj != subject:
                self.quads_of[obj].append(quad)
            if graph and graph[0] == "_" and graph != subject and graph != obj:
                self.quads_of[graph].append(quad)
        self.canonical = _Issuer("_:c14n")
        self.first_degree: dict[str, str] = {}
        self.budget = MAX_WORK
        self.depth = 0

    def hash(self, text: str) -> str:
        return self.digest(text.encode("utf-8")).hexdigest()

    def spend(self, work: int) -> None:
        self.budget -= work
        if self.budget < 0:
            raise CanonicalizationError(
                "RDF canonicalization exceeded its work limit: the data has too many "
                "interlinked blank nodes that look alike")

    def hash_first_degree(self, node: str) -> str:
        found = self.first_degree.get(node)
        if found is not None:
            return found
        lines = []
        for subject, predicate, obj, graph in self.quads_of[node]:
            if subject[0] == "_":
                subject = "_:a" if subject == node else "_:z"
            if obj[0] == "_":
                obj = "_:a" if obj == node else "_:z"
            if not graph:
                lines.append(f"{subject} {predicate} {obj} .\n")
                continue
            if graph[0] == "_":
                graph = "_:a" if graph == node else "_:z"
            lines.append(f"{subject} {predicate} {obj} {graph} .\n")
        lines.sort()
        found = self.first_degree[node] = self.hash("".join(lines))
        return found

    def hash_related(self, related: str, quad: Quad, issuer: _Issuer, position: str) -> str:
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        if identifier is None:
            identifier = self.hash_first_degree(related)
        text = position
        if position != "g":
            text += quad[1]
        return self.hash(text + identifier)

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        self.spend(len(self.quads_of[node]))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise CanonicalizationError(
                "RDF canonicalization exceeded its depth limit: the data chains too many blank "
                "nodes that look alike")
        related_by_hash: dict[str, list[str]] = defaultdict(list)
        for quad in self.quads_of[node]:
            for position, term in (("s", quad[0]), ("o", quad[2]), ("g", quad[3])):
                if term and term[0] == "_" and term != node:
                    related_by_hash[self.hash_related(term, quad, issuer, position)].append(term)
        data = []
        for related_hash in sorted(related_by_hash):
            data.append(related_hash)
            chosen_path = ""
            chosen_issuer = None
            for permutation in permutations(related_by_hash[related_hash]):
                self.spend(1)
                issuer_copy = issuer.copy()
                path = ""
                recursion = []
                skip = False
                for related in permutation:
                    label = self.canonical.issued.get(related)
                    if label is not None:
                        path += label
                    else:
                        if related not in issuer_copy.issued:
                            recursion.append(related)
                        path += issuer_copy.issue(related)
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                for related in recursion:
                    result_hash, result_issuer = self.hash_n_degree(related, issuer_copy)
                    path += issuer_copy.issue(related) + "<" + result_hash + ">"
                    issuer_copy = result_issuer
                    if chosen_path and len(path) >= len(chosen_path) and path > chosen_path:
                        skip = True
                        break
                if skip:
                    continue
                if not chosen_path or path < chosen_path:
                    chosen_path = path
                    chosen_issuer = issuer_copy
            data.append(chosen_path)
            assert chosen_issuer is not None, "the first permutation is never skipped"
            issuer = chosen_issuer
        self.depth -= 1
        return self.hash("".join(data)), issuer

    def labels(self) -> dict[str, str]:
        """The canonical label of every blank node."""
        by_hash: dict[str, list[str]] = defaultdict(list)
        for node in self.quads_of:
            by_hash[self.hash_first_degree(node)].append(node)
        shared = []
        for hash_ in sorted(by_hash):
            nodes = by_hash[hash_]
            if len(nodes) == 1:
                self.canonical.issue(nodes[0])
            else:
                shared.append(nodes)
        for nodes in shared:
            results = []
            for node in nodes:
                if node in self.canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.issue(node)
                results.append(self.hash_n_degree(node, temporary))
            results.sort(key=lambda result: result[0])
            for _, issuer in results:
                for existing in issuer.issued:
                    self.canonical.issue(existing)
        return self.canonical.issued

    def serialise(self, quads: list[Quad]) -> str:
        """Canonical N-Quads of distinct `quads`, blank nodes relabelled (relabelling is one to
        one, so the lines are distinct too)."""
        labels = self.labels()
        lines = []
        for subject, predicate, obj, graph in quads:
            if subject[0] == "_":
                subject = labels[subject]
            if obj[0] == "_":
                obj = labels[obj]
            if not graph:
                lines.append(f"{subject} {predicate} {obj} .\n")
                continue
            if graph[0] == "_":
                graph = labels[graph]
            lines.append(f"{subject} {predicate} {obj} {graph} .\n")
        lines.sort()
        return "".join(lines)


Slot = str | int
# Quads of one predicate beyond which `Pattern` checks all its lines for duplicates rather than
# the pairs that could become equal (which grow as the square).
RISKY_GROUP = 64
_Recipe = tuple[int, str, int, int]


class Pattern:
    """RDFC-1.0 (SHA-256) for the datasets of one quad pattern: quads whose terms are text or
    the numbers of holes, each dataset filling the holes with IRIs or literals (never blank
    nodes).

    What the holes cannot change is worked out once: the blank nodes and the quads that touch
    each, and every line (first-degree and output) as a recipe `a + b + c + d` over a table of
    the hole terms, the fixed terms and, for output, the canonical labels. `canonical(terms)` is
    the canonical N-Quads when the filled quads are distinct and every first-degree hash
    differs, the case where RDFC-1.0 labels each blank node by its hash's rank; otherwise None,
    and the caller canonicalises the filled quads in full.
    """

    __slots__ = ("constants", "first_degree", "graphs", "hashed", "nodes", "recipes", "risky",
                 "usable")

    def __init__(self, quads: list[tuple[Slot, Slot, Slot, Slot]], holes: int) -> None:
        nodes: dict[str, int] = {}
        for subject, _, obj, graph in quads:
            for term in (subject, obj, graph):
                if _blank(term):
                    nodes.setdefault(str(term), len(nodes))
        self.nodes = len(nodes)
        self.usable = len(set(quads)) == len(quads) and all(
            type(predicate) is str and type(graph) is str for _, predicate, _, graph in quads)
        constants: dict[str, int] = {}

        def slot(term: Slot) -> int:
            """A hole's number, or the table index of fixed text."""
            if type(term) is int:
                return term
            return holes + constants.setdefault(str(term), len(constants))

        def tail(graph: Slot) -> str:
            return f" {graph} .\n" if graph else " .\n"

        self.graphs = any(_blank(graph) for _, _, _, graph in quads)
        self.first_degree: list[tuple[Callable[[Sequence[Any]], tuple[Any, ...]],
                                      list[_Recipe]]] = []
        for node in nodes:
            recipes = [(slot(_local(subject, node)), f" {predicate} ", slot(_local(obj, node)),
                        slot(tail(_local(graph, node))))
                       for subject, predicate, obj, graph in quads
                       if node in (subject, obj, graph)]
            used = sorted({index for a, _, c, d in recipes for index in (a, c, d)
                           if index < holes})
            self.first_degree.append((picker(used), recipes))
        # Each node's last first-degree hash and the hole terms it was made from.
        self.hashed: list[tuple[tuple[str, ...], str]] = [((), "")] * len(nodes)
        # Labels and graph tails go after the fixed text: -1 - n is node n's label and
        # -1 - len(nodes) - n its tail until the fixed text is counted.
        output = []
        for subject, predicate, obj, graph in quads:
            output.append((
                -1 - nodes[str(subject)] if _blank(subject) else slot(subject),
                f" {predicate} ",
                -1 - nodes[str(obj)] if _blank(obj) else slot(obj),
                -1 - len(nodes) - nodes[str(graph)] if _blank(graph) else slot(tail(graph))))
        self.constants = list(constants)
        offset = holes + len(constants) - 1
        self.recipes = [(a if a >= 0 else offset - a, b, c if c >= 0 else offset - c,
                         d if d >= 0 else offset - d) for a, b, c, d in output]
        # Two lines can come out equal (two quads become one) only where every slot is either
        # the same fixed text in both or filled per dataset in one of them; None: check all.
        fixed = range(holes, holes + len(constants))
        by_predicate: dict[str, list[int]] = defaultdict(list)
        for position, recipe in enumerate(self.recipes):
            by_predicate[recipe[1]].append(position)
        self.risky: list[tuple[int, int]] | None = []
        for positions in by_predicate.values():
            if len(positions) > RISKY_GROUP:
                self.risky = None
                break
            self.risky += [
                (first, second) for index, first in enumerate(positions)
                for second in positions[index + 1:]
                if all(x == y or x not in fixed or y not in fixed
                       for x, y in zip(self.recipes[first], self.recipes[second], strict=True))]

    def canonical(self, terms: list[str]) -> str | None:
        """Canonical N-Quads of the pattern with `terms` in its holes, or None (see above)."""
        if not self.usable:
            return None
        table = terms + self.constants
        hashes = []
        for node, (used, recipes) in enumerate(self.first_degree):
            key = used(terms)
            last, found = self.hashed[node]
            if key != last or not found:
                lines = [table[a] + b + table[c] + table[d] for a, b, c, d in recipes]
                lines.sort()
                found = hashlib.sha256("".join(lines).encode("utf-8")).hexdigest()
                self.hashed[node] = (key, found)
            hashes.append(found)
        if len(set(hashes)) != self.nodes:
            return None
        labels = [""] * self.nodes
        for rank, node in enumerate(sorted(range(self.nodes), key=hashes.__getitem__)):
            labels[node] = _LABELS[rank] if rank < len(_LABELS) else f"_:c14n{rank}"
        table += labels
        if self.graphs:
            table += [f" {label} .\n" for label in labels]
        lines = [table[a] + b + table[c] + table[d] for a, b, c, d in self.recipes]
        if self.risky is None:
            if len(set(lines)) != len(lines):
                return None
        else:
            for first, second in self.risky:
                if lines[first] == lines[second]:
                    return None
        lines.sort()
        return "".join(lines)


_LABELS = tuple(f"_:c14n{rank}" for rank in range(64))


def picker(indexes: Sequence[int]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function taking the items at `indexes` out of a sequence, as a tuple."""
    if not indexes:
        return lambda items: ()
    if len(indexes) == 1:
        (index,) = indexes
        return lambda items: (items[index],)
    return operator.itemgetter(*indexes)


def _blank(term: Slot) -> bool:
    return type(term) is str and term[:1] == "_"


def _local(term: Slot, node: str) -> Slot:
    """A term as a first-degree hash of `node` writes it (`_:a` for the node, `_:z` for
    another blank node)."""
    if _blank(term):
        return "_:a" if term == node else "_:z"
    return term


def canonicalize(quads: list[Quad], *, hash_algorithm: str = "SHA256") -> str:
    """Canonical N-Quads of a dataset given as (possibly repeated) quads."""
    unique = list(dict.fromkeys(quads))
    return _Canonicalizer(unique, _digest(hash_algorithm)).serialise(unique)


def canonical_labels(quads: list[Quad], *, hash_algorithm: str = "SHA256") -> dict[str, str]:
    """The issued identifiers map: each blank node of the dataset to its canonical label."""
    unique = list(dict.fromkeys(quads))
    return dict(_Canonicalizer(unique, _digest(hash_algorithm)).labels())


def _digest(hash_algorithm: str) -> Callable[[bytes], _HashObject]:
    """The hash function named by `hash_algorithm`."""
    digest = HASH_ALGORITHMS.get(hash_algorithm)
    if digest is None:
        raise CanonicalizationError(
            f"RDF canonicalization supports the hash algorithms {', '.join(HASH_ALGORITHMS)}")
    return digest
