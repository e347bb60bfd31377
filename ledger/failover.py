"""A web3 provider over several JSON-RPC endpoints that fails over to the next one."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import requests
from web3.providers import HTTPProvider, JSONBaseProvider
from web3.types import RPCEndpoint, RPCResponse

from ledger.errors import LedgerUnavailable

_UNREACHABLE = (requests.ConnectionError, requests.Timeout, ConnectionError)


class FailoverProvider(JSONBaseProvider):
    """Sends each request to the endpoint that last answered; on a connection failure, the next."""

    def __init__(self, urls: Sequence[str], *, timeout: float = 10.0) -> None:
        super().__init__()
        if not urls:
            raise ValueError("at least one ledger URL is required")
        self.urls = tuple(urls)
        self._endpoints = [
            HTTPProvider(
                url, request_kwargs={"timeout": timeout}, exception_retry_configuration=None
            )
            for url in self.urls
        ]
        self._current = 0
        self._lock = threading.Lock()

    @property
    def current_url(self) -> str:
        """The endpoint requests go to now."""
        return self.urls[self._current]

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        """Send one request, trying each endpoint once, starting with the current one."""
        start = self._current
        failures: list[str] = []
        for offset in range(len(self._endpoints)):
            index = (start + offset) % len(self._endpoints)
            try:
                response = self._endpoints[index].make_request(method, params)
            except _UNREACHABLE as exc:
                failures.append(f"{self.urls[index]}: {exc.__class__.__name__}")
                continue
            except requests.HTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 500
                if status < 500:
                    raise
                failures.append(f"{self.urls[index]}: HTTP {status}")
                continue
            if index != start:
                with self._lock:
                    self._current = index
            return response
        raise LedgerUnavailable("no ledger endpoint answered (" + "; ".join(failures) + ")")

    def is_connected(self, show_traceback: bool = False) -> bool:
        """Whether any endpoint answers."""
        return any(endpoint.is_connected() for endpoint in self._endpoints)
