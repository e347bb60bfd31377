"""Errors raised by the credentials package; every one carries a user-facing message."""


class CredentialError(Exception):
    """Root of every credentials error; `message` is safe to show to a user."""

    status: int = 422

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidKey(CredentialError, ValueError):
    """A key, seed, signature or multibase value is malformed."""


class InvalidDid(CredentialError, ValueError):
    """A DID or verification method id is malformed."""


class UnknownContext(CredentialError, LookupError):
    """A JSON-LD context URL that is not bundled with this package."""


class CanonicalizationError(CredentialError, ValueError):
    """A document cannot be put in canonical form (undefined term, relative IRI, bad number)."""


class MalformedProof(CredentialError, ValueError):
    """A proof entry is missing, duplicated, or has unknown or ill-typed members."""


class InvalidCredential(CredentialError, ValueError):
    """A credential or a builder argument does not have the expected shape."""


class SealError(CredentialError, ValueError):
    """A sealed secret cannot be opened: wrong master key, tampering, or bad envelope."""

    status = 500


class MerkleError(CredentialError, ValueError):
    """A Merkle batch or proof argument is invalid (empty batch, wrong digest size, bad index)."""


class BadBadge(CredentialError, ValueError):
    """A baked badge image cannot be read: not SVG or PNG, hostile, or without one credential."""
