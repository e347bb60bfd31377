"""Marshmallow schemas of the credit-bank API: accounts, deposits, applications, reviews,
appeals and transcripts."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from bank.access import MAX_LIMIT, QUEUE_PAGE
from bank.applications import APPEAL_OUTCOMES, FLAG_OUTCOMES, STATUSES, VERDICTS
from bank.deposits import VERDICTS as DEPOSIT_VERDICTS
from bank.records import MAX_PAGE_SIZE, PAGE_SIZE
from credentials.proofs import CRYPTOSUITES

TEXT = validate.Length(1, 5000)
REASONS = fields.List(fields.String(validate=TEXT), load_default=list,
                      validate=validate.Length(max=50))


class OpenAccountSchema(Schema):
    """A learner opens (or activates) their account."""

    national_id = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200),
                             load_only=True)
    display_name = fields.String(load_default=None, validate=validate.Length(1, 200))
    activation_code = fields.String(load_default=None, validate=validate.Length(1, 64))


class LogInSchema(Schema):
    """A learner logs in with their national id and password."""

    national_id = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 200), load_only=True)


class TokenSchema(Schema):
    """A learner's bearer token."""

    token = fields.String(required=True)
    expires_at = fields.String(required=True)
    learner = fields.String(required=True)


class AccountSchema(Schema):
    """A learner account (no identity, no secrets)."""

    id = fields.String(required=True)
    did = fields.String(required=True)
    display_name = fields.String(allow_none=True)
    opened_by = fields.String(required=True)
    activated = fields.Boolean(required=True)
    created_at = fields.String(required=True)


class BulkOpenSchema(Schema):
    """An institution opens accounts for its learners."""

    national_ids = fields.List(fields.String(), required=True,
                               validate=validate.Length(1, 10_000))


class OpenedSchema(Schema):
    """One account opened or found, with the activation code to hand its learner (an
    institution's unlocks what it issued; the centre's lets the learner set a password)."""

    did = fields.String(required=True)
    activation_code = fields.String(required=True)
    guardian_needed = fields.Boolean(required=True, metadata={
        "description": "the learner is under 14: the code works once a guardian has consented "
                       "through the guardian's pages (/guardian)"})


class ActivationCodeSchema(Schema):
    """An activation code an institution gave the learner."""

    activation_code = fields.String(required=True, validate=validate.Length(1, 64))


class IdentityCheckSchema(Schema):
    """The national id an operator checked on the learner's identity papers, in person."""

    national_id = fields.String(required=True, validate=validate.Length(1, 64))


class ProofSchema(Schema):
    """One proof of who the learner is."""

    method = fields.String(required=True,
                           metadata={"enum": ["activation", "city", "in_person"]})
    institution = fields.String(allow_none=True, metadata={
        "description": "The institution whose activation code it was."})
    proved_at = fields.String(required=True)


class IdentitySchema(Schema):
    """What the learner proved, and so what their record shows: everything issued to them with
    a real-name proof (city sign-on, or in person at the centre), else only what the institutions
    whose codes they entered issued (and what they deposited)."""

    real_name = fields.Boolean(required=True)
    institutions = fields.List(fields.String(), required=True)
    proofs = fields.List(fields.Nested(ProofSchema), required=True)


class BulkOpenedSchema(Schema):
    """The accounts of a bulk opening, in the order sent."""

    accounts = fields.List(fields.Nested(OpenedSchema), required=True)


class CredentialSummarySchema(Schema):
    """One credential of a learner's record."""

    id = fields.String(required=True)
    source = fields.String(required=True, metadata={"enum": ["issued", "deposit"]})
    issuer = fields.String(allow_none=True)
    unit = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    kind = fields.String(allow_none=True)
    credits = fields.Raw(allow_none=True)
    completed_on = fields.String(allow_none=True)
    level = fields.String(allow_none=True, metadata={"example": "CQF 5"})


class TargetSchema(Schema):
    """A programme to aim at: a rule-set version."""

    rule_set_id = fields.String(required=True, validate=validate.Length(1, 200))
    version = fields.Integer(required=True, strict=True, validate=validate.Range(1))


class RecordPageArgsSchema(Schema):
    """Which page of the record to list."""

    limit = fields.Integer(load_default=PAGE_SIZE,
                           validate=validate.Range(min=1, max=MAX_PAGE_SIZE))
    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})


class ExportArgsSchema(Schema):
    """Which file of everything the bank holds about you."""

    format = fields.String(load_default="json", validate=validate.OneOf(("json", "pdf")),
                           metadata={"description": "`json` (machine-readable) or `pdf`."})
    lang = fields.String(load_default=None, validate=validate.OneOf(("zh", "en")),
                         metadata={"description": "The PDF's language (default: the "
                                                  "request's)."})


class RecordSchema(Schema):
    """A learner's account, a page of their record, deposits and chosen programme."""

    account = fields.Nested(AccountSchema, required=True)
    identity = fields.Nested(IdentitySchema, required=True)
    credentials = fields.List(fields.Nested(CredentialSummarySchema), required=True)
    next = fields.String(allow_none=True, required=True,
                         metadata={"description": "Pass as `after` for the next page; null on "
                                                  "the last."})
    deposits = fields.List(fields.Dict(), required=True, metadata={
        "description": "The newest page of your deposits; page through them all at "
                       "`/learners/me/deposits`."})
    target = fields.Nested(TargetSchema, allow_none=True)


class ProgressSchema(Schema):
    """The audit of a learner's record against their chosen programme."""

    audit = fields.Dict(required=True)
    set_aside = fields.List(fields.Dict(), required=True)


class DepositSchema(Schema):
    """A credential the learner deposits, with optional evidence for a reviewer."""

    credential = fields.Dict(required=True)
    evidence = fields.String(load_default=None, validate=TEXT)


class DepositOutSchema(Schema):
    """A deposit: its status and why, the verifier's report, the evidence and any review."""

    id = fields.String(required=True)
    credential_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["accepted", "review", "rejected"]})
    verdict = fields.String(required=True)
    reason = fields.String(allow_none=True)
    evidence = fields.String(allow_none=True)
    report = fields.Dict(required=True)
    reviewer = fields.String(allow_none=True)
    review_reasons = fields.List(fields.String(), required=True)
    deposited_at = fields.String(required=True)
    reviewed_at = fields.String(allow_none=True)


class DepositListSchema(Schema):
    """A page of the learner's deposits, newest first."""

    deposits = fields.List(fields.Nested(DepositOutSchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})


class ListPageArgsSchema(Schema):
    """Which page of a list."""

    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})
    limit = fields.Integer(load_default=QUEUE_PAGE, validate=validate.Range(min=1, max=MAX_LIMIT))


class AccessQuerySchema(Schema):
    """A page of the access log: older than the read `before`, at most `limit` reads."""

    before = fields.Integer(load_default=None, validate=validate.Range(1, 2**63 - 1))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 100))


class AccessReadSchema(Schema):
    """One read of your personal data: when, who (for which organisation), what and why."""

    id = fields.Integer(required=True)
    at = fields.String(required=True)
    actor = fields.String(required=True, metadata={
        "description": "institution:<staff name or token>, operator:<name> or "
                       "guardian:<their DID>"})
    organisation = fields.String(required=True, metadata={
        "description": "An issuer id, \"centre\" or \"guardian\"."})
    organisation_name = fields.Dict(keys=fields.String(), values=fields.String(),
                                    required=True, metadata={"description": "en and zh"})
    what = fields.String(required=True, metadata={
        "description": "application, deposit, agreement, account, record, export, correction"})
    object_id = fields.String(required=True)
    purpose = fields.String(required=True, metadata={
        "description": "The task: first-review, second-review, appeal, flag-review, "
                       "deposit-check, agreement-review, identity-check, correction, guardian"})


class AccessLogSchema(Schema):
    """Reads of your personal data, newest first, and the cursor of the next (older) page."""

    reads = fields.List(fields.Nested(AccessReadSchema), required=True)
    next = fields.Integer(allow_none=True, required=True)


class DepositQueueItemSchema(Schema):
    """A deposit in the centre's queue: no personal data (read one to check it)."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["accepted", "review", "rejected"]})
    verdict = fields.String(required=True)
    reason = fields.String(allow_none=True)
    deposited_at = fields.String(required=True)
    reviewed_at = fields.String(allow_none=True)


class DepositQueueSchema(Schema):
    """Deposits in one status, oldest first."""

    deposits = fields.List(fields.Nested(DepositQueueItemSchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})


class DepositReviewSchema(Schema):
    """A reviewer's verdict on a deposit waiting for review."""

    verdict = fields.String(required=True, validate=validate.OneOf(tuple(DEPOSIT_VERDICTS)))
    reasons = REASONS


class DepositQuerySchema(Schema):
    """Which deposits to list."""

    status = fields.String(load_default="review",
                           validate=validate.OneOf(("accepted", "review", "rejected")))
    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})
    limit = fields.Integer(load_default=QUEUE_PAGE, validate=validate.Range(min=1, max=MAX_LIMIT))


class ApplySchema(Schema):
    """Apply under a rule-set version (default: the chosen programme)."""

    rule_set_id = fields.String(load_default=None, validate=validate.Length(1, 200))
    version = fields.Integer(load_default=None, strict=True, validate=validate.Range(1))
    agreement_id = fields.String(load_default=None, validate=validate.Length(1, 36))


class ExclusionSchema(Schema):
    """A credential a reviewer excludes, and why (a substantial difference)."""

    credential = fields.String(required=True, validate=validate.Length(1, 300))
    reason = fields.String(required=True, validate=TEXT)


class ReasonedSchema(Schema):
    """What every review gives with its verdict or outcome: reasons, excluded credentials."""

    reasons = REASONS
    excluded = fields.List(fields.Nested(ExclusionSchema), load_default=list,
                           validate=validate.Length(max=500))


class ReviewSchema(ReasonedSchema):
    """A first or second review: approve or refuse, reasons, excluded credentials."""

    verdict = fields.String(required=True, validate=validate.OneOf(VERDICTS))


class AppealSchema(Schema):
    """The learner's grounds of appeal."""

    grounds = fields.String(required=True, validate=TEXT)


class AppealDecisionSchema(ReasonedSchema):
    """The city centre's outcome of an appeal."""

    outcome = fields.String(required=True, validate=validate.OneOf(APPEAL_OUTCOMES))


class FlagReviewSchema(ReasonedSchema):
    """The city centre's review of a decision flagged after a revocation."""

    outcome = fields.String(required=True, validate=validate.OneOf(FLAG_OUTCOMES))


class ApplicationSchema(Schema):
    """An application with its audit, reviews, decisions (latest first) and appeals."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    rule_set = fields.Dict(required=True)
    submitted_at = fields.String(required=True)
    agreement_id = fields.String(allow_none=True)
    audit = fields.Dict(required=True)
    set_aside = fields.List(fields.Dict(), required=True)
    reviews = fields.List(fields.Dict(), required=True)
    decisions = fields.List(fields.Dict(), required=True)
    appeals = fields.List(fields.Dict(), required=True)
    consent = fields.Dict(allow_none=True, metadata={
        "description": "the consent to share the record for this application: its id, the "
                       "version of the words (and, when applying, the words), given and "
                       "withdrawn times; null for an application made before consents"})


class ApplicationItemSchema(Schema):
    """An application in a list: a learner's own whole; in a staff queue only its id,
    programme, status and dates (no personal data)."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": list(STATUSES)})
    rule_set = fields.Dict(required=True)
    submitted_at = fields.String(required=True)
    agreement_id = fields.String(allow_none=True)
    programme = fields.String(metadata={"description": "Staff queues: the programme's title."})
    updated_at = fields.String(metadata={"description": "Staff queues: the last change."})
    audit = fields.Dict(metadata={"description": "The learner's own list only."})
    set_aside = fields.List(fields.Dict(), metadata={"description": "The learner's own only."})
    reviews = fields.List(fields.Dict(), metadata={"description": "The learner's own only."})
    decisions = fields.List(fields.Dict(), metadata={"description": "The learner's own only."})
    appeals = fields.List(fields.Dict(), metadata={"description": "The learner's own only."})


class ApplicationListSchema(Schema):
    """Applications, oldest first."""

    applications = fields.List(fields.Nested(ApplicationItemSchema), required=True)
    next = fields.String(allow_none=True, metadata={
        "description": "The cursor of the next page (pass it as `after`); null on the last."})


class ApplicationQuerySchema(Schema):
    """Which applications to list."""

    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    flagged = fields.Boolean(load_default=None)
    after = fields.String(load_default=None, validate=validate.Length(max=400),
                          metadata={"description": "The `next` cursor of the previous page."})
    limit = fields.Integer(load_default=QUEUE_PAGE, validate=validate.Range(min=1, max=MAX_LIMIT))


class TranscriptRequestSchema(Schema):
    """How to sign a transcript."""

    cryptosuite = fields.String(load_default=CRYPTOSUITES[0],
                                validate=validate.OneOf(CRYPTOSUITES))


class TranscriptSchema(Schema):
    """A transcript: signed, then anchored with its batch."""

    id = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["signed", "anchored"]})
    batch = fields.String(required=True)
    credential = fields.Dict(required=True)


class WalletOfferSchema(Schema):
    """An offer of one of your credentials to a wallet (OpenID4VCI pre-authorized code flow)."""

    offer_uri = fields.String(required=True, metadata={
        "description": "The credential_offer_uri a wallet fetches the offer from."})
    link = fields.String(required=True, metadata={
        "description": "The openid-credential-offer:// link (put it in a QR code)."})
    tx_code = fields.String(required=True, metadata={
        "description": "The 6-digit transaction code the wallet asks for; shown only now."})
    expires_at = fields.String(required=True)


class RuleImpactSchema(Schema):
    """Whom a rule-set version affects: totals, and each affected learner's changed lines (by
    application id, or by a pseudonym for learners who only aim at the programme)."""

    rule_set_id = fields.String(required=True)
    version = fields.Integer(required=True)
    content_hash = fields.String(required=True)
    previous_version = fields.Integer(allow_none=True, required=True)
    as_of = fields.Dict(required=True)
    computed_at = fields.String(required=True)
    totals = fields.Dict(required=True)
    learners = fields.List(fields.Dict(), required=True)


class PlanUnitSchema(Schema):
    """A catalogue unit to add to (or take out of) the learner's plan."""

    unit = fields.String(required=True, validate=validate.Length(1, 129), metadata={
        "description": 'The unit as "ISSUER_ID:CODE", e.g. "bjou:CS101".'})


class PlanSchema(Schema):
    """The learner's plan: each unit's reference, title, kind and credits, the most a plan may
    hold, and the audit of the chosen programme with the plan (null when none is chosen or its
    rules are not in force today)."""

    units = fields.List(fields.Dict(), required=True)
    limit = fields.Integer(required=True)
    progress = fields.Dict(required=True, allow_none=True)
