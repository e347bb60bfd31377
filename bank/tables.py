"""The credit bank's SQL tables (Core, on the shared metadata); times are unix seconds.

JSON documents (credentials, verification reports, audits, decisions) are stored as text.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from infra.metadata import metadata
from infra.sealing import Sealed
from issuers.tables import issuers

SHARE_KINDS = ("credential", "transcript")
STAFF_ROLES = ("institution", "operator")
PROOF_METHODS = ("activation", "city", "in_person")

learners = Table(
    "bank_learners",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("did", String(200), nullable=False, unique=True),
    Column("identity_hash", String(80), nullable=False, unique=True),
    Column("display_name", String(200)),
    Column("password_hash", Text),
    Column("opened_by", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("birth_date", Sealed("bank_learners.birth_date")),
    Column("closing_at", Float),
)
"""Learner accounts; `birth_date` (ISO, sealed) is read from the national id when it carries one,
and `closing_at` is when the learner closed the account: its personal data is erased once the
grace period after it has passed."""

activation_codes = Table(
    "bank_activation_codes",
    metadata,
    Column("code_sha256", String(64), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("institution_id", String(64), ForeignKey(issuers.c.id)),
    Column("created_at", Float, nullable=False),
)
"""One-time codes handed to a learner: an institution's (it unlocks what that institution
issued), or the city centre's after an in-person check (`institution_id` null)."""

identity_proofs = Table(
    "bank_identity_proofs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("method", String(16), nullable=False),
    Column("institution_id", String(64), ForeignKey(issuers.c.id)),
    Column("vouched_by", String(300), nullable=False),
    Column("proved_at", Float, nullable=False),
    CheckConstraint(f"method IN {PROOF_METHODS!r}", name="proof_method"),
)
"""What proved who a learner is: an institution's activation code, the city's single sign-on
vouching for the national id, or an operator's check in person."""

sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("key_sha256", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("wait_until", Float, nullable=False),
    Column("last_failure", Float, nullable=False),
)
"""Failed sign-ins per account, per browser that signed in before, and per client address."""

learner_tokens = Table(
    "bank_learner_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("expires_at", Float, nullable=False),
)

operator_tokens = Table(
    "bank_operator_tokens",
    metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
)

deposits = Table(
    "bank_deposits",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("credential_id", String(300), nullable=False),
    Column("credential", Sealed("bank_deposits.credential"), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("report", Sealed("bank_deposits.report"), nullable=False),
    Column("evidence", Sealed("bank_deposits.evidence")),
    Column("status", String(16), nullable=False),
    Column("reason", String(64)),
    Column("reviewer", String(100)),
    Column("review_reasons", Sealed("bank_deposits.review_reasons")),
    Column("deposited_at", Float, nullable=False),
    Column("reviewed_at", Float),
    UniqueConstraint("learner_id", "credential_id", name="uq_bank_deposits_credential"),
    Index("ix_bank_deposits_status", "status"),
    Index("ix_bank_deposits_status_deposited", "status", "deposited_at", "id"),
    Index("ix_bank_deposits_learner_deposited", "learner_id", "deposited_at", "id"),
)

targets = Table(
    "bank_targets",
    metadata,
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), primary_key=True),
    Column("rule_set_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("chosen_at", Float, nullable=False),
)

MAX_PLANNED_UNITS = 30

planned_units = Table(
    "bank_planned_units",
    metadata,
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), primary_key=True),
    Column("issuer_id", String(64), ForeignKey(issuers.c.id), primary_key=True),
    Column("code", String(64), primary_key=True),
    Column("added_at", Float, nullable=False),
)
"""Catalogue units a learner plans to study (at most `MAX_PLANNED_UNITS`): the planner audits
them as planned outcomes, a what-if beside the verified record."""

SUBMITTED = "submitted"
FIRST_REVIEWED = "first_reviewed"
DECIDED = "decided"
APPEALED = "appealed"
WITHDRAWN = "withdrawn"
OPEN_STATUSES = (SUBMITTED, FIRST_REVIEWED, APPEALED)

applications = Table(
    "bank_applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("rule_set_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("institution_id", String(64), ForeignKey(issuers.c.id), nullable=False, index=True),
    Column("status", String(16), nullable=False),
    Column("audit", Sealed("bank_applications.audit"), nullable=False),
    Column("credentials", Sealed("bank_applications.credentials"), nullable=False),
    Column("set_aside", Sealed("bank_applications.set_aside"), nullable=False),
    Column("submitted_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("agreement_id", String(36), ForeignKey("bank_agreements.id")),
)
_open = applications.c.status.in_(OPEN_STATUSES)
Index("ix_bank_applications_institution_status", applications.c.institution_id,
      applications.c.status, applications.c.submitted_at, applications.c.id)
Index("ix_bank_applications_status_submitted", applications.c.status,
      applications.c.submitted_at, applications.c.id)
Index("ix_bank_applications_institution_submitted", applications.c.institution_id,
      applications.c.submitted_at, applications.c.id)
Index("ix_bank_applications_learner_submitted", applications.c.learner_id,
      applications.c.submitted_at, applications.c.id)
Index("uq_bank_applications_open", applications.c.learner_id, applications.c.rule_set_id,
      unique=True, sqlite_where=_open, postgresql_where=_open)

reviews = Table(
    "bank_reviews",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application_id", String(36), ForeignKey("bank_applications.id"), nullable=False),
    Column("stage", String(16), nullable=False),
    Column("reviewer", String(100), nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("reasons", Sealed("bank_reviews.reasons"), nullable=False),
    Column("excluded", Text, nullable=False),
    Column("reviewed_at", Float, nullable=False),
    UniqueConstraint("application_id", "stage", name="uq_bank_reviews_stage"),
)

decisions = Table(
    "bank_decisions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("application_id", String(36), ForeignKey("bank_applications.id"), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("document", Sealed("bank_decisions.document"), nullable=False),
    Column("credits", Float),
    Column("decided_at", Float, nullable=False),
    Column("appeal_deadline", Float),
    Column("in_force", Boolean, nullable=False),
    Column("flagged", Boolean, nullable=False, default=False),
    Column("flag_reason", Sealed("bank_decisions.flag_reason")),
    Column("flagged_at", Float),
    UniqueConstraint("application_id", "sequence", name="uq_bank_decisions_sequence"),
    Index("ix_bank_decisions_flagged", "flagged", "in_force"),
)

decision_credentials = Table(
    "bank_decision_credentials",
    metadata,
    Column("decision_id", String(36), ForeignKey("bank_decisions.id"), primary_key=True),
    Column("credential_id", String(300), primary_key=True),
    Column("root", LargeBinary(32), index=True),
    Column("digest", LargeBinary(32)),
)

appeals = Table(
    "bank_appeals",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("decision_id", String(36), ForeignKey("bank_decisions.id"), nullable=False,
           unique=True),
    Column("grounds", Sealed("bank_appeals.grounds"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("reasons", Sealed("bank_appeals.reasons")),
    Column("reviewer", String(100)),
    Column("filed_at", Float, nullable=False),
    Column("decided_at", Float),
)

rule_impacts = Table(
    "bank_rule_impacts",
    metadata,
    Column("rule_set_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("previous_version", Integer),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("summary", Text, nullable=False),
    Column("computed_at", Float, nullable=False),
)
"""The impact of a rule-set version on the learners aiming at its programme and on decided
applications, computed when it was published (against `previous_version`, the version in force
then) for the document whose hash is `content_hash`; learners who did not apply are pseudonyms."""

transcripts = Table(
    "bank_transcripts",
    metadata,
    Column("id", String(64), ForeignKey("credentials.id"), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("requested_at", Float, nullable=False),
    Index("ix_bank_transcripts_learner_requested", "learner_id", "requested_at", "id"),
)

verification_results = Table(
    "verification_results",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("credential", Sealed("verification_results.credential"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

shared_links = Table(
    "shared_links",
    metadata,
    Column("token", String(64), primary_key=True),
    Column("credential_json", Sealed("shared_links.credential_json"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("learner_id", String(36), index=True),
    Column("subject_id", String(300)),
    CheckConstraint(f"kind IN {SHARE_KINDS!r}", name="kind"),
    Index("ix_shared_links_learner_created", "learner_id", "created_at", "token"),
)

staff_accounts = Table(
    "staff_accounts",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("issuer_id", String(64)),
    Column("password_hash", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    CheckConstraint(f"role IN {STAFF_ROLES!r}", name="staff_role"),
)

OFFER_STATUSES = ("open", "redeemed", "delivered", "locked")

wallet_offers = Table(
    "wallet_offers",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("credential_id", String(64), ForeignKey("credentials.id"), nullable=False),
    Column("code_sha256", String(64), nullable=False, unique=True),
    Column("tx_code_sha256", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failures", Integer, nullable=False),
    Column("token_sha256", String(64), unique=True),
    Column("token_expires_at", Float),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    CheckConstraint(f"status IN {OFFER_STATUSES!r}", name="offer_status"),
)
"""Credential offers to a wallet (OID4VCI pre-authorized code flow): the code, its transaction
code (hashed with the code) and the access token it was exchanged for are kept as hashes only."""

wallet_nonces = Table(
    "wallet_nonces",
    metadata,
    Column("nonce_sha256", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False, index=True),
)
"""Unused c_nonce values the nonce endpoint gave out; a key proof spends one."""

wallet_deliveries = Table(
    "wallet_deliveries",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("offer_id", String(36), ForeignKey("wallet_offers.id"), nullable=False),
    Column("credential_id", String(64), ForeignKey("credentials.id"), nullable=False),
    Column("thumbprint", String(64), nullable=False),
    Column("delivered_at", Float, nullable=False),
    Index("ix_wallet_deliveries_credential", "credential_id", "thumbprint"),
)
"""Which wallet key (RFC 7638 JWK thumbprint) proved possession when a credential was delivered."""

presentation_requests = Table(
    "presentation_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("state", String(64), nullable=False, unique=True),
    Column("nonce", String(64), nullable=False),
    Column("viewer_sha256", String(64), nullable=False, unique=True),
    Column("dcql_query", Text, nullable=False),
    Column("client_id", String(300), nullable=False),
    Column("response_uri", String(300), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
    Column("responded_at", Float),
    Column("report", Sealed("presentation_requests.report")),
)
"""What a verifier asked a learner's wallet for (OID4VP): the DCQL query, the request's nonce and
state, and once the wallet answered (single use), the report; only the page holding the viewer
secret (kept as a hash) reads it."""

NOTICE_RECIPIENTS = ("learner", "institution")

notices = Table(
    "bank_notices",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recipient_kind", String(16), nullable=False),
    Column("recipient_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("params", Text, nullable=False),
    Column("link", String(300)),
    Column("once_key", String(200), unique=True),
    Column("created_at", Float, nullable=False),
    Column("read_at", Float),
    Column("email_status", String(16)),
    Column("email_attempts", Integer, nullable=False, default=0),
    Column("email_after", Float),
    Column("emailed_at", Float),
    CheckConstraint(f"recipient_kind IN {NOTICE_RECIPIENTS!r}", name="notice_recipient"),
    Index("ix_bank_notices_recipient", "recipient_kind", "recipient_id", "created_at"),
    Index("ix_bank_notices_email_status", "email_status"),
    Index("ix_bank_notices_unread", "recipient_kind", "recipient_id", "read_at"),
)
"""What the bank tells a learner or an institution (the inbox); `params` are the facts the
message is rendered from in the reader's language, `once_key` makes a notice idempotent, and
`email_status` is the outbox state ("pending", "sending", "sent", "failed"; null when not
e-mailed), tried `email_attempts` times, next not before `email_after`."""

notice_preferences = Table(
    "bank_notice_preferences",
    metadata,
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), primary_key=True),
    Column("email", String(254)),
    Column("kinds", Text, nullable=False),
    Column("updated_at", Float, nullable=False),
)
"""Where a learner wants notices e-mailed (`email`, null for none) and which kinds (a JSON list)."""

AGREEMENT_STATUSES = ("requested", "approved", "refused", "withdrawn")

agreements = Table(
    "bank_agreements",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("rule_set_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("institution_id", String(64), ForeignKey(issuers.c.id), nullable=False),
    Column("units", Text, nullable=False),
    Column("complete_by", String(10), nullable=False),
    Column("status", String(16), nullable=False),
    Column("lines", Text, nullable=False),
    Column("reviewer", String(100)),
    Column("reasons", Sealed("bank_agreements.reasons")),
    Column("credential_id", String(64), ForeignKey("credentials.id")),
    Column("requested_at", Float, nullable=False),
    Column("decided_at", Float),
    CheckConstraint(f"status IN {AGREEMENT_STATUSES!r}", name="agreement_status"),
    Index("ix_bank_agreements_institution_status", "institution_id", "status"),
    Index("ix_bank_agreements_institution_status_requested", "institution_id", "status",
          "requested_at", "id"),
    Index("ix_bank_agreements_institution_requested", "institution_id", "requested_at", "id"),
    Index("ix_bank_agreements_institution_decided", "institution_id", "decided_at", "id"),
    Index("ix_bank_agreements_learner_requested", "learner_id", "requested_at", "id"),
)
"""Learning agreements (pre-approvals): planned units (`units`, JSON refs "ISSUER:CODE" with the
unit version asked about), to be completed by `complete_by`, and the lines the institution's
audit agreed for them under one rule-set version; an approval is signed as `credential_id`."""

GUARDIANS_UNTIL_AGE = 14
ADULT_AGE = 18

guardians = Table(
    "bank_guardians",
    metadata,
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), primary_key=True),
    Column("guardian_did", String(200), nullable=False, index=True),
    Column("consent_id", String(36), ForeignKey("bank_consents.id"), nullable=False),
    Column("since", Float, nullable=False),
)
"""The guardian (by the DID of their national id, vouched by the city's sign-on) who consented
to a minor's account; they see and manage it until the learner turns `GUARDIANS_UNTIL_AGE`."""

consents = Table(
    "bank_consents",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("object_id", String(64)),
    Column("text_version", String(64), nullable=False),
    Column("given_by", String(200), nullable=False),
    Column("given_at", Float, nullable=False),
    Column("withdrawn_at", Float),
    Index("ix_bank_consents_learner_purpose", "learner_id", "purpose"),
    Index("ix_bank_consents_learner_given", "learner_id", "given_at", "id"),
)
"""Consents a learner (or their guardian, `given_by` a DID) gave for one purpose (and object,
such as an application), each with the version of the text they agreed to; withdrawn ones stay,
with the time."""

CORRECTION_ABOUT = ("credential", "deposit", "decision", "account")
CORRECTION_STATUSES = ("open", "corrected", "refused")

corrections = Table(
    "bank_corrections",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False, index=True),
    Column("about", String(16), nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("routed_to", String(64), nullable=False),
    Column("request", Sealed("bank_corrections.request"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("answer", Sealed("bank_corrections.answer")),
    Column("answered_by", String(100)),
    Column("requested_at", Float, nullable=False),
    Column("answered_at", Float),
    CheckConstraint(f"about IN {CORRECTION_ABOUT!r}", name="correction_about"),
    CheckConstraint(f"status IN {CORRECTION_STATUSES!r}", name="correction_status"),
    Index("ix_bank_corrections_routed_status", "routed_to", "status"),
    Index("ix_bank_corrections_routed_status_requested", "routed_to", "status", "requested_at",
          "id"),
    Index("ix_bank_corrections_routed_requested", "routed_to", "requested_at", "id"),
    Index("ix_bank_corrections_routed_answered", "routed_to", "answered_at", "id"),
    Index("ix_bank_corrections_learner_requested", "learner_id", "requested_at", "id"),
)
"""A learner's request to correct data about them, routed to who owns it: the issuer of a
credential (`routed_to` its id), the institution that decided, or the centre ("centre") for a
deposit or the account."""

access_log = Table(
    "bank_access_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("learner_id", String(36), ForeignKey("bank_learners.id"), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("organisation", String(64), nullable=False),
    Column("what", String(32), nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("purpose", String(64), nullable=False),
    Index("ix_bank_access_log_learner_at", "learner_id", "at"),
    Index("ix_bank_access_log_at", "at"),
)
"""Every read of a learner's personal data by someone else (staff, an operator, a guardian): who
(`actor`, e.g. "institution:alice"), for which organisation (an issuer id, "centre" or
"guardian"), what (an application, a deposit, the record …), and the task it served."""
