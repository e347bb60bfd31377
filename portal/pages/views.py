"""The public pages: home, the employer verification page, result links and share links."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import segno
from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_date
from flask_babel import gettext as _
from markupsafe import Markup
from werkzeug.wrappers import Response as BaseResponse

from bank.sharing import (
    SHARE_PATH,
    SharedCredential,
    save_result,
    saved_result,
    share_token,
    shared,
)
from credentials.baking import unbake
from credentials.errors import BadBadge
from portal.explain import REASONS
from portal.pages.badges import badge_file
from portal.pages.report import PageResult, verify_for_page
from portal.ratelimit import limited
from portal.runtime import runtime
from verify.codes import Code

bp = Blueprint("pages", __name__)

DAY = 24 * 3600


@bp.get("/")
def home() -> str:
    """What the credit bank is, and where to go."""
    return render_template("home.html")


@bp.get("/verify")
def verify_form() -> BaseResponse | tuple[str, int] | str:
    """The verification form; `?url=<share link>` opens a share link of this portal."""
    url = request.args.get("url", "").strip()
    if not url:
        return render_template("verify.html", errors={})
    token = share_token(url, _origins())
    if token is None:
        message = _(
            "Only share links of this portal can be opened here; they look like %(example)s.",
            example=runtime().settings.public_url + SHARE_PATH + "…",
        )
        return render_template("verify.html", errors={"url": message}, url=url), 400
    return redirect(url_for("pages.shared_credential", token=token), 303)


@bp.post("/verify")
@limited("verify")
def verify_submit() -> BaseResponse | tuple[str, int]:
    """Keep an uploaded or pasted credential and send the visitor to its result link."""
    limit = current_app.config["MAX_CREDENTIAL_BYTES"]
    source = "file" if request.form.get("source") == "file" else "credential"
    if source == "file":
        upload = request.files.get("file")
        raw = upload.stream.read(limit + 1) if upload else b""
        missing = _("Choose a credential file to check.")
    else:
        raw = request.form.get("credential", "").strip().encode()
        missing = _("Paste the credential's JSON to check it.")
    error = None
    if not raw:
        error = missing
    elif len(raw) > limit:
        error = _(
            "This is larger than %(size)d KB, too large to be a credential.", size=limit // 1024
        )
    else:
        raw, error = unbaked(raw, limit)
    if error is not None:
        return render_template("verify.html", errors={source: error}), 400
    token = save_result(
        runtime().engine,
        raw.decode("utf-8", errors="replace"),
        now=time.time(),
        lifetime=current_app.config["RESULT_LINK_DAYS"] * DAY,
    )
    return redirect(url_for("pages.result", token=token), 303)


@bp.get("/verify/result/<token>")
def result(token: str) -> str:
    """A shareable verification result, verified again now (so a later revocation shows)."""
    credential = saved_result(runtime().engine, token, now=time.time())
    if credential is None:
        abort(404, description=_("This result link is unknown or has expired."))
    return render_template(
        "result.html",
        result=_verified(credential),
        link=public_link("pages.result", token=token),
        days=current_app.config["RESULT_LINK_DAYS"],
    )


@bp.get("/s/<token>")
def shared_credential(token: str) -> str:
    """A credential or transcript a learner shared, with its live verification and a QR code."""
    link = _live_share(token)
    url = public_link("pages.shared_credential", token=token)
    return render_template(
        "shared.html",
        result=_verified(link.credential_json),
        shared=link,
        link=url,
        expires=format_date(datetime.fromtimestamp(link.expires_at, UTC), "long"),
        qr=qr_svg(url, _("QR code of this share link")),
    )


@bp.get("/s/<token>/credential.json")
def shared_download(token: str) -> Response:
    """The shared credential itself, as a JSON file to keep or check elsewhere."""
    link = _live_share(token)
    return Response(
        link.credential_json,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{link.kind}.json"'},
    )


@bp.get("/s/<token>/badge.svg")
def shared_badge(token: str) -> Response:
    """The shared credential baked in an Open Badges 3.0 SVG image (not for a transcript)."""
    link = _live_share(token)
    if link.kind != "credential":
        abort(404)
    return badge_file(json.loads(link.credential_json), "badge")


def public_link(endpoint: str, **values: Any) -> str:
    """The absolute link to a page at the portal's public address."""
    return runtime().settings.public_url + url_for(endpoint, **values)


def qr_svg(url: str, title: str) -> Markup:
    """A QR code of `url` as inline SVG markup (drawn on the server, no script needed), at its
    natural size with a viewBox, so that a narrow screen can scale it down whole."""
    code = segno.make(url, error="m")
    width, _height = code.symbol_size(scale=5, border=2)
    svg = code.svg_inline(scale=5, border=2, dark="#000", light="#fff", title=title,
                          omitsize=True)
    return Markup(svg.replace("<svg ", f'<svg width="{width}" height="{width}" ', 1))


def unbaked(raw: bytes, limit: int) -> tuple[bytes, str | None]:
    """The credential baked in an Open Badges image (the result keeps its JSON), else the input;
    with the form's error for an image that carries no readable credential."""
    try:
        baked = unbake(raw, max_bytes=limit)
    except BadBadge:
        return raw, str(REASONS[Code.BADGE_UNREADABLE])
    return (raw if baked is None else baked.encode("utf-8")), None


def _live_share(token: str) -> SharedCredential:
    """The credential shared under a live token; 404 for an unknown, expired or withdrawn one."""
    link = shared(runtime().engine, token, now=time.time())
    if link is None:
        abort(404, description=_("This share link is unknown, has expired or was withdrawn."))
    return link


def _verified(credential: str) -> PageResult:
    """The credential verified now against the ledger, ready for a page."""
    return verify_for_page(credential, current_app.config["MAX_CREDENTIAL_BYTES"])



def _origins() -> set[str]:
    """The origins share links of this portal may have: its public address and this request's."""
    public = urlsplit(runtime().settings.public_url)
    return {f"{public.scheme}://{public.netloc}".lower(), request.host_url.rstrip("/").lower()}
