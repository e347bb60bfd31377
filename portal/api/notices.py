"""The learner's notices in the API: the inbox (rendered in a language), marking it read, and
which notices to get by e-mail."""

from __future__ import annotations

from flask import Flask
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from bank.notices import (
    LANGUAGES,
    LEARNER_KINDS,
    inbox_page,
    mark_read,
    notice_json,
    preferences_of,
    save_preferences,
    unread_count,
)
from portal.api import Blueprint
from portal.api.auth import BEARER, LEARNER, Principal, requires
from portal.runtime import runtime

blp = Blueprint("notices_api", __name__, url_prefix="/api/v1",
                description="Your notices and which of them are e-mailed to you")


class InboxArgsSchema(Schema):
    """The language to render notices in."""

    lang = fields.String(load_default="en", validate=validate.OneOf(LANGUAGES))
    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})


class NoticeSchema(Schema):
    """A notice, rendered in the language asked for."""

    id = fields.Integer(required=True)
    kind = fields.String(required=True)
    title = fields.String(required=True)
    text = fields.String(required=True)
    params = fields.Dict(required=True)
    link = fields.String(allow_none=True, required=True)
    created_at = fields.String(required=True)
    read = fields.Boolean(required=True)
    email = fields.String(allow_none=True, required=True,
                          metadata={"description": "pending, sending, sent or failed; null "
                                                   "when not e-mailed"})


class InboxSchema(Schema):
    """Your notices, newest first, and how many are unread."""

    notices = fields.List(fields.Nested(NoticeSchema), required=True)
    unread = fields.Integer(required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next (older) page, as `after`; null on the last."})


class MarkedSchema(Schema):
    """How many notices were marked read."""

    marked = fields.Integer(required=True)


class PreferencesSchema(Schema):
    """Where to e-mail notices and which kinds (none by default)."""

    email = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=254))
    kinds = fields.List(fields.String(validate=validate.OneOf(LEARNER_KINDS)), required=True,
                        validate=validate.Length(max=len(LEARNER_KINDS)))


def register(api: Api, app: Flask) -> None:
    """Register the notices API."""
    api.register_blueprint(blp)


@blp.route("/learners/me/notices")
class Notices(MethodView):
    """Your notices."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(InboxArgsSchema, location="query")
    @blp.response(200, InboxSchema)
    def get(self, args: dict, principal: Principal) -> dict:
        """Your notices, newest first, a page at a time (follow `next`), rendered in `lang`
        (en or zh)."""
        engine = runtime().engine
        rows, later = inbox_page(engine, LEARNER, principal.id, after=args["after"])
        return {"notices": [notice_json(row, args["lang"]) for row in rows],
                "unread": unread_count(engine, LEARNER, principal.id), "next": later}


@blp.route("/learners/me/notices/read")
class NoticesRead(MethodView):
    """Marking your notices read."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, MarkedSchema)
    def post(self, principal: Principal) -> dict:
        """Mark every unread notice read."""
        return {"marked": mark_read(runtime().engine, LEARNER, principal.id)}


@blp.route("/learners/me/notice-preferences")
class NoticePreferences(MethodView):
    """Which notices are e-mailed to you, and where."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, PreferencesSchema)
    def get(self, principal: Principal) -> dict:
        """Your e-mail address for notices and the kinds you chose."""
        return preferences_of(runtime().engine, principal.id).to_json()

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(PreferencesSchema)
    @blp.response(200, PreferencesSchema)
    def put(self, body: dict, principal: Principal) -> dict:
        """Choose an address and the kinds of notice to e-mail there (an empty list: none)."""
        return save_preferences(runtime().engine, principal.id, email=body["email"],
                                kinds=body["kinds"]).to_json()
