"""The Flask application factory: configuration, the runtime, the APIs and the pages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask_smorest import Api

from infra.secrets import derive_secret
from infra.settings import Settings
from portal import errors, i18n, oid4vci, oid4vp, pages, request_log, security, vcapi
from portal.api import agreements as agreements_api
from portal.api import applications, audit, closure, issuers, learners, status, verify
from portal.api import consents as consents_api
from portal.api import corrections as corrections_api
from portal.api import notices as notices_api
from portal.api import public as public_api
from portal.ratelimit import rate_limiter
from portal.runtime import Runtime

DEFAULTS: dict[str, Any] = {
    "API_TITLE": "creditbank",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "MAX_CREDENTIAL_BYTES": 256 * 1024,
    "MAX_JSON_DEPTH": 64,
    "RATE_LIMITS": {"verify": (120, 60)},
}


def create_app(runtime: Runtime | None = None, config: Mapping[str, Any] | None = None) -> Flask:
    """Build the portal around an open runtime (one is opened from the environment if not given)."""
    app = Flask(__name__)
    app.config.update(DEFAULTS)
    app.config.update(config or {})
    if runtime is None:
        runtime = Runtime(Settings.from_env())
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = derive_secret(
            runtime.settings.master_key(), b"creditbank portal sessions"
        )
    app.extensions["creditbank"] = runtime
    app.extensions["rate_limiter"] = rate_limiter(
        runtime.engine, runtime.settings.master_key(), runtime.settings.data_dir)
    request_log.init_app(app)
    security.init_app(app, runtime.settings)
    api = Api(app)
    errors.init_app(app, api)
    api.register_blueprint(verify.blp)
    api.register_blueprint(vcapi.blp)
    issuers.register(api, app)
    learners.register(api, app)
    closure.register(api)
    applications.register(api, app)
    audit.register(api, app)
    status.register(api, app)
    notices_api.register(api, app)
    public_api.register(api, app)
    agreements_api.register(api, app)
    consents_api.register(api)
    corrections_api.register(api)
    oid4vci.register(app)
    i18n.init_app(app)
    pages.init_app(app)
    oid4vp.register(app)
    app.add_url_rule("/healthz", "healthz", healthz)
    return app


def healthz() -> dict:
    """The process is up and serving: {"status": "ok"} (no database or ledger call)."""
    return {"status": "ok"}
