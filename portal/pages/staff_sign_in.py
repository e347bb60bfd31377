"""Signing institution staff and operators in to their console, and out again."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from bank.attempts import FREE_FAILURES, MAX_WAIT, staff_account
from bank.errors import TooManyAttempts
from bank.staff import INSTITUTION, authenticate
from infra.errors import Unauthenticated
from portal import sessions
from portal.runtime import runtime
from portal.security import safe_next
from portal.sign_in import guarded, wait_message

bp = Blueprint("staff", __name__, url_prefix="/staff")

HOMES = {"institution": "institution.batches", "operator": "operator.statistics_page"}


@bp.get("/sign-in")
def sign_in_form() -> str | BaseResponse:
    """The staff sign-in form (a signed-in staff member goes straight to their console)."""
    signed_in = sessions.current(runtime().engine)
    if signed_in is not None and signed_in.role in HOMES:
        return redirect(url_for(HOMES[signed_in.role]), 303)
    return _form({}, "", safe_next(request.args.get("next")) or "")


@bp.post("/sign-in")
def sign_in() -> BaseResponse | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Check the user name and password, under the account's and the address's back-off."""
    engine = runtime().engine
    username = request.form.get("username", "").strip().lower()
    password = request.form.get("password", "")
    target = safe_next(request.form.get("next")) or ""
    errors: dict[str, str] = {}
    if not username:
        errors["username"] = _("Enter your user name.")
    if not password:
        errors["password"] = _("Enter your password.")
    if errors:
        return _form(errors, username, target), 400
    try:
        account = guarded(staff_account(username), lambda: _checked(username, password))
    except TooManyAttempts as error:
        return _form({"username": wait_message(error.retry_after)}, username, target), \
            error.status, {"Retry-After": str(error.retry_after)}
    except Unauthenticated as error:
        return _form({"password": _("The user name or the password is wrong.")}, username,
                     target), error.status
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


def _checked(username: str, password: str) -> dict:
    """The staff account of this user name and password; `Unauthenticated` otherwise."""
    account = authenticate(runtime().engine, username, password)
    if account is None:
        raise Unauthenticated("the user name or the password is wrong")
    return account


def _form(errors: dict[str, str], username: str, target: str) -> str:
    return render_template("staff/sign_in.html", errors=errors, username=username, next=target,
                           max_failures=FREE_FAILURES, max_minutes=int(MAX_WAIT // 60))
