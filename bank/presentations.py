"""Presentation requests (OpenID for Verifiable Presentations 1.0): a verifier asks a wallet.

The employer's page creates a request: a DCQL query for one `ldp_vc` AchievementCredential
(optionally of one issuer and unit), a nonce and a state. The request travels by value in an
`openid4vp://` link with the client identifier `redirect_uri:<response_uri>` (unsigned, as that
prefix requires); the wallet posts its `vp_token` to the response URI (`direct_post`). The bank
verifies the presentation (challenge = nonce, domain = client_id) and keeps the report for the page
that holds the viewer secret. A request answers once, and only before it expires.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, delete, insert, select, update

from bank.tables import presentation_requests
from infra.errors import Conflict, InvalidInput, NotFound
from verify.codes import Code
from verify.fragments import Fragment, Status
from verify.presentation import PresentationReport

SCHEME = "openid4vp://"
CLIENT_ID_PREFIX = "redirect_uri:"
QUERY_ID = "achievement"
FORMAT = "ldp_vc"
TYPE_VALUES = [["VerifiableCredential", "AchievementCredential"]]
ISSUER_PATH = ["issuer", "id"]
UNIT_PATH = ["credentialSubject", "achievement", "humanCode"]
CRYPTOSUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]
LIFETIME = 10 * 60
KEPT = 24 * 3600
MAX_FILTER = 200


@dataclass(frozen=True)
class PresentationRequest:
    """One request as stored: what was asked, of whom, until when, and any answer."""

    id: str
    state: str
    nonce: str
    dcql_query: dict[str, Any]
    client_id: str
    response_uri: str
    created_at: float
    expires_at: float
    responded_at: float | None
    report: dict[str, Any] | None

    def payload(self) -> dict[str, Any]:
        """The authorization request (OID4VP 1.0 §5) the wallet receives."""
        return {
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": self.client_id,
            "response_uri": self.response_uri,
            "nonce": self.nonce,
            "state": self.state,
            "dcql_query": self.dcql_query,
            "client_metadata": {
                "vp_formats_supported": {
                    FORMAT: {
                        "proof_type_values": ["DataIntegrityProof"],
                        "cryptosuite_values": CRYPTOSUITES,
                    }
                }
            },
        }

    def link(self) -> str:
        """The `openid4vp://` link carrying the request by value (JSON members as JSON text)."""
        values = {name: json.dumps(value, separators=(",", ":")) if isinstance(value, dict)
                  else value for name, value in self.payload().items()}
        return SCHEME + "?" + urlencode(values)

    def live(self, now: float) -> bool:
        """Whether a wallet may still answer the request."""
        return self.responded_at is None and now < self.expires_at


def dcql_query(issuer: str | None = None, unit_code: str | None = None) -> dict[str, Any]:
    """The DCQL query for one AchievementCredential, of `issuer` and unit `unit_code` if given."""
    credential: dict[str, Any] = {
        "id": QUERY_ID,
        "format": FORMAT,
        "meta": {"type_values": TYPE_VALUES},
    }
    claims = [{"path": path, "values": [value]}
              for path, value in ((ISSUER_PATH, issuer), (UNIT_PATH, unit_code)) if value]
    if claims:
        credential["claims"] = claims
    return {"credentials": [credential]}


def create_request(engine: Engine, *, response_uri: str, issuer: str | None = None,
                   unit_code: str | None = None, now: float,
                   lifetime: float = LIFETIME) -> tuple[PresentationRequest, str]:
    """Store a new request; return it and the viewer secret that reads its result."""
    errors: dict[str, object] = {name: f"{name} is at most {MAX_FILTER} characters"
              for name, value in (("issuer", issuer), ("unit_code", unit_code))
              if value and len(value) > MAX_FILTER}
    if issuer and not issuer.startswith("did:"):
        errors["issuer"] = "issuer must be a DID"
    if errors:
        raise InvalidInput("the request's filters are not valid", errors)
    viewer = secrets.token_urlsafe(32)
    row = {
        "id": str(uuid.uuid4()),
        "state": secrets.token_urlsafe(32),
        "nonce": secrets.token_urlsafe(32),
        "viewer_sha256": _sha256(viewer),
        "dcql_query": json.dumps(dcql_query(issuer, unit_code)),
        "client_id": CLIENT_ID_PREFIX + response_uri,
        "response_uri": response_uri,
        "created_at": now,
        "expires_at": now + lifetime,
    }
    with engine.begin() as connection:
        connection.execute(delete(presentation_requests)
                           .where(presentation_requests.c.created_at < now - KEPT))
        connection.execute(insert(presentation_requests).values(**row))
    return _request({**row, "responded_at": None, "report": None}), viewer


def viewed(engine: Engine, viewer: str) -> PresentationRequest:
    """The request the viewer secret belongs to; NotFound for an unknown secret."""
    query = select(presentation_requests).where(
        presentation_requests.c.viewer_sha256 == _sha256(viewer))
    with engine.connect() as connection:
        row = connection.execute(query).mappings().one_or_none()
    if row is None:
        raise NotFound("no presentation request has this link")
    return _request(dict(row))


Verifier = Callable[[Any, "PresentationRequest"], PresentationReport]


def respond(engine: Engine, *, state: str, vp_token: str, now: float,
            check: Verifier) -> PresentationRequest:
    """Take a wallet's answer to the request of `state` once: verify it, keep the report.

    Raises NotFound for an unknown state, Conflict for a request already answered or expired,
    InvalidInput for a `vp_token` that is not one presentation for the query.
    """
    request = _by_state(engine, state)
    if not request.live(now):
        raise Conflict("the request was already answered or has expired")
    presentation = _presentation(vp_token)
    claim = (update(presentation_requests)
             .where(presentation_requests.c.id == request.id,
                    presentation_requests.c.responded_at.is_(None),
                    presentation_requests.c.expires_at > now)
             .values(responded_at=now))
    with engine.begin() as connection:
        if connection.execute(claim).rowcount != 1:
            raise Conflict("the request was already answered or has expired")
    report = check(presentation, request)
    documents = _credentials(presentation)
    if report.fragment("format").status == Status.VALID:
        report = report.with_fragment(satisfies(request.dcql_query, documents))
    stored = {"report": report.to_json(), "documents": documents}
    with engine.begin() as connection:
        connection.execute(update(presentation_requests)
                           .where(presentation_requests.c.id == request.id)
                           .values(report=json.dumps(stored)))
    return _by_state(engine, state)


def declined(engine: Engine, *, state: str, error: str, now: float) -> None:
    """Record a wallet's error response (e.g. the learner declined) to the request of `state`."""
    request = _by_state(engine, state)
    if not request.live(now):
        raise Conflict("the request was already answered or has expired")
    stored = {"error": error[:100]}
    with engine.begin() as connection:
        connection.execute(update(presentation_requests)
                           .where(presentation_requests.c.id == request.id,
                                  presentation_requests.c.responded_at.is_(None))
                           .values(responded_at=now, report=json.dumps(stored)))


def satisfies(query: dict[str, Any], credentials: list[dict[str, Any]]) -> Fragment:
    """Whether every presented credential matches the query's one credential query."""
    [wanted] = query["credentials"]
    for credential in credentials:
        types = credential.get("type")
        types = types if isinstance(types, list) else [types]
        if not any(set(needed) <= set(types) for needed in wanted["meta"]["type_values"]):
            return _unmatched("The presented credential is not of the type asked for.", "type")
        for claim in wanted.get("claims", []):
            if _at(credential, claim["path"]) not in claim["values"]:
                return _unmatched(
                    "The presented credential does not have the "
                    f"{'.'.join(claim['path'])} asked for.", ".".join(claim["path"]))
    return Fragment("query", Status.VALID, None,
                    "The presented credential is the kind of credential asked for.",
                    {"query": wanted["id"]})


def _unmatched(message: str, path: str) -> Fragment:
    """The fragment of a presentation that does not answer the query."""
    return Fragment("query", Status.INVALID, Code.QUERY_NOT_SATISFIED, message, {"field": path})


def _at(document: Any, path: list[str]) -> Any:
    """The value at a DCQL claims path of string keys, or None."""
    for name in path:
        document = document.get(name) if isinstance(document, dict) else None
    return document


def _presentation(vp_token: str) -> Any:
    """The one presentation a DCQL `vp_token` holds for the query (a JSON object keyed by id)."""
    try:
        token = json.loads(vp_token)
    except ValueError:
        raise InvalidInput("vp_token is not JSON", {"vp_token": "not JSON"}) from None
    if not isinstance(token, dict) or set(token) != {QUERY_ID}:
        raise InvalidInput(f"vp_token must be an object with the one member {QUERY_ID!r}",
                           {"vp_token": f"needs exactly the member {QUERY_ID!r}"})
    entries = token[QUERY_ID]
    entries = entries if isinstance(entries, list) else [entries]
    if len(entries) != 1:
        raise InvalidInput("vp_token must hold one presentation for the query",
                           {"vp_token": "one presentation expected"})
    entry = entries[0]
    if isinstance(entry, str):
        try:
            entry = json.loads(entry)
        except ValueError:
            raise InvalidInput("an ldp_vc presentation must be a JSON object",
                               {"vp_token": "not a JSON object"}) from None
    if not isinstance(entry, dict):
        raise InvalidInput("an ldp_vc presentation must be a JSON object",
                           {"vp_token": "not a JSON object"})
    return entry


def _credentials(presentation: dict[str, Any]) -> list[dict[str, Any]]:
    """The credential objects a presentation embeds (others are left to its format check)."""
    value = presentation.get("verifiableCredential")
    return [credential for credential in (value if isinstance(value, list) else [value])
            if isinstance(credential, dict)]


def _by_state(engine: Engine, state: str) -> PresentationRequest:
    """The request of a state; NotFound for an unknown one."""
    query = select(presentation_requests).where(presentation_requests.c.state == state)
    with engine.connect() as connection:
        row = connection.execute(query).mappings().one_or_none()
    if row is None:
        raise NotFound("no presentation request has this state")
    return _request(dict(row))


def _request(row: dict[str, Any]) -> PresentationRequest:
    """A request from its row."""
    return PresentationRequest(
        id=row["id"], state=row["state"], nonce=row["nonce"],
        dcql_query=json.loads(row["dcql_query"]), client_id=row["client_id"],
        response_uri=row["response_uri"], created_at=row["created_at"],
        expires_at=row["expires_at"], responded_at=row["responded_at"],
        report=None if row["report"] is None else json.loads(row["report"]),
    )


def _sha256(text: str) -> str:
    """The hex SHA-256 of a secret (only hashes of viewer secrets are stored)."""
    return hashlib.sha256(text.encode()).hexdigest()
