"""Open Badges 3.0 baked badges: a credential drawn as an SVG image, with the credential inside,
downloaded beside its JSON and PDF."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from flask import Response
from flask_babel import format_date
from flask_babel import gettext as _

from credentials.baking import BadgeFace, bake_svg
from portal.i18n import current_language

BADGE_MIMETYPE = "image/svg+xml"
BADGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def badge_file(document: dict[str, Any], name: str) -> Response:
    """The credential baked in an SVG badge in the page's language, as a file to save: a policy
    stops any script should the file be opened in the browser."""
    filename = _UNSAFE_FILENAME.sub("-", name).strip("-.") or "badge"
    return Response(
        bake_svg(document, badge_face(document)),
        mimetype=BADGE_MIMETYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}.svg"',
            "Content-Security-Policy": BADGE_POLICY,
        },
    )


def badge_face(document: dict[str, Any]) -> BadgeFace:
    """What the badge of a credential shows: its achievement, issuer, credits and date."""
    subject = _member(document, "credentialSubject")
    achievement = _member(subject, "achievement")
    issuer = _member(document, "issuer")
    name = issuer.get("nameZh") if current_language() == "zh" else None
    name = name if isinstance(name, str) and name else issuer.get("name")
    credits = subject.get("creditsEarned")
    has_credits = isinstance(credits, int | float) and not isinstance(credits, bool)
    title = achievement.get("name") or document.get("name")
    return BadgeFace(
        title=title if isinstance(title, str) else _("Credential"),
        issuer=name if isinstance(name, str) else "",
        heading=_("Lifelong Learning Credit Bank"),
        credits=f"{credits:g}" if has_credits else None,
        credits_label=_("credits"),
        date=_date_line(subject, document),
        lang=current_language(),
    )


def _date_line(subject: dict[str, Any], document: dict[str, Any]) -> str:
    """The line "Completed on <date>", else "Valid from <date>" (dates in UTC), else none."""
    for label, value in ((_("Completed on"), subject.get("activityEndDate")),
                         (_("Valid from"), document.get("validFrom"))):
        if isinstance(value, str) and value:
            try:
                return f"{label} {format_date(date.fromisoformat(value[:10]), 'long')}"
            except ValueError:
                continue
    return ""


def _member(document: dict[str, Any], name: str) -> dict[str, Any]:
    """A member that should be an object, or an empty one."""
    value = document.get(name)
    return value if isinstance(value, dict) else {}
