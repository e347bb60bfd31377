"""JSON-LD 1.1 to RDF quads for the JSON-LD subset our bundled contexts use.

Covers: remote (loader-served) and inline contexts, `@protected`, `@vocab`, compact IRIs,
keyword aliases, type coercion (`@id`, `@vocab`, datatypes), `@set`/`@list`/`@graph`
containers, property- and type-scoped contexts with JSON-LD 1.1 propagation rules, value
objects with `@type`/`@language`. Anything else raises `Unsupported` so the caller can fall
back to a full processor. Expansion is *safe*: a key that would be dropped (undefined term) or an
IRI that would be relative raises CanonicalizationError instead of silently losing data.

Quads are tuples of N-Quads terms `(subject, predicate, object, graph)`; `graph` is "" for the
default graph and blank nodes are `_:`-prefixed labels local to one conversion.
"""

import math
import re
from typing import Any

from credentials.errors import CanonicalizationError
from credentials.jsontypes import JsonObject, Loader

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = "<" + RDF + "type>"
RDF_FIRST = "<" + RDF + "first>"
RDF_REST = "<" + RDF + "rest>"
RDF_NIL = "<" + RDF + "nil>"
RDF_JSON = RDF + "JSON"

Quad = tuple[str, str, str, str]
_ContextKey = tuple[object, bool, bool, Loader]

_CONTAINERS = frozenset({"@set", "@list", "@graph"})
_TERM_KEYS = frozenset({"@id", "@type", "@container", "@context", "@protected", "@prefix"})
_CONTEXT_KEYS = frozenset({"@version", "@protected", "@vocab", "@propagate"})
_GEN_DELIMS = frozenset(":/?#[]@")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")
_LANGUAGE = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_KEYWORDS = frozenset(
    {
        "@base", "@container", "@context", "@direction", "@graph", "@id", "@import",
        "@included", "@index", "@json", "@language", "@list", "@nest", "@none", "@prefix",
        "@propagate", "@protected", "@reverse", "@set", "@type", "@value", "@version", "@vocab",
    }
)


class Unsupported(Exception):
    """The document uses a JSON-LD feature outside this module's subset."""


class Term:
    """One term definition of an active context."""

    __slots__ = ("container", "context", "iri", "prefix", "protected", "type")

    def __init__(self, iri: str | None, type_: str | None, container: frozenset[str],
                 context: Any, protected: bool, prefix: bool) -> None:
        self.iri = iri
        self.type = type_
        self.container = container
        self.context = context
        self.protected = protected
        self.prefix = prefix

    def same_as(self, other: "Term") -> bool:
        """Equal definitions, ignoring the protected flag."""
        return (
            self.iri == other.iri
            and self.type == other.type
            and self.container == other.container
            and self.context == other.context
            and self.prefix == other.prefix
        )


class Context:
    """An immutable active context; processed children are memoised per local context."""

    __slots__ = ("children", "previous", "terms", "vocab")

    def __init__(self, terms: dict[str, Term], vocab: str | None,
                 previous: "Context | None") -> None:
        self.terms = terms
        self.vocab = vocab
        self.previous = previous
        self.children: dict[_ContextKey, tuple[Any, Context]] = {}


EMPTY = Context({}, None, None)


def to_quads(document: Any, loader: Loader) -> list[Quad]:
    """Convert a JSON-LD document to a list of quads (duplicates possible)."""
    return _Converter(loader).run(document)


def _check_iri(iri: str, where: str) -> str:
    if not _ABSOLUTE.match(iri):
        raise CanonicalizationError(f"{where}: {iri!r} is not an absolute IRI")
    return iri


def canonical_double(value: float) -> str:
    """The canonical xsd:double lexical form used by JSON-LD to RDF (`1.5E0`)."""
    if not math.isfinite(value):
        raise CanonicalizationError(f"number {value!r} is not finite")
    mantissa, _, exponent = f"{value:.15E}".partition("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


def escape_literal(value: str) -> str:
    """Escape a literal's lexical form for canonical N-Quads."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NEEDS_ESCAPE.sub(_escape_char, value)


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')
_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def literal(lexical: str, datatype: str | None = None, language: str | None = None) -> str:
    """An N-Quads literal term."""
    text = '"' + escape_literal(lexical) + '"'
    if language is not None:
        return text + "@" + language
    if datatype is None or datatype == XSD_STRING:
        return text
    return text + "^^<" + datatype + ">"


class _Converter:
    __slots__ = ("blank", "labels", "loader", "quads")

    def __init__(self, loader: Loader) -> None:
        self.loader = loader
        self.quads: list[Quad] = []
        self.blank = 0
        self.labels: dict[str, str] = {}

    def run(self, document: Any) -> list[Quad]:
        for item in document if isinstance(document, list) else [document]:
            if not isinstance(item, dict):
                raise CanonicalizationError("a JSON-LD document must be an object or array")
            self.node(EMPTY, item, "")
        return self.quads

    # --- contexts -------------------------------------------------------------------------

    def process(self, active: Context, local: Any, override: bool = False,
                propagate: bool = True) -> Context:
        key = (id(local) if isinstance(local, dict | list) else local, override, propagate,
               self.loader)
        cacheable = not isinstance(local, dict | list) or _is_shared(local)
        if cacheable:
            found = active.children.get(key)
            if found is not None and (found[0] is local or isinstance(local, str)):
                return found[1]
        result = self._process(active, local, override, propagate)
        if cacheable:
            active.children[key] = (local, result)
        return result

    def _process(self, active: Context, local: Any, override: bool, propagate: bool) -> Context:
        if isinstance(local, dict) and "@propagate" in local:
            propagate = local["@propagate"]
            if not isinstance(propagate, bool):
                raise CanonicalizationError("@propagate must be true or false")
        previous = active.previous
        if not propagate and previous is None:
            previous = active
        result = active
        for entry in local if isinstance(local, list) else [local]:
            if entry is None:
                raise Unsupported("null context")
            if isinstance(entry, str):
                document = self.loader(entry)
                if not isinstance(document, dict) or "@context" not in document:
                    raise CanonicalizationError(f"context {entry!r} has no @context")
                result = self.process(result, document["@context"], override, True)
                continue
            if not isinstance(entry, dict):
                raise CanonicalizationError("a context must be a URL, an object or an array")
            result = self._definitions(result, entry, override)
        if result.previous is not previous:
            result = Context(result.terms, result.vocab, previous)
        return result

    def _definitions(self, active: Context, local: JsonObject, override: bool) -> Context:
        for key in local:
            if key.startswith("@") and key not in _CONTEXT_KEYS:
                raise Unsupported(f"context keyword {key}")
        if local.get("@version", 1.1) != 1.1:
            raise CanonicalizationError("@version must be 1.1")
        terms = dict(active.terms)
        vocab = active.vocab
        if "@vocab" in local:
            vocab = local["@vocab"]
            if vocab is not None and (not isinstance(vocab, str) or not _ABSOLUTE.match(vocab)):
                raise Unsupported("relative or compact @vocab")
        protected = local.get("@protected", False)
        builder = _Definitions(local, terms, vocab, protected, override)
        for term in local:
            if not term.startswith("@"):
                builder.define(term)
        return Context(terms, vocab, active.previous)

    # --- IRIs -----------------------------------------------------------------------------

    @staticmethod
    def expand(active: Context, value: str, vocab: bool, where: str) -> str:
        if value.startswith("@"):
            if value in _KEYWORDS:
                return value
            raise Unsupported(f"keyword-like value {value}")
        if vocab:
            term = active.terms.get(value)
            if term is not None:
                if term.iri is None:
                    raise CanonicalizationError(f"{where}: term {value!r} is explicitly undefined")
                return term.iri
        prefix, colon, suffix = value.partition(":")
        if colon:
            if prefix == "_" or suffix.startswith("//"):
                return value
            term = active.terms.get(prefix)
            if term is not None and term.prefix and term.iri is not None:
                return term.iri + suffix
            return _check_iri(value, where)
        if vocab and active.vocab is not None:
            return active.vocab + value
        if vocab:
            raise CanonicalizationError(f"{where}: {value!r} is not defined by the @context")
        raise CanonicalizationError(f"{where}: {value!r} is a relative IRI and there is no base")

    # --- nodes ----------------------------------------------------------------------------

    def new_blank(self) -> str:
        self.blank += 1
        return f"_:b{self.blank}"

    def blank_label(self, label: str) -> str:
        found = self.labels.get(label)
        if found is None:
            found = self.labels[label] = self.new_blank()
        return found

    def node(self, active: Context, element: JsonObject, graph: str, scoped: Any = None) -> str:
        """Emit a node object's quads in `graph`; return its subject term."""
        if active.previous is not None and not _only_id(active, element):
            active = active.previous
        if scoped is not None:
            active = self.process(active, scoped, override=True)
        if "@context" in element:
            active = self.process(active, element["@context"])
        type_scoped = active
        types = []
        for key, value in element.items():
            if key == "@type" or _alias(active, key) == "@type":
                for item in value if isinstance(value, list) else [value]:
                    if not isinstance(item, str):
                        raise CanonicalizationError(f"{key}: type values must be strings")
                    types.append(item)
        for value in sorted(types):
            term = type_scoped.terms.get(value)
            if term is not None and term.context is not None:
                active = self.process(active, term.context, propagate=False)
        keys = {}
        for key in element:
            if key != "@context":
                keys[key] = key if key.startswith("@") else self.expand(active, key, True, key)
        subject = None
        for key, iri in keys.items():
            if iri == "@id":
                value = element[key]
                if not isinstance(value, str):
                    raise CanonicalizationError(f"{key}: node identifiers must be strings")
                subject = self.reference(active, value, key)
        if subject is None:
            subject = self.new_blank()
        for key, iri in keys.items():
            value = element[key]
            if iri == "@id":
                continue
            if iri == "@type":
                for item in value if isinstance(value, list) else [value]:
                    type_iri = _check_iri(self.expand(type_scoped, item, True, key), key)
                    self.quads.append((subject, RDF_TYPE, "<" + type_iri + ">", graph))
                continue
            if iri.startswith("@"):
                raise Unsupported(f"keyword {iri} in a node object")
            if iri.startswith("_:"):
                raise Unsupported("blank node predicate")
            predicate = "<" + _check_iri(iri, key) + ">"
            self.property(active, key, subject, predicate, value, graph)
        return subject

    def reference(self, active: Context, value: str, where: str) -> str:
        return self.iri_term(self.expand(active, value, False, where), where)

    def iri_term(self, iri: str, where: str) -> str:
        if iri.startswith("_:"):
            return self.blank_label(iri)
        return "<" + _check_iri(iri, where) + ">"

    def property(self, active: Context, key: str, subject: str, predicate: str, value: Any,
                 graph: str) -> None:
        term = active.terms.get(key)
        scoped = term.context if term is not None else None
        container = term.container if term is not None else frozenset()
        items = value if isinstance(value, list) else [value]
        quads = self.quads
        if term is not None and term.type == "@json":
            quads.append((subject, predicate, _json_literal(value, key), graph))
            return
        if "@list" in container:
            if not isinstance(value, list):
                items = [value]
            head = self.list(active, term, key, items, graph, scoped)
            quads.append((subject, predicate, head, graph))
            return
        if "@graph" in container:
            for item in items:
                if item is None:
                    continue
                if not isinstance(item, dict) or _is_value(active, item):
                    raise Unsupported("non-node value in a @graph container")
                name = self.new_blank()
                self.node(active, item, name, scoped=scoped)
                quads.append((subject, predicate, name, graph))
            return
        for item in items:
            obj = self.value(active, term, key, item, graph, scoped)
            if obj is not None:
                quads.append((subject, predicate, obj, graph))

    def list(self, active: Context, term: Term | None, key: str, items: list[Any], graph: str,
             scoped: Any) -> str:
        objects = []
        for item in items:
            if isinstance(item, list):
                raise Unsupported("list of lists")
            obj = self.value(active, term, key, item, graph, scoped)
            if obj is not None:
                objects.append(obj)
        head = RDF_NIL
        for obj in reversed(objects):
            cell = self.new_blank()
            self.quads.append((cell, RDF_FIRST, obj, graph))
            self.quads.append((cell, RDF_REST, head, graph))
            head = cell
        return head

    def value(self, active: Context, term: Term | None, key: str, item: Any, graph: str,
              scoped: Any) -> str | None:
        if item is None:
            return None
        if isinstance(item, dict):
            if _is_value(active, item):
                return self.value_object(active, item, key)
            return self.node(active, item, graph, scoped=scoped)
        if isinstance(item, list):
            raise Unsupported("nested array")
        if scoped is not None:
            active = self.process(active, scoped, override=True)
            term = active.terms.get(key)
        coerce = term.type if term is not None else None
        if isinstance(item, str):
            if coerce == "@id":
                return self.reference(active, item, key)
            if coerce == "@vocab":
                return self.iri_term(self.expand(active, item, True, key), key)
            return literal(item, coerce)
        if coerce in ("@id", "@vocab"):
            coerce = None
        return _native(item, coerce, key)

    def value_object(self, active: Context, item: JsonObject, key: str) -> str | None:
        value = language = datatype = None
        for entry, content in item.items():
            iri = entry if entry.startswith("@") else self.expand(active, entry, True, key)
            if iri == "@value":
                value = content
            elif iri == "@language":
                language = content
            elif iri == "@type":
                datatype = content
            else:
                raise Unsupported(f"{iri} in a value object")
        if value is None:
            return None
        if language is not None:
            if datatype is not None or not isinstance(value, str):
                raise CanonicalizationError(f"{key}: a language-tagged value must be a string")
            if not isinstance(language, str) or not _LANGUAGE.match(language):
                raise CanonicalizationError(f"{key}: {language!r} is not a language tag")
            return literal(value, language=language.lower())
        if datatype is not None:
            if not isinstance(datatype, str):
                raise CanonicalizationError(f"{key}: @type of a value must be a string")
            datatype = _check_iri(self.expand(active, datatype, True, key), key)
        if isinstance(value, str):
            return literal(value, datatype)
        if isinstance(value, dict | list):
            raise CanonicalizationError(f"{key}: @value must be a string, number or boolean")
        return _native(value, datatype, key)


def _json_literal(value: Any, key: str) -> str:
    from credentials.canon import jcs

    return literal(jcs(value).decode("utf-8"), RDF_JSON)


def _native(item: Any, datatype: str | None, key: str) -> str:
    if isinstance(item, bool):
        return literal("true" if item else "false", datatype or XSD_BOOLEAN)
    if isinstance(item, int):
        if datatype == XSD_DOUBLE or abs(item) >= 10**21:
            return literal(canonical_double(float(item)), datatype or XSD_DOUBLE)
        return literal(str(item), datatype or XSD_INTEGER)
    if isinstance(item, float):
        if datatype == XSD_DOUBLE or not item.is_integer() or abs(item) >= 1e21:
            return literal(canonical_double(item), datatype or XSD_DOUBLE)
        return literal(str(int(item)), datatype or XSD_INTEGER)
    raise CanonicalizationError(f"{key}: unsupported JSON value {type(item).__name__}")


def _is_value(active: Context, item: JsonObject) -> bool:
    for key in item:
        if key == "@value":
            return True
        term = active.terms.get(key)
        if term is not None and term.iri == "@value":
            return True
    return False


def _alias(active: Context, key: str) -> str | None:
    term = active.terms.get(key)
    return term.iri if term is not None else None


def _only_id(active: Context, element: JsonObject) -> bool:
    if len(element) != 1:
        return False
    (key,) = element
    if key == "@id":
        return True
    term = active.terms.get(key)
    return term is not None and term.iri == "@id"


_SHARED: set[int] = set()


def share(context: Any) -> None:
    """Mark a parsed context (and its scoped contexts) as long-lived so it can be memoised."""
    _SHARED.add(id(context))
    if isinstance(context, dict):
        for value in context.values():
            if isinstance(value, dict | list):
                share(value)
    elif isinstance(context, list):
        for value in context:
            share(value)


def _is_shared(local: Any) -> bool:
    return id(local) in _SHARED


class _Definitions:
    """Create Term Definition (JSON-LD 1.1 §4.2.2) over one local context."""

    __slots__ = ("defined", "local", "override", "protected", "terms", "vocab")

    def __init__(self, local: JsonObject, terms: dict[str, Term], vocab: str | None,
                 protected: bool, override: bool) -> None:
        self.local = local
        self.terms = terms
        self.vocab = vocab
        self.protected = protected
        self.override = override
        self.defined: dict[str, bool] = {}

    def define(self, term: str) -> None:
        state = self.defined.get(term)
        if state is True:
            return
        if state is False:
            raise CanonicalizationError(f"cyclic IRI mapping for term {term!r}")
        self.defined[term] = False
        value = self.local[term]
        previous = self.terms.pop(term, None)
        simple = isinstance(value, str)
        if value is None:
            value = {"@id": None}
        elif simple:
            value = {"@id": value}
        elif not isinstance(value, dict):
            raise CanonicalizationError(f"term {term!r} has an invalid definition")
        for key in value:
            if key not in _TERM_KEYS:
                raise Unsupported(f"{key} in term definition")
        protected = value.get("@protected", self.protected)
        type_ = value.get("@type")
        if type_ is not None:
            if not isinstance(type_, str):
                raise CanonicalizationError(f"term {term!r} has an invalid @type")
            type_ = self.iri(type_, vocab=True)
            if type_ == "@none":
                raise Unsupported(f"{type_} type mapping")
            if type_ not in ("@id", "@vocab", "@json") and type_.startswith(("@", "_:")):
                raise CanonicalizationError(f"term {term!r} has an invalid @type")
        prefix = False
        if "@id" in value and value["@id"] != term:
            raw = value["@id"]
            if raw is None:
                iri = None
            else:
                if not isinstance(raw, str):
                    raise CanonicalizationError(f"term {term!r} has an invalid @id")
                iri = self.iri(raw, vocab=True)
                if iri.startswith("@") and iri not in ("@id", "@type", "@value", "@graph"):
                    raise Unsupported(f"alias of {iri}")
                if simple and ":" not in term and "/" not in term:
                    prefix = iri[-1] in _GEN_DELIMS or iri.startswith("_:")
        elif ":" in term[1:]:
            head, _, suffix = term.partition(":")
            if head in self.local:
                self.define(head)
            found = self.terms.get(head)
            iri = found.iri + suffix if found is not None and found.prefix and found.iri else term
        elif "/" in term:
            raise Unsupported("relative IRI term")
        elif self.vocab is not None:
            iri = self.vocab + term
        else:
            raise CanonicalizationError(f"term {term!r} has no IRI and there is no @vocab")
        if "@prefix" in value:
            prefix = value["@prefix"]
            if not isinstance(prefix, bool):
                raise CanonicalizationError(f"term {term!r} has an invalid @prefix")
        container = value.get("@container")
        if container is None:
            container = frozenset()
        else:
            container = frozenset(container if isinstance(container, list) else [container])
            if not container <= _CONTAINERS or ("@list" in container and len(container) > 1):
                raise Unsupported(f"container {sorted(container)}")
        definition = Term(iri, type_, container, value.get("@context"), protected, prefix)
        if previous is not None and previous.protected and not self.override:
            if not previous.same_as(definition):
                raise CanonicalizationError(f"protected term {term!r} cannot be redefined")
            definition = previous
        self.terms[term] = definition
        self.defined[term] = True

    def iri(self, value: str, vocab: bool) -> str:
        if value.startswith("@"):
            return value
        if value in self.local and self.defined.get(value) is not True:
            self.define(value)
        if vocab and value in self.terms:
            found = self.terms[value].iri
            if found is None:
                raise CanonicalizationError(f"term {value!r} is explicitly undefined")
            return found
        head, colon, suffix = value.partition(":")
        if colon:
            if head == "_" or suffix.startswith("//"):
                return value
            if head in self.local and self.defined.get(head) is not True:
                self.define(head)
            prefix = self.terms.get(head)
            if prefix is not None and prefix.prefix and prefix.iri is not None:
                return prefix.iri + suffix
            return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        raise Unsupported(f"relative IRI {value!r} in a context")
