"""The portal's pages (server-rendered, in Chinese and English, working without JavaScript)."""

from __future__ import annotations

from flask import Flask

from portal import csrf, sessions
from portal.explain import SYMBOLS, VERDICT_EXPLANATIONS, VERDICTS
from portal.pages import (
    access,
    agreements,
    citizen,
    corrections,
    guardian,
    institutions,
    notices,
    operator,
    public,
    rights,
    staff_sign_in,
)
from portal.pages.views import bp


def init_app(app: Flask) -> None:
    """Register the pages and CSRF protection."""
    app.config.setdefault("RESULT_LINK_DAYS", 30)
    csrf.init_app(app)
    sessions.init_app(app)
    app.jinja_env.globals.update(
        SYMBOLS=SYMBOLS, VERDICTS=VERDICTS, VERDICT_EXPLANATIONS=VERDICT_EXPLANATIONS
    )
    app.register_blueprint(bp)
    for console in (staff_sign_in.bp, institutions.bp, operator.bp):
        app.register_blueprint(console)
    citizen.init_app(app)
    guardian.init_app(app)
    app.register_blueprint(agreements.bp)
    app.register_blueprint(access.bp)
    notices.init_app(app)
    public.init_app(app)
    rights.init_app(app)
    corrections.init_app(app)
