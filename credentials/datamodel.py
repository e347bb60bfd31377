"""The normative MUSTs of the W3C Verifiable Credentials Data Model 2.0 for credentials and
presentations, each violation naming the member (a JSON pointer) it concerns. A document whose
first context is VC 1.1's is held to VC Data Model 1.1 instead (`issuanceDate` and
`expirationDate` in place of `validFrom` and `validUntil`).

Checks the JSON form only (the document's JSON-LD meaning is checked by `jsonld_violation`,
which expands it with the bundled contexts); a proof is not checked here.
"""

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from credentials.canon import rdfc
from credentials.contexts import VC_V1, VC_V2
from credentials.errors import CredentialError
from credentials.jsontypes import JsonObject, Loader

CREDENTIAL_TYPE = "VerifiableCredential"
PRESENTATION_TYPE = "VerifiablePresentation"
ENVELOPED_CREDENTIAL_TYPE = "EnvelopedVerifiableCredential"
TYPED_MEMBERS = ("credentialStatus", "credentialSchema", "evidence", "termsOfUse",
                 "refreshService")
BASE_CONTEXTS = (VC_V2, VC_V1)
VALIDITY_MEMBERS = {VC_V2: ("validFrom", "validUntil"), VC_V1: ("issuanceDate", "expirationDate")}
LANGUAGE_MEMBERS = frozenset({"@value", "@language", "@direction"})
DIRECTIONS = ("ltr", "rtl")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_TERM = re.compile(r"^[^\s:/#?]+$")
_LANGUAGE_TAG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_DATE_TIME_STAMP = re.compile(
    r"^(-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9])(\.[0-9]+)?"
    r"(Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))$"
)


@dataclass(frozen=True)
class Violation:
    """One broken MUST of the data model: the member (a JSON pointer) and what is wrong."""

    member: str
    message: str

    def __str__(self) -> str:
        return f"{self.member or '/'} {self.message}"


def credential_violations(document: object) -> list[Violation]:
    """Every MUST of VC Data Model 2.0 a verifiable credential breaks (none: it conforms)."""
    if not isinstance(document, dict):
        return [Violation("", "must be a JSON object")]
    found = _contexts(document)
    found += _types(document, CREDENTIAL_TYPE, "")
    found += _identifier(document, "id", "/id")
    found += _issuer(document.get("issuer"), "issuer" in document)
    found += _subjects(document.get("credentialSubject"), "credentialSubject" in document)
    found += _texts(document, "")
    found += _validity(document, VALIDITY_MEMBERS[base_context(document)])
    for name in TYPED_MEMBERS:
        if name in document:
            found += _typed_objects(document[name], f"/{name}", schema=name == "credentialSchema")
    if "relatedResource" in document:
        found += _related_resources(document["relatedResource"])
    return found


def presentation_violations(document: object) -> list[Violation]:
    """Every MUST of VC Data Model 2.0 a verifiable presentation breaks in its own members
    (each embedded credential is checked as a credential on its own)."""
    if not isinstance(document, dict):
        return [Violation("", "must be a JSON object")]
    found = _contexts(document)
    found += _types(document, PRESENTATION_TYPE, "")
    found += _identifier(document, "id", "/id")
    if "holder" in document:
        found += _url_or_object(document["holder"], "/holder")
    if "verifiableCredential" in document:
        found += _embedded(document["verifiableCredential"])
    if "termsOfUse" in document:
        found += _typed_objects(document["termsOfUse"], "/termsOfUse", schema=False)
    return found


def jsonld_violation(document: JsonObject, loader: Loader | None = None) -> Violation | None:
    """Whether the document fails to expand as JSON-LD with the bundled contexts (an unknown
    context, a term its contexts do not define, a redefined protected term...)."""
    try:
        rdfc(document, loader=loader)
    except CredentialError as error:
        return Violation("/@context", f"does not give the document a JSON-LD meaning: "
                                      f"{error.message[:300]}")
    return None


def base_context(document: JsonObject) -> str:
    """The data model's context the document names first: VC 2.0's unless it is VC 1.1's."""
    value = document.get("@context")
    return VC_V1 if isinstance(value, list) and value[:1] == [VC_V1] else VC_V2


def date_time_stamp(value: object) -> datetime | None:
    """The instant an XML Schema dateTimeStamp (a dateTime with its offset) names, or None if
    `value` is not one (or lies outside the years 1-9999)."""
    match = _DATE_TIME_STAMP.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micro = (fraction or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if offset == "Z" else offset
    text = f"{int(year):04d}-{month}-{day}T{hour}:{minute}:{second}.{micro}{zone}"
    try:
        return datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def valid_until_seconds(text: str) -> float | None:
    """Unix seconds of the `validUntil` (VC 1.1: `expirationDate`) of a credential's JSON text;
    None when it has none or the text is not a credential."""
    try:
        document = json.loads(text)
    except ValueError:
        return None
    if not isinstance(document, dict):
        return None
    members = VALIDITY_MEMBERS.get(base_context(document), VALIDITY_MEMBERS[VC_V2])
    instant = date_time_stamp(document.get(members[1]))
    return None if instant is None else instant.timestamp()


def is_url(value: object) -> bool:
    """Whether `value` is a single absolute URL (scheme, then no whitespace)."""
    return isinstance(value, str) and _URL.match(value) is not None


def _contexts(document: JsonObject) -> list[Violation]:
    """`@context`: an ordered set whose first item is the VC 2.0 context URL, then URLs or
    objects."""
    if "@context" not in document:
        return [Violation("/@context", "is required")]
    value = document["@context"]
    if not isinstance(value, list) or not value:
        return [Violation("/@context", f"must be an ordered set (a JSON array) beginning with "
                                       f"{VC_V2}")]
    if value[0] not in BASE_CONTEXTS:
        return [Violation("/@context/0", f"must be {VC_V2} (or VC 1.1's {VC_V1})")]
    return [
        Violation(f"/@context/{position}", "must be a URL or a context object")
        for position, entry in enumerate(value)
        if not (is_url(entry) or isinstance(entry, dict))
    ]


def _types(document: JsonObject, required: str, pointer: str) -> list[Violation]:
    """`type`: one or more terms or absolute URLs, one of them `required`."""
    if "type" not in document:
        return [Violation(f"{pointer}/type", "is required")]
    types = _type_values(document["type"])
    if types is None:
        return [Violation(f"{pointer}/type", "must be a term or URL, or a list of them")]
    if required not in types:
        return [Violation(f"{pointer}/type", f"must include {required}")]
    return []


def _type_values(value: object) -> list[str] | None:
    """The type values of a `type` member, or None if it is not one or more terms or URLs."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(item, str) and (_TERM.match(item) or is_url(item))
                             for item in values):
        return None
    return [item for item in values if isinstance(item, str)]


def _identifier(document: JsonObject, name: str, pointer: str) -> list[Violation]:
    """An optional `id`-like member: when present, a single URL."""
    if name in document and not is_url(document[name]):
        return [Violation(pointer, "must be a single URL")]
    return []


def _url_or_object(value: object, pointer: str) -> list[Violation]:
    """A URL, or an object whose `id` is a URL (issuer, holder)."""
    if isinstance(value, dict):
        if not is_url(value.get("id")):
            return [Violation(f"{pointer}/id", "must be a URL")]
        return []
    if not is_url(value):
        return [Violation(pointer, "must be a URL or an object whose id is a URL")]
    return []


def _issuer(value: object, present: bool) -> list[Violation]:
    """`issuer`: required; a URL or an object with an `id` URL (and well-formed texts)."""
    if not present:
        return [Violation("/issuer", "is required")]
    found = _url_or_object(value, "/issuer")
    if isinstance(value, dict):
        found += _texts(value, "/issuer")
    return found


def _subjects(value: object, present: bool) -> list[Violation]:
    """`credentialSubject`: required; one object or a non-empty set of objects, each making a
    claim (not empty), with a URL `id` if it has one."""
    if not present:
        return [Violation("/credentialSubject", "is required")]
    listed = isinstance(value, list)
    subjects = value if isinstance(value, list) else [value]
    if not subjects:
        return [Violation("/credentialSubject", "must hold at least one subject")]
    found: list[Violation] = []
    for position, subject in enumerate(subjects):
        pointer = f"/credentialSubject/{position}" if listed else "/credentialSubject"
        if not isinstance(subject, dict):
            found.append(Violation(pointer, "must be an object"))
        elif not subject:
            found.append(Violation(pointer, "must make at least one claim"))
        else:
            found += _identifier(subject, "id", f"{pointer}/id")
    return found


def _texts(document: JsonObject, pointer: str) -> list[Violation]:
    """`name` and `description`: a string, a language value object, or a list of them."""
    found: list[Violation] = []
    for name in ("name", "description"):
        if name in document:
            value = document[name]
            values = value if isinstance(value, list) else [value]
            for position, item in enumerate(values):
                where = f"{pointer}/{name}" + (f"/{position}" if isinstance(value, list) else "")
                problem = _language_value_problem(item)
                if problem is not None:
                    found.append(Violation(where, problem))
    return found


def _language_value_problem(value: object) -> str | None:
    """Why `value` is neither a string nor a language value object, or None."""
    if isinstance(value, str):
        return None
    if not isinstance(value, dict):
        return "must be a string or a language value object"
    unknown = sorted(value.keys() - LANGUAGE_MEMBERS)
    if unknown:
        return f"is a language value object and may not hold {unknown[0][:100]!r}"
    if not isinstance(value.get("@value"), str):
        return "must hold its text as a string @value"
    language = value.get("@language")
    if "@language" in value and not (isinstance(language, str)
                                     and _LANGUAGE_TAG.match(language)):
        return "must name its @language with a BCP 47 language tag"
    if "@direction" in value and value["@direction"] not in DIRECTIONS:
        return "must give @direction as ltr or rtl"
    return None


def _validity(document: JsonObject, members: tuple[str, str]) -> list[Violation]:
    """`validFrom` and `validUntil` (VC 1.1: `issuanceDate`, required, and `expirationDate`):
    dateTimeStamps, the first no later than the second."""
    start, end = members
    found: list[Violation] = []
    if start == "issuanceDate" and start not in document:
        found.append(Violation("/issuanceDate", "is required"))
    instants: dict[str, datetime] = {}
    for name in members:
        if name in document:
            instant = date_time_stamp(document[name])
            if instant is None:
                found.append(Violation(f"/{name}", "must be an XML Schema dateTimeStamp "
                                                   "(a date and time with its offset)"))
            else:
                instants[name] = instant
    if len(instants) == 2 and instants[start] > instants[end]:
        found.append(Violation(f"/{end}", f"must not be earlier than {start}"))
    return found


def _typed_objects(value: object, pointer: str, *, schema: bool) -> list[Violation]:
    """One object or a non-empty list of objects, each with a `type` (and, for a schema, an
    `id` URL; otherwise an optional `id` URL)."""
    listed = isinstance(value, list)
    items = value if isinstance(value, list) else [value]
    if not items:
        return [Violation(pointer, "must hold at least one object")]
    found: list[Violation] = []
    for position, item in enumerate(items):
        where = f"{pointer}/{position}" if listed else pointer
        if not isinstance(item, dict):
            found.append(Violation(where, "must be an object"))
            continue
        if "type" not in item:
            found.append(Violation(f"{where}/type", "is required"))
        elif _type_values(item["type"]) is None:
            found.append(Violation(f"{where}/type", "must be a term or URL, or a list of them"))
        if schema and "id" not in item:
            found.append(Violation(f"{where}/id", "is required"))
        else:
            found += _identifier(item, "id", f"{where}/id")
    return found


def _related_resources(value: object) -> list[Violation]:
    """`relatedResource`: objects with a unique URL `id` and a `digestSRI` or
    `digestMultibase`."""
    listed = isinstance(value, list)
    items = value if isinstance(value, list) else [value]
    if not items:
        return [Violation("/relatedResource", "must hold at least one object")]
    found: list[Violation] = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        where = f"/relatedResource/{position}" if listed else "/relatedResource"
        if not isinstance(item, dict):
            found.append(Violation(where, "must be an object"))
            continue
        identifier = item.get("id")
        if not is_url(identifier):
            found.append(Violation(f"{where}/id", "is required as a URL"))
        elif identifier in seen:
            found.append(Violation(f"{where}/id", "must be unique among the related resources"))
        else:
            seen.add(str(identifier))
        if not any(isinstance(item.get(name), str) for name in ("digestSRI", "digestMultibase")):
            found.append(Violation(where, "must hold a digestSRI or a digestMultibase"))
    return found


def _embedded(value: object) -> list[Violation]:
    """`verifiableCredential`: one or more credential objects (never a string or a number),
    each a VerifiableCredential or an EnvelopedVerifiableCredential."""
    listed = isinstance(value, list)
    items = value if isinstance(value, list) else [value]
    found: list[Violation] = []
    for position, item in enumerate(items):
        where = f"/verifiableCredential/{position}" if listed else "/verifiableCredential"
        if not isinstance(item, dict):
            found.append(Violation(where, "must be a credential object"))
            continue
        types = _type_values(item.get("type")) or []
        if CREDENTIAL_TYPE not in types and ENVELOPED_CREDENTIAL_TYPE not in types:
            found.append(Violation(f"{where}/type", f"must include {CREDENTIAL_TYPE} or "
                                                    f"{ENVELOPED_CREDENTIAL_TYPE}"))
    return found
