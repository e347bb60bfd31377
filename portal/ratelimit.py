"""A fixed-window rate limit per client address for public endpoints."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import current_app, request
from flask_smorest import abort

View = TypeVar("View", bound=Callable[..., Any])


class RateLimiter:
    """Counts requests per (scope, client) in windows of `period` seconds (per process)."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, scope: str, client: str, limit: int, period: int) -> bool:
        """Count one request; False when the client is over its limit in this window."""
        window = int(time.time() // period)
        with self._lock:
            if len(self._windows) > 100_000:
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
            start, count = self._windows.get((scope, client), (window, 0))
            count = count + 1 if start == window else 1
            self._windows[(scope, client)] = (window, count)
        return count <= limit


def limited(scope: str) -> Callable[[View], View]:
    """Apply the app's `RATE_LIMITS[scope]` = (requests, seconds) to a view."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            limits = current_app.config["RATE_LIMITS"]
            if scope in limits:
                limit, period = limits[scope]
                limiter: RateLimiter = current_app.extensions["rate_limiter"]
                if not limiter.hit(scope, request.remote_addr or "-", limit, period):
                    abort(429, message=f"too many requests: at most {limit} per {period} s")
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
