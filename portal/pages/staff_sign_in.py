"""Signing institution staff and operators in to their console, and out again."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from bank.staff import INSTITUTION, authenticate
from portal import sessions
from portal.runtime import runtime

bp = Blueprint("staff", __name__, url_prefix="/staff")

LOCK_ROLE = "staff"
HOMES = {"institution": "institution.batches", "operator": "operator.statistics_page"}


@bp.get("/sign-in")
def sign_in_form() -> str | BaseResponse:
    """The staff sign-in form (a signed-in staff member goes straight to their console)."""
    signed_in = sessions.current(runtime().engine)
    if signed_in is not None and signed_in.role in HOMES:
        return redirect(url_for(HOMES[signed_in.role]), 303)
    return _form({}, "", request.args.get("next", ""))


@bp.post("/sign-in")
def sign_in() -> BaseResponse | tuple[str, int]:
    """Check the user name and password (with a lockout after repeated failures)."""
    engine = runtime().engine
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    target = request.form.get("next", "")
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Enter your user name.")
    if not password:
        errors["password"] = _("Enter your password.")
    if not errors and sessions.lock_seconds_left(engine, LOCK_ROLE, username) > 0:
        errors["username"] = _("Too many failed attempts: this account is locked for "
                               "%(minutes)d minutes.", minutes=sessions.LOCK_SECONDS // 60)
    account = None
    if not errors:
        account = authenticate(engine, username, password)
        if account is None:
            sessions.record_failure(engine, LOCK_ROLE, username)
            errors["password"] = _("The user name or the password is wrong.")
    if account is None:
        return _form(errors, username, target), 401 if "password" in errors else 400
    sessions.clear_failures(engine, LOCK_ROLE, username)
    subject = account["issuer_id"] if account["role"] == INSTITUTION else account["username"]
    sessions.sign_in(engine, role=account["role"], subject=subject, label=account["username"],
                     username=account["username"])
    home = url_for(HOMES[account["role"]])
    prefix = home.rsplit("/", 1)[0] + "/"
    return redirect(target if target.startswith(prefix) else home, 303)


@bp.post("/sign-out")
def sign_out() -> BaseResponse:
    """End the session and return to the home page."""
    sessions.sign_out(runtime().engine)
    return redirect(url_for("pages.home"), 303)


def _form(errors: dict[str, str], username: str, target: str) -> str:
    return render_template("staff/sign_in.html", errors=errors, username=username, next=target,
                           max_failures=sessions.MAX_FAILURES,
                           lock_minutes=sessions.LOCK_SECONDS // 60)
