"""Security headers on every portal response; HSTS only when the public URL is https."""

from __future__ import annotations

from dataclasses import replace

from portal.app import create_app
from portal.runtime import Runtime

EXPECTED = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
HSTS = "Strict-Transport-Security"


def security_headers(response) -> dict[str, str]:
    """The response's security headers."""
    return {name: value for name, value in response.headers.items() if name in {*EXPECTED, HSTS}}


def test_every_response_carries_the_security_headers(runtime: Runtime) -> None:
    client = create_app(runtime).test_client()

    responses = [
        client.get("/api/v1/openapi.json"),
        client.get("/no/such/page"),
        client.post("/api/v1/verify", data=b"not json"),
        client.post("/api/v1/units", json={}),
    ]

    assert [response.status_code for response in responses] == [200, 404, 200, 401]
    assert [security_headers(response) for response in responses] == [EXPECTED] * 4


def test_hsts_only_over_https(runtime: Runtime) -> None:
    runtime.settings = replace(runtime.settings, public_url="https://bank.example.org")
    response = create_app(runtime).test_client().get("/api/v1/openapi.json")

    assert security_headers(response) == {HSTS: "max-age=31536000; includeSubDomains", **EXPECTED}
