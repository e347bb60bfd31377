"""The learner's "who looked at my record" page: every read of their personal data by an
institution's staff, the city centre or a guardian, newest first, with the task it served."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bank.access import CENTRE, GUARDIAN, reads_of
from portal.i18n import current_language
from portal.pages.citizen import credential_ref, signed_in_account, signed_in_learner
from portal.pages.console import when
from portal.runtime import runtime

bp = Blueprint("access", __name__)

PAGE_SIZE = 20
MAX_CURSOR = 2**63 - 1
PURPOSES = {
    "first-review": _l("the institution's review of your application"),
    "second-review": _l("the city centre's second review of your application"),
    "appeal": _l("your appeal"),
    "flag-review": _l("a review of your decision after a credential it used was revoked"),
    "deposit-check": _l("checking a credential you deposited"),
    "agreement-review": _l("deciding your request for a pre-approval"),
    "identity-check": _l("checking your identity papers in person"),
    "correction": _l("your request for a correction"),
    "guardian": _l("your guardian looking after your account"),
    "issuer-record": _l("the institution that issued it looking up its record of it"),
}
WHAT = {
    "application": _l("Application"),
    "deposit": _l("Deposit"),
    "agreement": _l("Pre-approval request"),
    "account": _l("Account"),
    "record": _l("Learning record"),
    "export": _l("Everything the bank holds about you"),
    "correction": _l("Correction request"),
    "credential": _l("Credential"),
}
LINKS = {
    "application": ("citizen.application", "application_id"),
    "deposit": ("citizen.deposits", None),
    "agreement": ("agreements.agreement", "agreement_id"),
    "account": ("citizen.dashboard", None),
    "record": ("citizen.dashboard", None),
    "export": ("rights.data", None),
    "correction": ("rights.corrections_page", None),
}


@bp.get("/me/access")
@signed_in_learner
def access() -> str:
    """Who looked at the learner's personal data, newest first, a page at a time ("older")."""
    before = _cursor(request.args.get("before"))
    reads, older = reads_of(runtime().engine, signed_in_account()["id"], before=before,
                            limit=PAGE_SIZE)
    return render_template("learner/access.html", reads=[_shown(read) for read in reads],
                           older=older, first=before is None)


def _shown(read: dict) -> dict:
    """A read as the page says it: when, who (and for which organisation), what, and why."""
    return {"id": read["id"], "when": when(read["at"]), "who": _who(read),
            "organisation": _organisation(read), "what": WHAT.get(read["what"], read["what"]),
            "link": _link(read), "why": PURPOSES.get(read["purpose"], read["purpose"]),
            "purpose": read["purpose"]}


def _who(read: dict) -> str:
    """The person who read, by their staff name; a guardian is not named by their DID."""
    kind, _sep, name = read["actor"].partition(":")
    return "" if kind == GUARDIAN else name


def _organisation(read: dict) -> str:
    if read["organisation"] == CENTRE:
        return _("the city learning centre")
    if read["organisation"] == GUARDIAN:
        return _("your guardian")
    return str(read["organisation_name"][current_language()])


def _link(read: dict) -> str | None:
    """The learner's own page of what was read, where one exists."""
    if read["what"] == "credential":
        return url_for("citizen.credential", ref=credential_ref(read["object_id"]))
    endpoint, argument = LINKS.get(read["what"], (None, None))
    if endpoint is None or endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **({argument: read["object_id"]} if argument else {}))


def _cursor(value: str | None) -> int | None:
    """`?before=`: the id of the oldest read seen; 400 unless a whole number."""
    if value is None:
        return None
    if not (value.isascii() and value.isdigit() and 1 <= len(value) <= 19
            and 1 <= int(value) <= MAX_CURSOR):
        abort(400, description=_("There is no such page of this list."))
    return int(value)
