"""RDFC-1.0 (RDF Dataset Canonicalization) over quads of N-Quads terms.

First-degree hashes label most blank nodes; ties are broken with the Hash N-Degree Quads
algorithm. Output is canonical N-Quads: one line per unique quad, sorted by code point.
The hash is SHA-256 unless another is asked for (RDFC-1.0 §4.2 allows SHA-384). Poison graphs
(RDFC-1.0 §4.4.1) abort with CanonicalizationError once the Hash N-Degree Quads has done
MAX_WORK units of work (a quad hashed, a permutation tried) or recursed MAX_DEPTH deep.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable
from itertools import permutations
from typing import Protocol

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


def _line(quad: Quad) -> str:
    subject, predicate, obj, graph = quad
    if graph:
        return f"{subject} {predicate} {obj} {graph} .\n"
    return f"{subject} {predicate} {obj} .\n"


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
            if graph and graph[0] == "_":
                graph = "_:a" if graph == node else "_:z"
            lines.append(_line((subject, predicate, obj, graph)))
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
        """Canonical N-Quads of `quads`, blank nodes relabelled."""
        labels = self.labels()
        lines = set()
        for subject, predicate, obj, graph in quads:
            if subject[0] == "_":
                subject = labels[subject]
            if obj[0] == "_":
                obj = labels[obj]
            if graph and graph[0] == "_":
                graph = labels[graph]
            lines.add(_line((subject, predicate, obj, graph)))
        return "".join(sorted(lines))


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
