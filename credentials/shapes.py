"""JSON-LD to RDF conversion cached per document shape, for credentials that share a structure.

A document is read as a *shape* (every object's member names in order, every array's length,
the type of every value) and its *values* (`shape_of`). The first document of a shape is
converted by the full converter (`jsonld`) with each string and number wrapped so the
converter's two leaf hooks see where it came from: `identifier` (a node's `@id`) and `scalar`
(a string or number under its term's coercion). A leaf that reaches a hook and yields an IRI or
a literal becomes a *hole*: the quads are kept as a template with a placeholder where its term
went, and the hook's arguments (active context, term, member name) are kept to recompute it.
Every other leaf (`@context`, `@type`, value objects, `@json` values, booleans and null, a value
that yields a blank node) is *fixed*: the template serves only documents whose fixed leaves are
equal to the first's (floats to the sign).

Why the template is exact: the converter reads a leaf only through those hooks or through code
outside them; outside them it sees only the shape and the fixed leaves, which are equal, so it
takes the same steps and emits the same quads and blank nodes; inside them it only computes a
term, with no effect on the converter unless the term is a blank node (then the leaf is fixed).
So filling each hole with its hook's result for the new leaf gives the full converter's quads.
A hole whose hook raises or yields a blank node, a first document whose conversion raises, and
a document holding anything but JSON's objects, arrays, strings, numbers, booleans and null take
the full path, which raises the converter's own error or converts it.

The cache is an LRU of MAX_SHAPES shapes with at most VARIANTS templates each (fixed leaves that
differ, e.g. another `type`), of documents of at most MAX_VALUES values (larger ones, such as a
CLR of many credentials, are converted in full), guarded by a lock (a new one in a forked
child). A template does not change once made except for its hooks' and its `rdfc.Pattern`'s
memory of their last input, each kept as one tuple, so threads share it.
"""

import functools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from credentials import jsonld
from credentials.jsontypes import Loader
from credentials.rdfc import Pattern, Quad, canonicalize, picker

MAX_SHAPES = 256
VARIANTS = 4
MAX_VALUES = 5_000

Shape = tuple[object, ...]
_Patch = tuple[int, int, int, int, int]
_LEAVES = frozenset({str, int, float, bool, type(None)})


class _Text(str):
    """A string leaf that remembers its index while the first document of a shape converts."""

    leaf: int


class _Integer(int):
    """An integer leaf that remembers its index."""

    leaf: int


class _Float(float):
    """A float leaf that remembers its index."""

    leaf: int


_WRAPPERS: dict[type, type[_Text] | type[_Integer] | type[_Float]] = {
    str: _Text, int: _Integer, float: _Float,
}


class _Uncacheable(Exception):
    """The document holds something other than JSON's objects, arrays, strings, numbers,
    booleans and null."""


def shape_of(document: Any) -> tuple[Shape, list[Any]]:
    """The document's shape and its values; `_Uncacheable` if it has none.

    The values are every member of every object and item of every array, an object's or
    array's all together when it is reached, objects and arrays reached in document order
    after their parent's values. The shape is a prefix code in the same order: each object is
    minus its size and its member names, each array its length, either followed by its values'
    types.
    """
    tokens: list[object] = []
    values: list[Any] = []
    _walk(document, tokens, values)
    return tuple(tokens), values


def _walk(value: Any, tokens: list[object], values: list[Any]) -> None:
    items: Any
    if type(value) is dict:
        tokens.append(-len(value))
        tokens.extend(value)
        items = value.values()
    elif type(value) is list:
        tokens.append(len(value))
        items = value
    else:
        raise _Uncacheable
    kinds = tuple(map(type, items))
    tokens.extend(kinds)
    values.extend(items)
    if not _LEAVES.issuperset(kinds):
        for item in items:
            if type(item) not in _LEAVES:
                _walk(item, tokens, values)


def _wrapped(value: Any, counter: list[int]) -> Any:
    """A copy of an object or array whose string and number leaves carry their index among
    `shape_of`'s values."""
    items = list(value.values()) if type(value) is dict else list(value)
    start = counter[0]
    counter[0] += len(items)
    copies = []
    for offset, item in enumerate(items):
        wrapper = _WRAPPERS.get(type(item))
        if wrapper is not None:
            item = wrapper(item)
            item.leaf = start + offset
        copies.append(item)
    for offset, item in enumerate(items):
        if type(item) is dict or type(item) is list:
            copies[offset] = _wrapped(item, counter)
    if type(value) is dict:
        return dict(zip(value, copies, strict=True))
    return copies


# A hole: its value's index, the hook and its other arguments, and the hook's last value and
# term (the term is a function of the value: equal values of one type, floats to the sign,
# give one term).
_Hole = tuple[int, Callable[..., str], tuple[Any, ...], list[tuple[Any, str]]]


class _Recorder(jsonld._Converter):
    """The full converter, noting which leaves reach a hook and swapping their terms for
    placeholders; `spare`, a converter of the same settings, is where the hooks run later (only
    a blank node term, which never fills a hole, changes its state)."""

    __slots__ = ("holes", "literals", "spare")

    def __init__(self, loader: Loader, compacted: bool, base: str | None) -> None:
        super().__init__(loader, compacted, base)
        self.literals: list[tuple[int, str | None]] = []
        self.holes: list[_Hole] = []
        self.spare = jsonld._Converter(loader, compacted, base)

    def identifier(self, active: jsonld.Context, value: str, key: str) -> str:
        term = super().identifier(active, value, key)
        return self.hole(value, term, functools.partial(self.spare.identifier, active), (key,))

    def scalar(self, active: jsonld.Context, term: jsonld.Term | None, key: str,
               item: Any) -> str:
        obj = super().scalar(active, term, key, item)
        coerce = term.type if term is not None else None
        if type(item) is _Text and coerce not in _COERCIONS:
            self.literals.append((item.leaf, coerce))
            return _placeholder(f"L{len(self.literals) - 1}")
        return self.hole(item, obj, functools.partial(self.spare.scalar, active, term, key), ())

    def hole(self, leaf: Any, term: str, hook: Callable[..., str],
             arguments: tuple[Any, ...]) -> str:
        """A placeholder for `term`, or `term` itself when the leaf must stay fixed."""
        index = getattr(leaf, "leaf", None)
        if index is None or term[:1] == "_":
            return term
        self.holes.append((index, hook, arguments, [(_NOTHING, "")]))
        return _placeholder(len(self.holes) - 1)


_NOTHING = object()

# The coercions for which `jsonld._Converter.scalar` does not write a string as
# `literal(item, coerce)`; under any other, a string leaf is a literal hole.
_COERCIONS = frozenset({"@id", "@vocab", "@json"})


def _placeholder(number: int | str) -> str:
    """A term no conversion emits (N-Quads terms start with `<`, `"` or `_`)."""
    return f"\0{number}"


class Template:
    """The quads of one shape with holes, and the fixed leaves it serves.

    Holes are numbered literals first (`literal(value, datatype)` of a string leaf, the values
    escaped in one go), then the others (a hook per hole).
    """

    __slots__ = ("constants", "fixed", "fixed_floats", "fixed_values", "holes",
                 "literals", "patches", "pattern", "pick_fixed", "pick_literals", "quads",
                 "suffixes")

    def __init__(self, recorder: _Recorder, quads: list[Quad], leaves: list[Any]) -> None:
        self.literals = tuple(leaf for leaf, _ in recorder.literals)
        self.suffixes = tuple('"' + jsonld.datatype_suffix(datatype)
                              for _, datatype in recorder.literals)
        self.holes = tuple(recorder.holes)
        hole_leaves = {*self.literals, *(hole[0] for hole in self.holes)}
        self.fixed = tuple(index for index, leaf in enumerate(leaves)
                           if index not in hole_leaves and type(leaf) in _LEAVES)
        self.pick_fixed = picker(self.fixed)
        self.pick_literals = picker(self.literals)
        self.fixed_values = self.pick_fixed(leaves)
        self.fixed_floats = tuple((index, repr(leaves[index])) for index in self.fixed
                                  if type(leaves[index]) is float)
        numbers = {_placeholder(f"L{number}"): number for number in range(len(self.literals))}
        numbers.update({_placeholder(number): len(self.literals) + number
                        for number in range(len(self.holes))})
        constants: dict[str, int] = {}
        patches: list[_Patch] = []
        for position, quad in enumerate(quads):
            if any(term in numbers for term in quad):
                indexes = [numbers[term] if term in numbers
                           else len(numbers) + constants.setdefault(term, len(constants))
                           for term in quad]
                patches.append((position, indexes[0], indexes[1], indexes[2], indexes[3]))
        self.quads = tuple(quads)
        self.constants = list(constants)
        self.patches = tuple(patches)
        self.pattern = Pattern([tuple(numbers.get(term, term) for term in quad)  # type: ignore[misc]
                                for quad in quads], len(numbers))

    def serves(self, leaves: list[Any]) -> bool:
        """Whether the document's fixed leaves are this template's (floats to the sign)."""
        if self.pick_fixed(leaves) != self.fixed_values:
            return False
        return all(repr(leaves[index]) == text for index, text in self.fixed_floats)

    def terms(self, leaves: list[Any]) -> list[str] | None:
        """Each hole's term for the document's leaves; None if one cannot go in a hole."""
        try:
            texts = jsonld.escape_literals(self.pick_literals(leaves))
            terms = list(map(str.__add__, map('"'.__add__, texts), self.suffixes))
            for leaf, hook, arguments, memory in self.holes:
                value = leaves[leaf]
                last, term = memory[0]
                if value != last or type(value) is not type(last) or (
                        type(value) is float and repr(value) != repr(last)):
                    term = hook(value, *arguments)
                    memory[0] = (value, term)
                if term[0] == "_":
                    return None
                terms.append(term)
        except Exception:
            return None
        return terms

    def fill(self, terms: list[str]) -> list[Quad]:
        """The template's quads with `terms` in its holes."""
        quads = list(self.quads)
        table = terms + self.constants
        for position, subject, predicate, obj, graph in self.patches:
            quads[position] = (table[subject], table[predicate], table[obj], table[graph])
        return quads


class ShapeCache:
    """Templates by shape, least recently used dropped first; safe to share between threads."""

    def __init__(self, max_shapes: int = MAX_SHAPES, variants: int = VARIANTS) -> None:
        self.max_shapes = max_shapes
        self.variants = variants
        self.templates: OrderedDict[tuple[Any, ...], list[Template]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = self.misses = 0
        _CACHES.add(self)

    def __len__(self) -> int:
        return len(self.templates)

    def clear(self) -> None:
        """Forget every template."""
        with self.lock:
            self.templates.clear()
            self.hits = self.misses = 0

    def find(self, key: tuple[Any, ...], leaves: list[Any]) -> Template | None:
        """The template of `key` that serves `leaves`, marking the shape recently used, and
        counting a hit or a miss."""
        with self.lock:
            variants = self.templates.get(key)
            if variants is not None:
                self.templates.move_to_end(key)
                for template in variants:
                    if template.serves(leaves):
                        self.hits += 1
                        return template
            self.misses += 1
            return None

    def add(self, key: tuple[Any, ...], template: Template) -> None:
        """Keep `template` for its shape, dropping the oldest variant or shape over the bounds."""
        with self.lock:
            variants = self.templates.get(key)
            if variants is None:
                variants = self.templates[key] = []
            else:
                self.templates.move_to_end(key)
            self.templates[key] = [*variants[-(self.variants - 1):], template] \
                if self.variants > 1 else [template]
            while len(self.templates) > self.max_shapes:
                self.templates.popitem(last=False)


_CACHES: "weakref.WeakSet[ShapeCache]" = weakref.WeakSet()


def _new_locks() -> None:
    """In a forked child: a lock another thread of the parent held would never be released."""
    for cache in _CACHES:
        cache.lock = threading.Lock()


os.register_at_fork(after_in_child=_new_locks)
CACHE = ShapeCache()


def _template(document: Any, loader: Loader, compacted: bool, base: str | None,
              cache: ShapeCache) -> tuple[Template, list[Any]] | None:
    """The document's template and leaves, recording one on a miss; None if it has no shape."""
    try:
        shape, leaves = shape_of(document)
    except (_Uncacheable, RecursionError):
        return None
    if len(leaves) > MAX_VALUES:
        return None
    key = (loader, compacted, base, shape)
    template = cache.find(key, leaves)
    if template is not None:
        return template, leaves
    recorder = _Recorder(loader, compacted, base)
    try:
        recorded = recorder.run(_wrapped(document, [0]))
    except Exception:
        return None
    template = Template(recorder, recorded, leaves)
    cache.add(key, template)
    return template, leaves


def to_quads(document: Any, loader: Loader, *, compacted: bool = False, base: str | None = None,
             cache: ShapeCache = CACHE) -> list[Quad]:
    """`jsonld.to_quads`, answered from the document's shape template when one serves it."""
    found = _template(document, loader, compacted, base, cache)
    if found is not None:
        template, leaves = found
        terms = template.terms(leaves)
        if terms is not None:
            return template.fill(terms)
    return jsonld.to_quads(document, loader, compacted=compacted, base=base)


def canonical(document: Any, loader: Loader, *, compacted: bool = True, base: str | None = None,
              cache: ShapeCache = CACHE) -> str:
    """RDFC-1.0 canonical N-Quads of the document's quads (compacted form unless told), through
    the cache and the template's `rdfc.Pattern` where it applies."""
    found = _template(document, loader, compacted, base, cache)
    if found is not None:
        template, leaves = found
        terms = template.terms(leaves)
        if terms is not None:
            text = template.pattern.canonical(terms)
            return canonicalize(template.fill(terms)) if text is None else text
    return canonicalize(jsonld.to_quads(document, loader, compacted=compacted, base=base))
