"""issuers."""
