"""A small Flask app with the portal's request logging, whose routes carry values in the path."""

from __future__ import annotations

from flask import Flask

from portal import request_log


def routes_app() -> Flask:
    """Two routes with path values (a credential reference, a share token) and nothing else."""
    app = Flask(__name__)
    request_log.init_app(app)
    app.add_url_rule("/me/credentials/<ref>", "credential", lambda ref: "a credential")
    app.add_url_rule("/verify/<token>", "verified", lambda token: ("gone", 410))
    return app
