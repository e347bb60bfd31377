"""Bundled JSON-LD contexts and the document loader that serves only them."""

import json
from importlib import resources
from types import MappingProxyType

from credentials.errors import UnknownContext
from credentials.jsontypes import JsonObject

VC_V2 = "https://www.w3.org/ns/credentials/v2"
VC_V1 = "https://www.w3.org/2018/credentials/v1"
OB_V3 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
CLR_V2 = "https://purl.imsglobal.org/spec/clr/v2p0/context-2.0.1.json"
DATA_INTEGRITY_V2 = "https://w3id.org/security/data-integrity/v2"
MULTIKEY_V1 = "https://w3id.org/security/multikey/v1"
DID_V1 = "https://www.w3.org/ns/did/v1"
CREDITBANK_V1 = "https://creditbank.org/contexts/v1"
AGREEMENT_V1 = "https://creditbank.org/contexts/agreement/v1"
EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"

FILES = MappingProxyType(
    {
        VC_V2: "credentials-v2.json",
        VC_V1: "credentials-v1.json",
        OB_V3: "ob-v3p0-3.0.3.json",
        CLR_V2: "clr-v2p0-2.0.1.json",
        DATA_INTEGRITY_V2: "data-integrity-v2.json",
        MULTIKEY_V1: "multikey-v1.json",
        DID_V1: "did-v1.json",
        CREDITBANK_V1: "creditbank-v1.json",
        AGREEMENT_V1: "agreement-v1.json",
        EXAMPLES_V2: "credentials-examples-v2.json",
    }
)

CREDENTIAL_CONTEXTS = (VC_V2, OB_V3, CREDITBANK_V1)
CLR_CONTEXTS = (VC_V2, CLR_V2, OB_V3, CREDITBANK_V1)
AGREEMENT_CONTEXTS = (VC_V2, AGREEMENT_V1)


def _read(name: str) -> bytes:
    return resources.files(__package__).joinpath("contexts", name).read_bytes()


RAW = MappingProxyType({url: _read(name) for url, name in FILES.items()})
_DOCUMENTS: MappingProxyType[str, JsonObject] = MappingProxyType(
    {url: json.loads(raw) for url, raw in RAW.items()}
)


def context_document(url: str) -> JsonObject:
    """The parsed bundled context at `url` (shared; do not mutate)."""
    try:
        return _DOCUMENTS[url]
    except (KeyError, TypeError):
        raise UnknownContext(
            f"JSON-LD context {url!r} is not bundled; remote loading is off"
        ) from None
