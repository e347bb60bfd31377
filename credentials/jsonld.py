"""JSON-LD 1.1 to RDF quads, for the part of JSON-LD that credentials use; the rest is refused.

The conversion follows the JSON-LD 1.1 Expansion and Deserialize JSON-LD to RDF algorithms for:
remote (loader-served) and embedded contexts, null contexts, `@protected`, `@propagate`,
`@vocab`, `@base` and a document base IRI, compact IRIs, keyword aliases, type coercion (`@id`,
`@vocab`, `@json`, datatypes), `@set`/`@list`/`@graph` containers, property- and type-scoped
contexts, and value objects with `@type` or `@language`. It never drops data: where a JSON-LD
processor would ignore something (an undefined term, an unknown `@` keyword, a relative or
malformed IRI), where the specification calls the input an error, and where the document uses a
feature outside this subset, it raises a JsonLdError subclass that names the reason.

`compacted=True` also asks for the compacted form under the document's contexts, so that the
quads, and a signature over them, mean exactly what the JSON says: every member name is a term
(or a keyword no term aliases), no two members of one object mean the same keyword or property,
IRIs are written in full (no prefix abbreviation), types and vocabulary values use the term the
context defines for them, no value object stands where a plain JSON value says the same, and no
member is null.

Quads are tuples of N-Quads terms `(subject, predicate, object, graph)`; `graph` is "" for the
default graph and blank nodes are `_:`-prefixed labels local to one conversion.
"""

import bisect
import functools
import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

from credentials.errors import CanonicalizationError
from credentials.jsontypes import JsonObject, Loader

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
MAX_DOUBLE = int(1.7976931348623157e308)
XSD_DOUBLE = XSD + "double"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = "<" + RDF + "type>"
RDF_FIRST = "<" + RDF + "first>"
RDF_REST = "<" + RDF + "rest>"
RDF_NIL = "<" + RDF + "nil>"
RDF_JSON = RDF + "JSON"
MAX_REMOTE_CONTEXTS = 32

Quad = tuple[str, str, str, str]
_ContextKey = tuple[object, bool, bool, Loader]

_CONTAINERS = frozenset({"@set", "@list", "@graph"})
_TERM_KEYS = frozenset({"@id", "@type", "@container", "@context", "@protected", "@prefix"})
_CONTEXT_KEYS = frozenset({"@base", "@version", "@protected", "@vocab", "@propagate"})
_ALIASABLE = frozenset({"@id", "@type", "@value", "@graph"})
_COERCIONS = frozenset({"@id", "@vocab", "@json"})
_NO_CONTAINER: frozenset[str] = frozenset()
_GEN_DELIMS = frozenset(":/?#[]@")
_IRI_CHAR = r"[^\x00-\x20<>\"{}|\\^`\x7f-\x9f\ud800-\udfff#]"
_ABSOLUTE = re.compile(rf"[A-Za-z][A-Za-z0-9+.-]*:{_IRI_CHAR}*(?:#{_IRI_CHAR}*)?")
_KEYWORD_FORM = re.compile(r"@[A-Za-z]+")
_LANGUAGE = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
_REFERENCE = re.compile(r"(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?", re.S)
_KEYWORDS = frozenset(
    {
        "@base", "@container", "@context", "@direction", "@graph", "@id", "@import",
        "@included", "@index", "@json", "@language", "@list", "@nest", "@none", "@prefix",
        "@propagate", "@protected", "@reverse", "@set", "@type", "@value", "@version", "@vocab",
    }
)


@functools.lru_cache(maxsize=4096)
def _absolute(text: str) -> bool:
    """Whether `text` is an absolute IRI (remembered: identifiers recur across documents)."""
    return _ABSOLUTE.fullmatch(text) is not None


class JsonLdError(CanonicalizationError):
    """The converter refuses the document: the JSON-LD 1.1 specification calls it an error."""


class Unsupported(JsonLdError):
    """The document uses a JSON-LD feature outside this module's subset."""


class Ambiguous(JsonLdError):
    """Two members of one object mean the same keyword (or, in compacted form, property)."""


class Undefined(JsonLdError):
    """A member name or value the contexts do not define: a JSON-LD processor would drop it."""


class InvalidIri(JsonLdError):
    """An identifier that is not an absolute IRI, or a relative one with no base to resolve it."""


class NotCompacted(JsonLdError):
    """Compacted form was asked for, and the document says something another way."""


class _NoContext:
    """The scoped context of a term that has none (a scoped context may itself be null)."""

    __slots__ = ()


NO_CONTEXT: Any = _NoContext()


class Term:
    """One term definition of an active context."""

    __slots__ = ("container", "context", "iri", "predicate", "prefix", "protected", "type")

    def __init__(self, iri: str | None, type_: str | None, container: frozenset[str],
                 context: Any, protected: bool, prefix: bool) -> None:
        self.iri = iri
        self.type = type_
        self.container = container
        self.context = context
        self.protected = protected
        self.prefix = prefix
        self.predicate = "<" + iri + ">" if iri is not None and _ABSOLUTE.fullmatch(iri) else None

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

    __slots__ = ("aliased", "base", "children", "inverse", "previous", "terms", "vocab")

    def __init__(self, terms: dict[str, Term], vocab: str | None, previous: "Context | None",
                 base: str | None) -> None:
        self.terms = terms
        self.vocab = vocab
        self.previous = previous
        self.base = base
        self.children: dict[_ContextKey, tuple[Any, Context]] = {}
        self.aliased: frozenset[str] | None = None
        self.inverse: dict[str, str] | None = None

    def keyword_aliases(self) -> frozenset[str]:
        """The keywords some term of this context is an alias of."""
        if self.aliased is None:
            self.aliased = frozenset(
                term.iri for term in self.terms.values() if term.iri in _KEYWORDS
            )
        return self.aliased

    def term_for(self, iri: str) -> str | None:
        """A term of this context whose IRI is `iri`, if there is one."""
        if self.inverse is None:
            inverse: dict[str, str] = {}
            for name, term in self.terms.items():
                if term.iri is not None:
                    inverse.setdefault(term.iri, name)
            self.inverse = inverse
        return self.inverse.get(iri)


EMPTY = Context({}, None, None, None)


def to_quads(document: Any, loader: Loader, *, compacted: bool = False,
             base: str | None = None) -> list[Quad]:
    """Convert a JSON-LD document to a list of quads (duplicates possible).

    `loader` returns the document of a remote context URL; `base` is the document's base IRI
    (none by default: relative IRIs are refused). Raises a JsonLdError subclass when the
    document is not converted exactly.
    """
    try:
        return _Converter(loader, compacted, base).run(document)
    except RecursionError:
        raise JsonLdError("the document is nested too deeply to convert") from None


def resolve(reference: str, base: str) -> str:
    """Resolve a relative IRI reference against an absolute base (RFC 3986 §5.2)."""
    scheme, authority, path, query, fragment = _split(reference)
    if scheme is None:
        base_scheme, base_authority, base_path, base_query, _ = _split(base)
        scheme = base_scheme
        if authority is None:
            if path == "":
                path = base_path
                if query is None:
                    query = base_query
            elif path.startswith("/"):
                path = _remove_dots(path)
            else:
                if base_authority is not None and base_path == "":
                    path = "/" + path
                else:
                    path = base_path[: base_path.rfind("/") + 1] + path
                path = _remove_dots(path)
            authority = base_authority
        else:
            path = _remove_dots(path)
    else:
        path = _remove_dots(path)
    text = f"{scheme}:"
    if authority is not None:
        text += "//" + authority
    text += path
    if query is not None:
        text += "?" + query
    if fragment is not None:
        text += "#" + fragment
    return text


def _split(reference: str) -> tuple[str | None, str | None, str, str | None, str | None]:
    match = _REFERENCE.fullmatch(reference)
    assert match is not None
    scheme, authority, path, query, fragment = match.groups()
    return scheme, authority, path, query, fragment


def _remove_dots(path: str) -> str:
    output: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith(("./", "/./")):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../") or path == "/..":
            path = "/" + path[4:] if path.startswith("/../") else "/"
            if output:
                output.pop()
        elif path in (".", ".."):
            path = ""
        else:
            start = 1 if path.startswith("/") else 0
            end = path.find("/", start)
            end = len(path) if end < 0 else end
            output.append(path[:end])
            path = path[end:]
    return "".join(output)


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
    """Escape a literal's lexical form for canonical N-Quads (lone surrogates are refused)."""
    if _NEEDS_ESCAPE.search(value) is None:
        return value
    return _NEEDS_ESCAPE.sub(_escape_char, value)


def escape_literals(values: Sequence[str]) -> list[str]:
    """`escape_literal` of each value, in one scan of them all (a character decides whether a
    value needs escaping, so the scan of their concatenation finds exactly which do)."""
    joined = "".join(values)
    escaped = list(values)
    if _NEEDS_ESCAPE.search(joined) is None:
        return escaped
    ends = list(itertools.accumulate(map(len, values)))
    for index in {bisect.bisect_right(ends, match.start())
                  for match in _NEEDS_ESCAPE.finditer(joined)}:
        escaped[index] = escape_literal(values[index])
    return escaped


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f\ud800-\udfff]')
_ECHAR = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    if "\ud800" <= char <= "\udfff":
        raise JsonLdError("a string holds a lone surrogate; it is not valid Unicode")
    return _ECHAR.get(char) or f"\\u{ord(char):04X}"


def literal(lexical: str, datatype: str | None = None, language: str | None = None) -> str:
    """An N-Quads literal term."""
    text = '"' + escape_literal(lexical) + '"'
    if language is not None:
        return text + "@" + language
    return text + datatype_suffix(datatype)


def datatype_suffix(datatype: str | None) -> str:
    """What follows a literal's quoted lexical form for `datatype` (nothing for xsd:string)."""
    if datatype is None or datatype == XSD_STRING:
        return ""
    return "^^<" + datatype + ">"


class _Converter:
    __slots__ = ("blank", "compacted", "initial", "labels", "loader", "loading", "quads", "source",
                 "validating")

    def __init__(self, loader: Loader, compacted: bool, base: str | None) -> None:
        self.loader = loader
        self.compacted = compacted
        if base is None:
            self.initial = EMPTY
        elif _ABSOLUTE.fullmatch(base):
            self.initial = Context({}, None, None, base)
        else:
            raise InvalidIri(f"the base {base!r} is not an absolute IRI")
        self.source = base
        self.loading: list[str] = []
        self.validating = 0
        self.quads: list[Quad] = []
        self.blank = 0
        self.labels: dict[str, str] = {}

    def run(self, document: Any) -> list[Quad]:
        for item in document if isinstance(document, list) else [document]:
            if not isinstance(item, dict):
                raise JsonLdError("a JSON-LD document must be an object or an array of objects")
            if _is_value(self.initial, item):
                raise Unsupported("a value object at the top of a document")
            self.node(self.initial, item, "")
        return self.quads

    # --- contexts -------------------------------------------------------------------------

    def process(self, active: Context, local: Any, override: bool = False,
                propagate: bool = True) -> Context:
        """Context Processing (JSON-LD 1.1 §4.1.2), memoised for long-lived local contexts."""
        if isinstance(local, str):
            local = self.context_url(local)
        key = (id(local) if isinstance(local, dict | list) else local, override, propagate,
               self.loader)
        cacheable = not isinstance(local, dict | list) or _is_shared(local)
        if cacheable:
            found = active.children.get(key)
            if found is not None and (found[0] is local or not isinstance(local, dict | list)):
                return found[1]
        result = self._process(active, local, override, propagate)
        if cacheable and not self.validating:
            active.children[key] = (local, result)
        return result

    def _process(self, active: Context, local: Any, override: bool, propagate: bool) -> Context:
        if isinstance(local, dict) and "@propagate" in local:
            propagate = local["@propagate"]
            if not isinstance(propagate, bool):
                raise JsonLdError("@propagate must be true or false")
        previous = active.previous
        if not propagate and previous is None:
            previous = active
        result = active
        for entry in local if isinstance(local, list) else [local]:
            if entry is None:
                if not override and any(term.protected for term in result.terms.values()):
                    raise JsonLdError("a null @context cannot clear protected terms")
                result = Context({}, None, None, self.initial.base)
            elif isinstance(entry, str):
                result = self.remote_context(result, entry, override)
            elif isinstance(entry, dict):
                result = self._definitions(result, entry, override)
            else:
                raise JsonLdError("a context must be null, a URL, an object or an array")
        if result.previous is not previous:
            result = Context(result.terms, result.vocab, previous, result.base)
        return result

    def context_url(self, url: str) -> str:
        """The absolute URL of a context reference."""
        if _ABSOLUTE.fullmatch(url):
            return url
        if self.source is None:
            raise InvalidIri(f"the context URL {url[:200]!r} is relative and there is no base")
        return resolve(url, self.source)

    def remote_context(self, active: Context, url: str, override: bool) -> Context:
        """The active context after the context document at `url`."""
        url = self.context_url(url)
        if url in self.loading:
            if self.validating:
                return active
            raise JsonLdError(f"the context {url!r} includes itself")
        if len(self.loading) >= MAX_REMOTE_CONTEXTS:
            raise JsonLdError(f"more than {MAX_REMOTE_CONTEXTS} nested remote contexts")
        document = self.loader(url)
        if not isinstance(document, dict) or "@context" not in document:
            raise JsonLdError(f"the context document {url!r} has no @context")
        outer = self.source
        self.loading.append(url)
        self.source = url
        try:
            return self.process(active, document["@context"], override, True)
        finally:
            self.loading.pop()
            self.source = outer

    def _definitions(self, active: Context, local: JsonObject, override: bool) -> Context:
        for key in local:
            if key[:1] == "@" and key not in _CONTEXT_KEYS:
                raise Unsupported(f"the context keyword {key} is not supported")
        if "@version" in local and local["@version"] != 1.1:
            raise JsonLdError("@version must be 1.1")
        base = active.base
        if "@base" in local and not self.loading:
            base = self._base(base, local["@base"])
        vocab = active.vocab
        if "@vocab" in local:
            vocab = self._vocab(Context(active.terms, vocab, None, base), local["@vocab"])
        protected = local.get("@protected", False)
        if not isinstance(protected, bool):
            raise JsonLdError("@protected must be true or false")
        terms = dict(active.terms)
        builder = _Definitions(self, local, terms, vocab, base, protected, override)
        for term in local:
            if term[:1] != "@":
                builder.define(term)
        result = Context(terms, vocab, active.previous, base)
        for term in builder.scoped:
            self.validate_scoped(result, term)
        return result

    @staticmethod
    def _base(base: str | None, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise JsonLdError("@base must be a string or null")
        if _ABSOLUTE.fullmatch(value):
            return value
        if base is None:
            raise InvalidIri(f"@base {value!r} is relative and there is no base to resolve it")
        return resolve(value, base)

    def _vocab(self, active: Context, value: Any) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise JsonLdError("@vocab must be a string or null")
        vocab = self.expand(active, value, True, True, "@vocab", document=False)
        if vocab.startswith("_:") or _ABSOLUTE.fullmatch(vocab):
            return vocab
        raise InvalidIri(f"@vocab {value!r} is not an IRI")

    def validate_scoped(self, active: Context, term: str) -> None:
        """Refuse a term whose scoped context is invalid, even if the document never uses it."""
        self.validating += 1
        try:
            self.process(active, active.terms[term].context, override=True)
        except JsonLdError as error:
            raise type(error)(f"the scoped context of {term!r} is invalid: {error.message}") \
                from None
        finally:
            self.validating -= 1

    # --- IRIs -----------------------------------------------------------------------------

    def expand(self, active: Context, value: str, vocab: bool, relative: bool, where: str,
               document: bool = True) -> str:
        """IRI Expansion (JSON-LD 1.1 §5.2); a keyword-like value is refused, not dropped.

        In compacted form a document value (not a context's) may not abbreviate with a prefix.
        """
        if value[:1] == "@":
            if value in _KEYWORDS:
                return value
            if _KEYWORD_FORM.fullmatch(value):
                raise Undefined(f"{where}: {value!r} is not a JSON-LD keyword")
        term = active.terms.get(value)
        if term is not None and term.iri is not None and (vocab or term.iri[0] == "@"):
            return term.iri
        if term is not None and vocab:
            raise Undefined(f"{where}: the term {value!r} is explicitly undefined")
        colon = value.find(":", 1)
        if colon > 0:
            prefix = value[:colon]
            if prefix == "_" or value.startswith("//", colon + 1):
                return value
            found = active.terms.get(prefix)
            if found is not None and found.prefix and found.iri is not None:
                suffix = value[colon + 1:]
                if self.compacted and document:
                    raise NotCompacted(
                        f"{where}: {value!r} abbreviates an IRI; write {found.iri + suffix!r}"
                    )
                return found.iri + suffix
            if _absolute(value):
                return value
        if vocab and active.vocab is not None:
            return active.vocab + value
        if relative and active.base is not None:
            return resolve(value, active.base)
        return value

    def term_value(self, active: Context, value: str, where: str) -> str:
        """The IRI term of a type or `@vocab`-coerced value (vocabulary-relative)."""
        iri = self.expand(active, value, True, True, where)
        if self.compacted and value not in active.terms:
            term = active.term_for(iri)
            if term is not None:
                raise NotCompacted(f"{where}: write the term {term!r} instead of {value!r}")
        return self.iri_term(iri, where, value)

    def reference(self, active: Context, value: str, where: str) -> str:
        """The IRI term of a node identifier (document-relative)."""
        return self.iri_term(self.expand(active, value, False, True, where), where, value)

    def iri_term(self, iri: str, where: str, written: str) -> str:
        if iri.startswith("_:"):
            return self.blank_label(iri)
        if _absolute(iri):
            return "<" + iri + ">"
        if iri[:1] == "@":
            raise JsonLdError(f"{where}: the keyword {iri} is not an identifier")
        if ":" not in iri:
            raise InvalidIri(f"{where}: {written[:200]!r} is a relative IRI and there is no base")
        raise InvalidIri(f"{where}: {written[:200]!r} is not an absolute IRI")

    # --- nodes ----------------------------------------------------------------------------

    def new_blank(self) -> str:
        self.blank += 1
        return f"_:b{self.blank}"

    def blank_label(self, label: str) -> str:
        found = self.labels.get(label)
        if found is None:
            found = self.labels[label] = self.new_blank()
        return found

    def member(self, active: Context, key: str, term: Term | None) -> str:
        """The IRI or keyword a member name that is not a plain term expands to."""
        if key[:1] == "@" and key in _KEYWORDS:
            return key
        if term is not None:
            raise Undefined(f"{key}: the term {key!r} is explicitly undefined")
        if self.compacted and ":" in key:
            raise NotCompacted(f"{key}: member names must be terms of the @context, not IRIs")
        iri = self.expand(active, key, True, False, key)
        if iri[:1] == "@":
            return iri
        if iri.startswith("_:"):
            raise Unsupported(f"{key}: a blank node as a property needs generalized RDF")
        if _ABSOLUTE.fullmatch(iri) is None:
            raise Undefined(f"{key}: {key[:200]!r} is not defined by the @context")
        return iri

    def unaliased(self, active: Context, keyword: str) -> None:
        """Refuse, in compacted form, a keyword written out when a term of the context names it."""
        if self.compacted and keyword in active.keyword_aliases():
            raise NotCompacted(f"{keyword}: the @context names this keyword; write its term")

    def node(self, active: Context, element: JsonObject, graph: str,
             scoped: Any = NO_CONTEXT) -> str:
        """Emit a node object's quads in `graph`; return its subject term."""
        if active.previous is not None and not _only_id(active, element):
            active = active.previous
        if scoped is not NO_CONTEXT:
            active = self.process(active, scoped, override=True)
        if "@context" in element:
            active = self.process(active, element["@context"])
        type_scoped = active
        type_keys = [key for key in element if key == "@type" or _alias(active, key) == "@type"]
        if type_keys:
            if len(type_keys) > 1:
                type_keys.sort()
            for key in type_keys:
                value = element[key]
                values = value if isinstance(value, list) else [value]
                for item in values:
                    if not isinstance(item, str):
                        raise JsonLdError(f"{key}: type values must be strings")
                for item in sorted(values) if len(values) > 1 else values:
                    term = type_scoped.terms.get(item)
                    if term is not None and term.context is not NO_CONTEXT:
                        active = self.process(active, term.context, propagate=False)
        terms = active.terms
        members: list[tuple[str, str, Term | None, Any]] = []
        seen: set[str] = set()
        keyword = subject = None
        for key, value in element.items():
            if key == "@context":
                continue
            term = terms.get(key)
            if term is not None and term.iri is not None:
                iri = term.iri
            else:
                iri = self.member(active, key, term)
                if iri == key and key[0] == "@":
                    keyword = key
            if iri in seen and (self.compacted or (iri[0] == "@" and iri != "@type")):
                raise Ambiguous(f"{key}: another member of the object also means {iri}")
            seen.add(iri)
            if iri == "@id":
                if not isinstance(value, str):
                    raise JsonLdError(f"{key}: a node identifier must be a string")
                subject = self.identifier(active, value, key)
            else:
                members.append((key, iri, term, value))
        if keyword is not None:
            self.unaliased(active, keyword)
        if subject is None:
            subject = self.new_blank()
        for key, iri, term, value in members:
            if iri == "@type":
                for item in value if isinstance(value, list) else [value]:
                    obj = self.term_value(type_scoped, item, key)
                    self.quads.append((subject, RDF_TYPE, obj, graph))
                continue
            if iri[0] == "@":
                if _KEYWORD_FORM.fullmatch(iri) and iri not in _KEYWORDS:
                    raise Undefined(f"{key}: {iri} is not a JSON-LD keyword")
                raise Unsupported(f"{key}: {iri} in a node object is not supported")
            predicate = term.predicate if term is not None else None
            if predicate is None:
                if iri.startswith("_:"):
                    raise Unsupported(f"{key}: a blank node as a property needs generalized RDF")
                if _ABSOLUTE.fullmatch(iri) is None:
                    raise InvalidIri(f"{key}: the property IRI {iri[:200]!r} is not absolute")
                predicate = "<" + iri + ">"
            self.property(active, key, term, subject, predicate, value, graph)
        return subject

    def identifier(self, active: Context, value: str, key: str) -> str:
        """The subject term of a node's `@id` string."""
        if self.compacted and value.startswith("_:"):
            raise NotCompacted(f"{key}: a blank node identifier {value!r} is not written "
                               "in compacted form (it could join two JSON objects)")
        return self.reference(active, value, key)

    def property(self, active: Context, key: str, term: Term | None, subject: str,
                 predicate: str, value: Any, graph: str) -> None:
        quads = self.quads
        if term is None:
            container = _NO_CONTAINER
            scoped = NO_CONTEXT
        else:
            if term.type == "@json":
                quads.append((subject, predicate, _json_literal(value), graph))
                return
            container = term.container
            scoped = term.context
        items = value if isinstance(value, list) else [value]
        if "@list" in container:
            head = self.list(active, term, key, items, graph, scoped)
            quads.append((subject, predicate, head, graph))
            return
        if "@graph" in container:
            for item in items:
                if item is None:
                    self.null(key)
                    continue
                if not isinstance(item, dict) or _is_value(active, item):
                    raise Unsupported(f"{key}: a value in a @graph container is not supported")
                name = self.new_blank()
                self.node(active, item, name, scoped)
                quads.append((subject, predicate, name, graph))
            return
        for item in items:
            obj = self.value(active, term, key, item, graph, scoped)
            if obj is not None:
                quads.append((subject, predicate, obj, graph))

    def null(self, key: str) -> None:
        """A null value means nothing; compacted form leaves the member out instead."""
        if self.compacted:
            raise NotCompacted(f"{key}: a null value; leave the member out instead")

    def list(self, active: Context, term: Term | None, key: str, items: list[Any], graph: str,
             scoped: Any) -> str:
        objects = []
        for item in items:
            if isinstance(item, list):
                raise Unsupported(f"{key}: a list of lists is not supported")
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
            self.null(key)
            return None
        if isinstance(item, dict):
            if _is_value(active, item):
                if scoped is not NO_CONTEXT:
                    active = self.process(active, scoped, override=True)
                return self.value_object(active, term, item, key)
            return self.node(active, item, graph, scoped)
        if isinstance(item, list):
            raise Unsupported(f"{key}: an array directly inside an array is not supported")
        if scoped is not NO_CONTEXT:
            active = self.process(active, scoped, override=True)
            term = active.terms.get(key)
        return self.scalar(active, term, key, item)

    def scalar(self, active: Context, term: Term | None, key: str, item: Any) -> str:
        """The object term of a string, number or boolean under `term`'s coercion."""
        coerce = term.type if term is not None else None
        if isinstance(item, str):
            if coerce is None:
                return literal(item)
            if coerce == "@id":
                return self.reference(active, item, key)
            if coerce == "@vocab":
                return self.term_value(active, item, key)
            if coerce == "@json":
                return _json_literal(item)
            return literal(item, coerce)
        if coerce in _COERCIONS:
            return _json_literal(item) if coerce == "@json" else _native(item, None, key)
        return _native(item, coerce, key)

    def value_object(self, active: Context, term: Term | None, item: JsonObject,
                     key: str) -> str | None:
        value = language = datatype = None
        seen = set()
        for entry, content in item.items():
            found = active.terms.get(entry)
            if found is not None and found.iri is not None:
                iri = found.iri
            else:
                iri = self.member(active, entry, found)
            if iri in seen:
                raise Ambiguous(f"{key}: two members of a value object mean {iri}")
            seen.add(iri)
            if iri == entry and entry[0] == "@":
                self.unaliased(active, entry)
            if iri == "@value":
                value = content
            elif iri == "@language":
                language = content
            elif iri == "@type":
                datatype = content
            elif iri in ("@index", "@direction", "@context"):
                raise Unsupported(f"{key}: {iri} in a value object is not supported")
            else:
                raise JsonLdError(f"{key}: a value object cannot hold {entry!r}")
        if language is not None and not isinstance(language, str):
            raise JsonLdError(f"{key}: @language must be a string")
        if datatype is not None and not isinstance(datatype, str):
            raise JsonLdError(f"{key}: the @type of a value must be a string")
        if datatype == "@json":
            if language is not None:
                raise JsonLdError(f"{key}: a JSON literal cannot have a language")
            return self.compact_check(term, key, _json_literal(value), value)
        if isinstance(value, dict | list):
            raise JsonLdError(f"{key}: @value must be a string, number, boolean or null")
        if value is None:
            self.null(key)
            return None
        if language is not None:
            if datatype is not None:
                raise JsonLdError(f"{key}: a value cannot have both @type and @language")
            if not isinstance(value, str):
                raise JsonLdError(f"{key}: a language-tagged value must be a string")
            if not _LANGUAGE.fullmatch(language):
                raise JsonLdError(f"{key}: {language!r} is not a language tag")
            return literal(value, language=language.lower())
        if datatype is not None:
            iri = self.expand(active, datatype, True, True, key)
            if _ABSOLUTE.fullmatch(iri) is None:
                raise InvalidIri(f"{key}: the datatype {datatype[:200]!r} is not an absolute IRI")
            datatype = iri
        obj = literal(value, datatype) if isinstance(value, str) else _native(value, datatype, key)
        return self.compact_check(term, key, obj, value)

    def compact_check(self, term: Term | None, key: str, obj: str, value: Any) -> str:
        """Refuse, in compacted form, a value object that the plain JSON value says as well."""
        if not self.compacted:
            return obj
        coerce = term.type if term is not None else None
        if isinstance(value, str) and coerce in ("@id", "@vocab"):
            return obj
        if coerce == "@json":
            plain = _json_literal(value)
        elif isinstance(value, str):
            plain = literal(value, coerce)
        elif value is None or isinstance(value, dict | list):
            return obj
        else:
            plain = _native(value, None if coerce in _COERCIONS else coerce, key)
        if plain == obj:
            raise NotCompacted(f"{key}: a value object where the plain value says the same")
        return obj


def _json_literal(value: Any) -> str:
    from credentials.canon import jcs

    return literal(jcs(value).decode("utf-8"), RDF_JSON)


def _native(item: Any, datatype: str | None, key: str) -> str:
    if isinstance(item, bool):
        return literal("true" if item else "false", datatype or XSD_BOOLEAN)
    if isinstance(item, int):
        if datatype == XSD_DOUBLE or abs(item) >= 10**21:
            if abs(item) > MAX_DOUBLE:
                raise JsonLdError(f"{key}: the integer is too large for any JSON-LD number")
            return literal(canonical_double(float(item)), datatype or XSD_DOUBLE)
        return literal(str(item), datatype or XSD_INTEGER)
    if isinstance(item, float):
        if datatype == XSD_DOUBLE or not item.is_integer() or abs(item) >= 1e21:
            return literal(canonical_double(item), datatype or XSD_DOUBLE)
        return literal(str(int(item)), datatype or XSD_INTEGER)
    raise JsonLdError(f"{key}: unsupported JSON value {type(item).__name__}")


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

    __slots__ = ("base", "converter", "defined", "local", "override", "protected", "scoped",
                 "terms", "vocab")

    def __init__(self, converter: _Converter, local: JsonObject, terms: dict[str, Term],
                 vocab: str | None, base: str | None, protected: bool, override: bool) -> None:
        self.converter = converter
        self.local = local
        self.terms = terms
        self.vocab = vocab
        self.base = base
        self.protected = protected
        self.override = override
        self.defined: dict[str, bool] = {}
        self.scoped: list[str] = []

    def define(self, term: str) -> None:
        state = self.defined.get(term)
        if state is True:
            return
        if state is False:
            raise JsonLdError(f"cyclic IRI mapping for term {term!r}")
        if term == "":
            raise JsonLdError("a term cannot be the empty string")
        self.defined[term] = False
        value = self.local[term]
        previous = self.terms.pop(term, None)
        simple = isinstance(value, str)
        if value is None:
            value = {"@id": None}
        elif simple:
            value = {"@id": value}
        elif not isinstance(value, dict):
            raise JsonLdError(f"term {term!r} has an invalid definition")
        for key in value:
            if key not in _TERM_KEYS:
                if key in _KEYWORDS:
                    raise Unsupported(f"{key} in the definition of {term!r} is not supported")
                raise JsonLdError(f"term {term!r} has an invalid definition member {key!r}")
        protected = value.get("@protected", self.protected)
        if not isinstance(protected, bool):
            raise JsonLdError(f"term {term!r}: @protected must be true or false")
        type_ = value.get("@type")
        if type_ is not None:
            if not isinstance(type_, str):
                raise JsonLdError(f"term {term!r} has an invalid @type")
            type_ = self.iri(type_, vocab=True)
            if type_ == "@none":
                raise Unsupported(f"term {term!r}: @type @none is not supported")
            if type_ not in _COERCIONS and _ABSOLUTE.fullmatch(type_) is None:
                raise JsonLdError(f"term {term!r} has an invalid @type {type_!r}")
        prefix = False
        if "@id" in value and value["@id"] != term:
            raw = value["@id"]
            if raw is None:
                iri = None
            else:
                if not isinstance(raw, str):
                    raise JsonLdError(f"term {term!r} has an invalid @id")
                if raw[:1] == "@" and raw not in _KEYWORDS and _KEYWORD_FORM.fullmatch(raw):
                    raise Unsupported(f"term {term!r} maps to the unknown keyword {raw!r}")
                iri = self.iri(raw, vocab=True)
                if iri[:1] == "@":
                    if iri not in _ALIASABLE:
                        raise Unsupported(f"term {term!r}: an alias of {iri} is not supported")
                elif ":" not in iri:
                    raise InvalidIri(f"term {term!r} maps to {raw!r}, which is not an IRI")
                elif ":" in term[1:-1] or "/" in term:
                    self.defined[term] = True
                    if self.iri(term, vocab=True) != iri:
                        raise JsonLdError(
                            f"term {term!r} looks like an IRI but maps to another IRI"
                        )
                if simple and ":" not in term and "/" not in term:
                    prefix = iri[-1] in _GEN_DELIMS or iri.startswith("_:")
        elif ":" in term[1:]:
            head, _, suffix = term.partition(":")
            if head in self.local and head != term:
                self.define(head)
            found = self.terms.get(head)
            iri = found.iri + suffix if found is not None and found.iri is not None else term
        elif "/" in term:
            raise Unsupported(f"term {term!r}: a relative IRI as a term is not supported")
        elif self.vocab is not None:
            iri = self.vocab + term
        else:
            raise InvalidIri(f"term {term!r} has no IRI and there is no @vocab")
        if "@prefix" in value:
            prefix = value["@prefix"]
            if not isinstance(prefix, bool):
                raise JsonLdError(f"term {term!r} has an invalid @prefix")
            if prefix and (":" in term or "/" in term or (iri is not None and iri[:1] == "@")):
                raise JsonLdError(f"term {term!r} cannot be a prefix")
        container = value.get("@container")
        if container is None:
            container = frozenset()
        else:
            entries = container if isinstance(container, list) else [container]
            if not all(isinstance(entry, str) for entry in entries):
                raise JsonLdError(f"term {term!r} has an invalid @container")
            container = frozenset(entries)
            if not container <= _CONTAINERS or ("@list" in container and len(container) > 1):
                raise Unsupported(f"term {term!r}: container {sorted(container)} is not supported")
        context = value.get("@context", NO_CONTEXT)
        if isinstance(context, str):
            context = self.converter.context_url(context)
        elif isinstance(context, list) and any(isinstance(entry, str) for entry in context):
            context = [self.converter.context_url(entry) if isinstance(entry, str) else entry
                       for entry in context]
        definition = Term(iri, type_, container, context, protected, prefix)
        if previous is not None and previous.protected and not self.override:
            if not previous.same_as(definition):
                raise JsonLdError(f"protected term {term!r} cannot be redefined")
            definition = previous
        elif context is not NO_CONTEXT:
            self.scoped.append(term)
        self.terms[term] = definition
        self.defined[term] = True

    def iri(self, value: str, vocab: bool) -> str:
        """IRI Expansion while the local context is being defined."""
        if value[:1] == "@" and value in _KEYWORDS:
            return value
        if value in self.local and self.defined.get(value) is not True:
            self.define(value)
        found = self.terms.get(value)
        if found is not None and found.iri is not None and (vocab or found.iri[:1] == "@"):
            return found.iri
        if found is not None and vocab:
            raise Undefined(f"term {value!r} is explicitly undefined")
        colon = value.find(":", 1)
        if colon > 0:
            head = value[:colon]
            suffix = value[colon + 1:]
            if head == "_" or suffix.startswith("//"):
                return value
            if head in self.local and self.defined.get(head) is not True:
                self.define(head)
            prefix = self.terms.get(head)
            if prefix is not None and prefix.prefix and prefix.iri is not None:
                return prefix.iri + suffix
            if _ABSOLUTE.fullmatch(value):
                return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        return value
