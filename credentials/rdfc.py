"""RDFC-1.0 (RDF Dataset Canonicalization) over quads of N-Quads terms.

First-degree hashes label most blank nodes; ties are broken with the Hash N-Degree Quads
algorithm. Output is canonical N-Quads: one line per unique quad, sorted by code point.
"""

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from itertools import permutations

from credentials.errors import CanonicalizationError

MAX_DEEP_ITERATIONS = 10_000
Quad = tuple[str, str, str, str]


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


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class _Canonicalizer:
    __slots__ = ("budget", "canonical", "first_degree", "quads_of")

    def __init__(self, quads: list[Quad]) -> None:
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
        self.budget = MAX_DEEP_ITERATIONS

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
        found = self.first_degree[node] = _sha256("".join(lines))
        return found

    def hash_related(self, related: str, quad: Quad, issuer: _Issuer, position: str) -> str:
        identifier = self.canonical.issued.get(related) or issuer.issued.get(related)
        if identifier is None:
            identifier = self.hash_first_degree(related)
        text = position
        if position != "g":
            text += quad[1]
        return _sha256(text + identifier)

    def hash_n_degree(self, node: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        self.budget -= 1
        if self.budget < 0:
            raise CanonicalizationError("RDF canonicalization exceeded its work limit")
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
        return _sha256("".join(data)), issuer

    def run(self, quads: Iterable[Quad]) -> str:
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
        labels = self.canonical.issued
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


def canonicalize(quads: list[Quad]) -> str:
    """Canonical N-Quads of a dataset given as (possibly repeated) quads."""
    unique = list(dict.fromkeys(quads))
    return _Canonicalizer(unique).run(unique)
