"""The learner side of the credit-bank API: accounts, the learner's own record, deposits (and
their review by the city centre), the chosen programme and transcripts."""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, request
from flask.views import MethodView
from flask_smorest import Api
from marshmallow import ValidationError

from bank.access import (
    answered_deposit,
    checked_identity,
    deposit_queue,
    read_deposit,
    reads_of,
    staff_reader,
)
from bank.accounts import learner_json, national_ids_from_file, revoke_token
from bank.applications import choose_target, progress, target_of
from bank.attempts import learner_account
from bank.deposits import (
    deposit,
    deposit_json,
    deposit_row,
    learner_deposits,
    review_deposit,
)
from bank.export import download
from bank.identity import identity_json
from bank.planner import Plan, add_to_plan, plan_json, plan_of, remove_from_plan
from bank.records import record_page
from bank.transcripts import request_transcript, transcript_json
from bank.wallet import create_offer
from infra.errors import Conflict, InvalidInput, NotFound
from infra.times import iso_utc
from portal.api import Blueprint
from portal.api.auth import (
    BEARER,
    INSTITUTION,
    LEARNER,
    OPERATOR,
    Principal,
    bearer_token,
    requires,
)
from portal.api.bank_schemas import (
    AccessLogSchema,
    AccessQuerySchema,
    AccountSchema,
    ActivationCodeSchema,
    BulkOpenedSchema,
    BulkOpenSchema,
    DepositListSchema,
    DepositOutSchema,
    DepositQuerySchema,
    DepositQueueSchema,
    DepositReviewSchema,
    DepositSchema,
    ExportArgsSchema,
    IdentityCheckSchema,
    IdentitySchema,
    ListPageArgsSchema,
    LogInSchema,
    OpenAccountSchema,
    OpenedSchema,
    PlanSchema,
    PlanUnitSchema,
    ProgressSchema,
    RecordPageArgsSchema,
    RecordSchema,
    TargetSchema,
    TokenSchema,
    TranscriptRequestSchema,
    TranscriptSchema,
    WalletOfferSchema,
)
from portal.api.verify import record_context
from portal.i18n import current_language
from portal.oid4vci import offer_links
from portal.pages.rights import attachment
from portal.ratelimit import limited
from portal.runtime import runtime
from portal.sessions import end_sessions_of
from portal.sign_in import guarded

ACCOUNT_LIMIT = (30, 60)

blp = Blueprint("learners", __name__, url_prefix="/api/v1",
                description="Learner accounts, records, deposits and transcripts")


def register(api: Api, app: Flask) -> None:
    """Register the learner API."""
    app.config["RATE_LIMITS"] = {"accounts": ACCOUNT_LIMIT, **app.config["RATE_LIMITS"]}
    api.register_blueprint(blp)


@blp.route("/learners")
class Learners(MethodView):
    """Learner accounts."""

    @limited("accounts")
    @blp.arguments(OpenAccountSchema)
    @blp.response(201, AccountSchema)
    def post(self, body: dict) -> dict:
        """Open your account with your national id and a password (or activate the account an
        institution or the city centre opened, with the activation code it gave you). A national
        id alone proves nothing: your record shows what was issued to you once you prove who you
        are (see `GET /learners/me`)."""
        return runtime().accounts.open(body["national_id"], body["password"],
                                display_name=body["display_name"],
                                activation_code=body["activation_code"])


@blp.route("/learners/token")
class LearnerToken(MethodView):
    """Learner log-in and log-out."""

    @limited("accounts")
    @blp.arguments(LogInSchema)
    @blp.response(201, TokenSchema)
    @blp.alt_response(429, description="Too many failed sign-ins of this account (by any way "
                      "of signing in) or from this address: wait `Retry-After` seconds.")
    def post(self, body: dict) -> dict:
        """A bearer token for 12 hours, for your national id and password. Failed sign-ins
        count toward the account's back-off together with the web form's."""
        accounts = runtime().accounts
        did, _hash = accounts.identity(body["national_id"])
        learner = guarded(learner_account(did), lambda: accounts.authenticate(
            body["national_id"], body["password"]))
        return accounts.new_token(learner)

    @requires(LEARNER, closing=True)
    @blp.doc(security=[BEARER])
    @blp.response(204)
    def delete(self, principal: Principal) -> None:
        """Log out: the token you send stops working (signing out of the web ends all of
        them)."""
        revoke_token(runtime().engine, bearer_token())


@blp.route("/learners/bulk")
class BulkAccounts(MethodView):
    """Accounts opened by an institution."""

    @requires(INSTITUTION)
    @blp.doc(security=[BEARER], requestBody={"required": True, "content": {
        "application/json": {"schema": BulkOpenSchema},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "file": {"type": "string", "format": "binary"}}}}}})
    @blp.response(201, BulkOpenedSchema)
    def post(self, principal: Principal) -> dict:
        """Open accounts for learners you issued credentials to (JSON, or a CSV file with a
        national_id column); each account gets an activation code to hand to its learner, which
        shows them what you issued. A national id you issued nothing to is refused."""
        if "file" in request.files:
            upload = request.files["file"]
            national_ids = national_ids_from_file(upload.read(), upload.filename or "")
        else:
            try:
                body = BulkOpenSchema().load(request.get_json(silent=True) or {})
            except ValidationError as error:
                raise InvalidInput("the request is invalid", error.messages_dict) from None
            national_ids = body["national_ids"]
        opened = runtime().accounts.open_in_bulk(principal.id, national_ids,
                                           actor=f"institution:{principal.id}")
        return {"accounts": [item.to_json() for item in opened]}


@blp.route("/learners/me")
class Me(MethodView):
    """Your account and record."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(RecordPageArgsSchema, location="query")
    @blp.response(200, RecordSchema)
    def get(self, args: dict, principal: Principal) -> dict:
        """Your account, what you proved of who you are, a page of your record (oldest first),
        the newest page of your deposits, and your programme. Until you prove who you are, the
        record lists only what you deposited and what the institutions whose activation codes
        you entered issued."""
        learner = principal.record
        with runtime().engine.connect() as connection:
            try:
                target: dict | None = target_of(connection, learner)
            except NotFound:
                target = None
            page = record_page(connection, learner, limit=args["limit"], after=args["after"])
            return {
                "account": learner_json(learner),
                "identity": identity_json(connection, learner["id"]),
                "credentials": page.credentials,
                "next": page.next,
                "deposits": learner_deposits(connection, learner["id"])[0],
                "target": target,
            }


@blp.route("/learners/me/access")
class Access(MethodView):
    """Who looked at your personal data."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(AccessQuerySchema, location="query")
    @blp.response(200, AccessLogSchema)
    def get(self, args: dict, principal: Principal) -> dict:
        """Every read of your personal data by an institution's staff, the city centre or a
        guardian, newest first, with the task it served; `next` is the `before` of the next
        (older) page, null on the last."""
        reads, older = reads_of(runtime().engine, principal.id, before=args["before"],
                                limit=args["limit"])
        return {"reads": reads, "next": older}


@blp.route("/learners/me/export")
class Export(MethodView):
    """Everything the bank holds about you."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ExportArgsSchema, location="query")
    @blp.response(200, description="The export as a file: JSON (`format=json`) or PDF.")
    def get(self, args: dict, principal: Principal) -> Response:
        """Download everything the bank holds about you: every row of your account, credentials
        (the documents themselves), deposits, applications with their reviews, decisions and
        appeals, agreements, consents, corrections, share links, wallet offers, notices, who
        looked at your record and the audit entries about you; secrets kept as hashes are left
        out and listed. `format=pdf` gives a readable summary. Recorded in the audit log."""
        made = download(runtime().engine, principal.record, actor=f"{LEARNER}:{principal.id}",
                        kind=args["format"], lang=args["lang"] or current_language())
        return attachment(made.content, made.media_type, made.filename)


@blp.route("/learners/me/activation-codes")
class ActivationCodes(MethodView):
    """Activation codes institutions gave you."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ActivationCodeSchema)
    @blp.response(200, IdentitySchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Enter an institution's activation code: your record shows what it issued to you."""
        opened = runtime()
        opened.accounts.redeem(principal.record, body["activation_code"])
        return identity_json(opened.engine, principal.id)


@blp.route("/learners/identity-checks")
class IdentityChecks(MethodView):
    """Checks of a learner's identity papers, in person at the city centre."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(IdentityCheckSchema)
    @blp.response(201, OpenedSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Record that you checked the learner's papers in person: their account (opened if
        needed) shows everything issued to them; its password and sessions end, and the code
        returned lets them set a new one. Recorded in the audit log."""
        opened = runtime()
        checked = opened.accounts.check_in_person(body["national_id"], operator=principal.id,
                                                  actor=f"operator:{principal.id}")
        end_sessions_of(opened.engine, LEARNER, checked.did)
        checked_identity(opened.engine, staff_reader(OPERATOR, principal.id, principal.id),
                         checked.did)
        return checked.to_json()


@blp.route("/learners/me/target")
class Target(MethodView):
    """The programme you aim at."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(TargetSchema)
    @blp.response(200, TargetSchema)
    def put(self, body: dict, principal: Principal) -> dict:
        """Choose a programme: an approved version of its rule set."""
        opened = runtime()
        return choose_target(opened.engine, opened.view, principal.record,
                             body["rule_set_id"], body["version"])


@blp.route("/learners/me/progress")
class Progress(MethodView):
    """Where you stand."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, ProgressSchema)
    def get(self, principal: Principal) -> dict:
        """The audit of your record against your programme today: what counts, what does not
        and why, and what is still missing."""
        opened = runtime()
        return progress(opened.engine, opened.view, principal.record,
                        record_context())


@blp.route("/learners/me/plan")
class LearnerPlan(MethodView):
    """The units you plan to study, audited as a what-if."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, PlanSchema)
    def get(self, principal: Principal) -> dict:
        """Your plan, and the audit of your programme with the planned units counted as if
        completed today (each planned line and refusal has `planned: true`)."""
        return _plan_answer(principal.record, plan_of(runtime().engine, principal.record))

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(PlanUnitSchema)
    @blp.response(201, PlanSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Plan a catalogue unit (again: no change); a plan holds at most 30 units (409)."""
        plan = add_to_plan(runtime().engine, principal.record, body["unit"])
        return _plan_answer(principal.record, plan)

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(PlanUnitSchema, location="query")
    @blp.response(200, PlanSchema)
    def delete(self, args: dict, principal: Principal) -> dict:
        """Take a unit out of your plan (404 when it is not in it)."""
        plan = remove_from_plan(runtime().engine, principal.record, args["unit"])
        return _plan_answer(principal.record, plan)


def _plan_answer(learner: dict, plan: Plan) -> dict:
    """The plan with the what-if audit of the chosen programme (null without one in force)."""
    opened = runtime()
    try:
        audited = progress(opened.engine, opened.view, learner, record_context(),
                           planned=plan.outcomes)
    except (NotFound, Conflict):
        audited = None
    return {**plan_json(plan), "progress": audited}


@blp.route("/learners/me/credentials/<path:credential_id>/offers")
class WalletOffers(MethodView):
    """Offers of your credentials to a wallet."""

    @requires(LEARNER)
    @limited("wallet_offers")
    @blp.doc(security=[BEARER])
    @blp.response(201, WalletOfferSchema)
    def post(self, credential_id: str, principal: Principal) -> dict:
        """Offer one of your anchored credentials to a wallet (OpenID4VCI 1.0, pre-authorized
        code flow): the wallet scans the link, asks for the transaction code, and receives the
        credential as issued. The offer works once and for 10 minutes; 3 wrong codes end it."""
        made = create_offer(runtime().engine, principal.record, credential_id, now=time.time())
        offer_uri, link = offer_links(made.pre_authorized_code)
        return {"offer_uri": offer_uri, "link": link, "tx_code": made.tx_code,
                "expires_at": iso_utc(made.expires_at)}


@blp.route("/learners/me/deposits")
class Deposits(MethodView):
    """Credentials you deposit."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(ListPageArgsSchema, location="query")
    @blp.response(200, DepositListSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """A page of your deposits, newest first."""
        listed, later = learner_deposits(runtime().engine, principal.id, **query)
        return {"deposits": listed, "next": later}

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(DepositSchema)
    @blp.response(201, DepositOutSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Deposit an external credential: verified now; if it does not verify (or names
        someone else) it waits for a reviewer, with your evidence."""
        opened = runtime()
        return deposit(opened.engine, opened.view, principal.record,
                       body["credential"], evidence=body["evidence"],
                       max_bytes=current_app.config["MAX_CREDENTIAL_BYTES"])


@blp.route("/learners/me/deposits/<deposit_id>")
class Deposit(MethodView):
    """One of your deposits."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, DepositOutSchema)
    def get(self, deposit_id: str, principal: Principal) -> dict:
        """The deposit, its verification report and any review."""
        return deposit_json(deposit_row(runtime().engine, deposit_id, principal.id))


@blp.route("/learners/me/transcripts")
class Transcripts(MethodView):
    """Transcripts of your record."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.arguments(TranscriptRequestSchema)
    @blp.response(202, TranscriptSchema)
    def post(self, body: dict, principal: Principal) -> dict:
        """Sign your record as a CLR 2.0 transcript; it is anchored with the bank's next batch."""
        opened = runtime()
        return request_transcript(opened.engine, opened.chain, principal.record,
                                  settings=opened.settings, cryptosuite=body["cryptosuite"])


@blp.route("/learners/me/transcripts/<transcript_id>")
class Transcript(MethodView):
    """One of your transcripts."""

    @requires(LEARNER)
    @blp.doc(security=[BEARER])
    @blp.response(200, TranscriptSchema)
    def get(self, transcript_id: str, principal: Principal) -> dict:
        """The transcript: signed, and once anchored, with its anchor proof."""
        return transcript_json(runtime().engine, principal.record, transcript_id)


@blp.route("/deposits")
class DepositQueue(MethodView):
    """Deposits for the city centre to review."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(DepositQuerySchema, location="query")
    @blp.response(200, DepositQueueSchema)
    def get(self, query: dict, principal: Principal) -> dict:
        """Deposits in a status (default: waiting for review), oldest first, a page at a time:
        ids, verdicts and dates, no personal data (read one to check it)."""
        listed, later = deposit_queue(runtime().engine, **query)
        return {"deposits": listed, "next": later}


@blp.route("/deposits/<deposit_id>")
class DepositCheck(MethodView):
    """One deposit, for the city centre to check."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.response(200, DepositOutSchema)
    def get(self, deposit_id: str, principal: Principal) -> dict:
        """A deposit waiting for review: the credential's id, the verifier's report and the
        learner's evidence (403 once reviewed). The learner sees the read in their access log."""
        return read_deposit(runtime().engine, staff_reader(OPERATOR, principal.id, principal.id),
                            deposit_id)


@blp.route("/deposits/<deposit_id>/review")
class DepositReview(MethodView):
    """The review of one deposit."""

    @requires(OPERATOR)
    @blp.doc(security=[BEARER])
    @blp.arguments(DepositReviewSchema)
    @blp.response(200, DepositOutSchema)
    def post(self, body: dict, deposit_id: str, principal: Principal) -> dict:
        """Accept a deposit on its evidence, or reject it with reasons."""
        engine = runtime().engine
        return answered_deposit(engine, staff_reader(OPERATOR, principal.id, principal.id),
                                review_deposit(engine, deposit_id, f"operator:{principal.id}",
                                               body["verdict"], body["reasons"]))

