"""The data catalogue (数据分级分类): every column of every table in one of four classes, each
class's protection and retention, how a table's rows belong to a learner, and the retention
periods the purge job applies.

Tables are named, not imported: infra sits left of the rooms that define most of them, and
`tests/infra/test_classification.py` holds this catalogue to the whole metadata.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class DataClass(StrEnum):
    """The four classes of data, from published to sensitive personal."""

    PUBLIC = "public"
    INTERNAL = "internal"
    PERSONAL = "personal"
    SENSITIVE = "sensitive"


@dataclass(frozen=True)
class Wording:
    """A text in English and Chinese."""

    en: str
    zh: str

    def of(self, lang: str) -> str:
        """The text in a page language ("zh…" for Chinese, English otherwise)."""
        return self.zh if lang.lower().startswith("zh") else self.en


@dataclass(frozen=True)
class Owner:
    """How a row belongs to a learner: `row[column]` is the learner's id or DID (and every
    `where` pair matches), or, with `parent`, `column` refers to `parent.parent_column` and the
    row belongs to whoever owns that parent row."""

    column: str
    key: Literal["id", "did"]
    parent: str | None = None
    parent_column: str | None = None
    where: tuple[tuple[str, str], ...] = ()


OWNERS: dict[str, Owner] = {
    "bank_learners": Owner("id", "id"),
    "bank_activation_codes": Owner("learner_id", "id"),
    "bank_identity_proofs": Owner("learner_id", "id"),
    "bank_learner_tokens": Owner("learner_id", "id"),
    "bank_deposits": Owner("learner_id", "id"),
    "bank_planned_units": Owner("learner_id", "id"),
    "bank_targets": Owner("learner_id", "id"),
    "bank_applications": Owner("learner_id", "id"),
    "bank_reviews": Owner("application_id", "id", parent="bank_applications", parent_column="id"),
    "bank_decisions": Owner("application_id", "id", parent="bank_applications",
                            parent_column="id"),
    "bank_decision_credentials": Owner("decision_id", "id", parent="bank_decisions",
                                       parent_column="id"),
    "bank_appeals": Owner("decision_id", "id", parent="bank_decisions", parent_column="id"),
    "bank_transcripts": Owner("learner_id", "id"),
    "bank_agreements": Owner("learner_id", "id"),
    "bank_notices": Owner("recipient_id", "id", where=(("recipient_kind", "learner"),)),
    "bank_notice_preferences": Owner("learner_id", "id"),
    "bank_guardians": Owner("learner_id", "id"),
    "bank_consents": Owner("learner_id", "id"),
    "bank_corrections": Owner("learner_id", "id"),
    "bank_access_log": Owner("learner_id", "id"),
    "shared_links": Owner("learner_id", "id"),
    "wallet_offers": Owner("learner_id", "id"),
    "wallet_deliveries": Owner("offer_id", "id", parent="wallet_offers", parent_column="id"),
    "credentials": Owner("learner_did", "did"),
    "bank_verdicts": Owner("learner_did", "did"),
    "revocations": Owner("credential_id", "id", parent="credentials", parent_column="id"),
    "audit_log": Owner("subject", "did"),
    "web_sessions": Owner("subject", "id", where=(("role", "learner"),)),
    "oidc_links": Owner("learner_id", "id"),
}
"""Every table whose rows can name a learner, and how (exports and erasure walk it)."""

SESSION_GRACE_DAYS = 0
SHARE_LINK_DAYS = 30
VERIFICATION_RESULT_DAYS = 0
PRESENTATION_DAYS = 0
WALLET_OFFER_DAYS = 30
IDEMPOTENCY_DAYS = 7
NOTICE_DAYS = 730
SIGN_IN_FAILURE_DAYS = 1
CLOSURE_GRACE_DAYS = 30
ACCESS_LOG_DAYS = 1095
AUDIT_LOG_DAYS = 1095

RETENTION: dict[str, int] = {
    "SESSION_GRACE_DAYS": SESSION_GRACE_DAYS,
    "SHARE_LINK_DAYS": SHARE_LINK_DAYS,
    "VERIFICATION_RESULT_DAYS": VERIFICATION_RESULT_DAYS,
    "PRESENTATION_DAYS": PRESENTATION_DAYS,
    "WALLET_OFFER_DAYS": WALLET_OFFER_DAYS,
    "IDEMPOTENCY_DAYS": IDEMPOTENCY_DAYS,
    "NOTICE_DAYS": NOTICE_DAYS,
    "SIGN_IN_FAILURE_DAYS": SIGN_IN_FAILURE_DAYS,
    "CLOSURE_GRACE_DAYS": CLOSURE_GRACE_DAYS,
    "ACCESS_LOG_DAYS": ACCESS_LOG_DAYS,
    "AUDIT_LOG_DAYS": AUDIT_LOG_DAYS,
}
"""The retention periods in days, by constant name (the purge job applies them)."""


def after_expiry(days: int) -> Wording:
    """When what expired is purged: at once, or so many days later."""
    if days == 0:
        return Wording("as soon as they expire", "过期即删除")
    return Wording(f"{days} day{'s' if days != 1 else ''} after they expire",
                   f"过期 {days} 天后删除")


@dataclass(frozen=True)
class Policy:
    """What a class is, how the bank protects it and how long it keeps it."""

    name: Wording
    examples: Wording
    protection: tuple[Wording, ...]
    retention: tuple[Wording, ...]


POLICIES: dict[DataClass, Policy] = {
    DataClass.PUBLIC: Policy(
        name=Wording("Public", "公开"),
        examples=Wording(
            "Issuers and their keys, units, rules and programmes, batch roots, status lists.",
            "发证机构及其公钥、学习单元、规则与专业方案、批次根、状态列表。"),
        protection=(
            Wording("Published on purpose: public pages and APIs show it to anyone.",
                    "有意公开：公开页面和接口向任何人展示。"),
            Wording("Changed only by accredited issuers and the operator; every change is in the "
                    "audit trail, and batch roots, issuer keys and rules are anchored on the "
                    "chain.",
                    "仅由经认可的发证机构和运营方修改；每次修改都记入审计日志，批次根、发证机构公钥"
                    "和规则锚定在链上。"),
        ),
        retention=(
            Wording("Kept for good: verifiers need issuers, keys, rules and status lists to check "
                    "a credential years later, and anchored roots cannot be removed from the "
                    "chain.",
                    "永久保存：验证方多年后核验凭证仍需要发证机构、公钥、规则和状态列表，已锚定"
                    "上链的根也无法从链上删除。"),
        ),
    ),
    DataClass.INTERNAL: Policy(
        name=Wording("Internal", "内部"),
        examples=Wording(
            "Operational state, hashes of tokens and codes, references to key material, the "
            "audit trail.",
            "运行状态、令牌和验证码的哈希、密钥材料的引用、审计日志。"),
        protection=(
            Wording("Seen by the operator and the staff whose work needs it; never in public "
                    "responses.",
                    "仅运营方和工作需要的工作人员可见；从不出现在公开响应中。"),
            Wording("Secrets are kept only as SHA-256 hashes (tokens, codes) or sealed under the "
                    "master key (issuer keys).",
                    "密钥类信息只保存 SHA-256 哈希（令牌、验证码），或以主密钥加密保存（发证机构"
                    "密钥）。"),
            Wording("Owner-only files (data directory 0700, files 0600); backups are encrypted.",
                    "文件仅属主可读写（数据目录 0700，文件 0600）；备份加密。"),
        ),
        retention=(
            Wording(f"Sessions and sign-in tokens: deleted "
                    f"{after_expiry(SESSION_GRACE_DAYS).en}; sign-in failure counters "
                    f"{SIGN_IN_FAILURE_DAYS} day{'s' if SIGN_IN_FAILURE_DAYS != 1 else ''} "
                    f"after the last failure.",
                    f"会话和登录令牌：{after_expiry(SESSION_GRACE_DAYS).zh}；登录失败计数：最后"
                    f"一次失败 {SIGN_IN_FAILURE_DAYS} 天后删除。"),
            Wording(f"Replayable issuer requests: {IDEMPOTENCY_DAYS} days; wallet offers: "
                    f"{after_expiry(WALLET_OFFER_DAYS).en}.",
                    f"可重放的发证请求：{IDEMPOTENCY_DAYS} 天；钱包领取邀请："
                    f"{after_expiry(WALLET_OFFER_DAYS).zh}。"),
            Wording(f"The audit trail: {AUDIT_LOG_DAYS} days; a closed account's entries are "
                    f"pseudonymised when it is erased.",
                    f"审计日志：{AUDIT_LOG_DAYS} 天；账户注销清除时，其相关条目做假名化处理。"),
        ),
    ),
    DataClass.PERSONAL: Policy(
        name=Wording("Personal", "个人信息"),
        examples=Wording(
            "Names, the learner's DID, the ids of their credentials, applications and other "
            "records, e-mail addresses, plans and targets, what they did and when.",
            "姓名、学习者的 DID、其凭证、申请等记录的编号、电子邮箱、学习计划与目标、其操作及"
            "时间。"),
        protection=(
            Wording("Shown to the learner (and to the guardian of a learner under 14).",
                    "向学习者本人展示（未满 14 周岁的，也向其监护人展示）。"),
            Wording("Staff and operators see it only through a task that needs it (a review "
                    "they are assigned to, a deposit to check); each such read is in the access "
                    "log the learner sees on /me/access.",
                    "工作人员和运营方只能在需要的任务中查看（分配给其的审核、待核验的存入）；每次"
                    "查看都记入访问日志，学习者可在 /me/access 查看。"),
            Wording("Never on the chain, in public responses or in logs; owner-only files and "
                    "encrypted backups.",
                    "从不上链，不出现在公开响应和日志中；文件仅属主可读写，备份加密。"),
        ),
        retention=(
            Wording(f"While the account is open; erased or anonymised {CLOSURE_GRACE_DAYS} days "
                    f"after the learner closes it.",
                    f"账户存续期间保存；学习者注销账户 {CLOSURE_GRACE_DAYS} 天后删除或匿名化。"),
            Wording(f"Notices: {NOTICE_DAYS} days; share links: "
                    f"{after_expiry(SHARE_LINK_DAYS).en}, at once when withdrawn; the access "
                    f"log: {ACCESS_LOG_DAYS} days.",
                    f"通知：{NOTICE_DAYS} 天；分享链接：{after_expiry(SHARE_LINK_DAYS).zh}，撤回"
                    f"即删除；访问日志：{ACCESS_LOG_DAYS} 天。"),
        ),
    ),
    DataClass.SENSITIVE: Policy(
        name=Wording("Sensitive personal", "敏感个人信息"),
        examples=Wording(
            "Grades and results (credential documents, decisions, audits), deposit evidence, "
            "identity links and hashes, birth dates, anything about a minor, free text written "
            "about a learner.",
            "成绩与结果（凭证文件、认定决定、审核结果）、存入证据、身份关联及其哈希、出生日期、"
            "未成年人的任何信息、关于学习者的自由文本。"),
        protection=(
            Wording("Everything personal data has, and:",
                    "具备个人信息的全部保护，另外："),
            Wording("sealed column by column with AES-256-GCM under a column key derived from "
                    "the master key, rotated with `creditbank db rotate-column-key`; or kept "
                    "only as a keyed hash that cannot be reversed (identity hashes, city "
                    "sign-on subjects);",
                    "按列以 AES-256-GCM 加密，列密钥由主密钥派生，可用 "
                    "`creditbank db rotate-column-key` 轮换；或仅保存不可逆的带密钥哈希（身份"
                    "哈希、城市统一身份认证标识）；"),
            Wording("shared with a receiving institution only with the learner's consent;",
                    "仅在学习者同意后才与接收机构共享；"),
            Wording("for a learner between 14 and 18, shown to no one but the learner and "
                    "their reviewers.",
                    "14 至 18 周岁学习者的敏感信息，仅学习者本人及其审核人员可见。"),
        ),
        retention=(
            Wording(f"While the account is open; erased {CLOSURE_GRACE_DAYS} days after the "
                    f"learner closes it. The issuer keeps its credential entry stripped of "
                    f"personal fields, so a revocation still works.",
                    f"账户存续期间保存；学习者注销账户 {CLOSURE_GRACE_DAYS} 天后删除。发证机构"
                    f"保留去除个人字段的凭证条目，以便仍可撤销。"),
            Wording(f"Verification results: deleted {after_expiry(VERIFICATION_RESULT_DAYS).en}; "
                    f"presentation reports: {after_expiry(PRESENTATION_DAYS).en}.",
                    f"核验结果：{after_expiry(VERIFICATION_RESULT_DAYS).zh}；出示报告："
                    f"{after_expiry(PRESENTATION_DAYS).zh}。"),
        ),
    ),
}
"""Each class's name, examples, protection and retention, in English and Chinese."""

PUBLIC = DataClass.PUBLIC
INTERNAL = DataClass.INTERNAL
PERSONAL = DataClass.PERSONAL
SENSITIVE = DataClass.SENSITIVE


@dataclass(frozen=True)
class Catalogued:
    """One table: what it is for, and the class of each of its columns."""

    purpose: Wording
    columns: dict[str, DataClass]


COLUMNS: dict[str, Catalogued] = {
    "aggregates": Catalogued(
        Wording("Counts and sums the operator's statistics read (learners, credentials, "
                "applications and decisions by month or status), kept as the bank writes; "
                "they name no one.",
                "运营方统计所用的计数与合计（按月份或状态的学习者、凭证、申请和认定），"
                "随业务写入同步维护；不指向任何个人。"),
        {"series": INTERNAL, "key": INTERNAL, "month": INTERNAL, "part": PUBLIC,
         "value": INTERNAL}),
    "api_tokens": Catalogued(
        Wording("Issuers' API bearer tokens, kept as hashes.",
                "发证机构的接口访问令牌（仅存哈希）。"),
        {"token_sha256": INTERNAL, "issuer_id": PUBLIC, "created_at": INTERNAL}),
    "audit_log": Catalogued(
        Wording("The audit trail of privileged actions: who did what to what, and when.",
                "特权操作审计日志：谁在何时对何对象做了什么。"),
        {"id": INTERNAL, "at": INTERNAL, "actor": PERSONAL, "action": INTERNAL,
         "subject": PERSONAL, "details": INTERNAL, "client": PERSONAL}),
    "bank_access_log": Catalogued(
        Wording("Every read of a learner's personal data by someone else, and the task it "
                "served.", "他人每次查看学习者个人信息的记录及其所服务的任务。"),
        {"id": INTERNAL, "at": PERSONAL, "learner_id": PERSONAL, "actor": PERSONAL,
         "organisation": PUBLIC, "what": INTERNAL, "object_id": PERSONAL, "purpose": INTERNAL}),
    "bank_activation_codes": Catalogued(
        Wording("One-time activation codes handed to a learner, kept as hashes.",
                "发给学习者的一次性激活码（仅存哈希）。"),
        {"code_sha256": INTERNAL, "learner_id": PERSONAL, "institution_id": PUBLIC,
         "created_at": INTERNAL}),
    "bank_agreements": Catalogued(
        Wording("Learning agreements: the units a learner plans and what the institution "
                "agreed to recognise.", "学习协议：学习者计划修读的单元及机构同意认定的内容。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "rule_set_id": PUBLIC, "version": PUBLIC,
         "institution_id": PUBLIC, "units": PERSONAL, "complete_by": PERSONAL,
         "status": PERSONAL, "lines": PERSONAL, "reviewer": PERSONAL, "reasons": SENSITIVE,
         "credential_id": PERSONAL, "requested_at": PERSONAL, "decided_at": PERSONAL}),
    "bank_appeals": Catalogued(
        Wording("Appeals against decisions: the learner's grounds and the reviewer's answer.",
                "对认定决定的申诉：学习者的理由及审核人员的答复。"),
        {"id": PERSONAL, "decision_id": PERSONAL, "grounds": SENSITIVE, "status": PERSONAL,
         "reasons": SENSITIVE, "reviewer": PERSONAL, "filed_at": PERSONAL,
         "decided_at": PERSONAL}),
    "bank_applications": Catalogued(
        Wording("Applications for recognition: the credentials offered and the rule audit.",
                "学分认定申请：提交的凭证及规则审核结果。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "rule_set_id": PUBLIC, "version": PUBLIC,
         "content_hash": INTERNAL, "institution_id": PUBLIC, "status": PERSONAL,
         "audit": SENSITIVE, "credentials": SENSITIVE, "set_aside": SENSITIVE,
         "submitted_at": PERSONAL, "updated_at": PERSONAL, "agreement_id": PERSONAL}),
    "bank_consents": Catalogued(
        Wording("Consents a learner or their guardian gave, with the text's version.",
                "学习者或其监护人作出的同意及同意文本的版本。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "purpose": PERSONAL, "object_id": PERSONAL,
         "text_version": PUBLIC, "given_by": PERSONAL, "given_at": PERSONAL,
         "withdrawn_at": PERSONAL}),
    "bank_corrections": Catalogued(
        Wording("A learner's requests to correct data, routed to who owns it.",
                "学习者的更正请求，转交数据所属方处理。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "about": PERSONAL, "object_id": PERSONAL,
         "routed_to": PUBLIC, "request": SENSITIVE, "status": PERSONAL, "answer": SENSITIVE,
         "answered_by": PERSONAL, "requested_at": PERSONAL, "answered_at": PERSONAL}),
    "bank_decision_credentials": Catalogued(
        Wording("Which credentials a decision rests on (for the revocation watch).",
                "认定决定所依据的凭证（供撤销监测使用）。"),
        {"decision_id": PERSONAL, "credential_id": PERSONAL, "root": PUBLIC,
         "digest": INTERNAL}),
    "bank_decisions": Catalogued(
        Wording("Signed recognition decisions and their credits.",
                "已签署的认定决定及其学分。"),
        {"id": PERSONAL, "application_id": PERSONAL, "sequence": INTERNAL,
         "document": SENSITIVE, "credits": SENSITIVE, "decided_at": PERSONAL,
         "appeal_deadline": PERSONAL, "in_force": PERSONAL, "flagged": INTERNAL,
         "flag_reason": SENSITIVE, "flagged_at": INTERNAL}),
    "bank_deposits": Catalogued(
        Wording("Credentials a learner deposited from elsewhere, their check and evidence.",
                "学习者存入的外部凭证、核验结果及证据。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "credential_id": PERSONAL,
         "credential": SENSITIVE, "verdict": PERSONAL, "report": SENSITIVE,
         "evidence": SENSITIVE, "status": PERSONAL, "reason": PERSONAL, "reviewer": PERSONAL,
         "review_reasons": SENSITIVE, "deposited_at": PERSONAL, "reviewed_at": PERSONAL}),
    "bank_guardians": Catalogued(
        Wording("The guardian who consented to a minor's account.",
                "同意开设未成年人账户的监护人。"),
        {"learner_id": SENSITIVE, "guardian_did": SENSITIVE, "consent_id": INTERNAL,
         "since": PERSONAL}),
    "bank_identity_proofs": Catalogued(
        Wording("How a learner proved who they are (activation code, city sign-on, in person).",
                "学习者的身份核验方式（激活码、城市统一身份认证、现场核验）。"),
        {"id": INTERNAL, "learner_id": PERSONAL, "method": PERSONAL, "institution_id": PUBLIC,
         "vouched_by": PERSONAL, "proved_at": PERSONAL}),
    "bank_learner_tokens": Catalogued(
        Wording("Learners' API bearer tokens, kept as hashes.",
                "学习者的接口访问令牌（仅存哈希）。"),
        {"token_sha256": INTERNAL, "learner_id": PERSONAL, "expires_at": INTERNAL}),
    "bank_learners": Catalogued(
        Wording("Learner accounts.",
                "学习者账户。"),
        {"id": PERSONAL, "did": PERSONAL, "identity_hash": SENSITIVE,
         "display_name": PERSONAL, "password_hash": INTERNAL, "opened_by": PERSONAL,
         "created_at": PERSONAL, "birth_date": SENSITIVE, "closing_at": PERSONAL}),
    "bank_notice_preferences": Catalogued(
        Wording("Where and which notices a learner wants e-mailed.",
                "学习者的通知邮箱及订阅的通知类型。"),
        {"learner_id": PERSONAL, "email": PERSONAL, "kinds": PERSONAL,
         "updated_at": PERSONAL}),
    "bank_notices": Catalogued(
        Wording("Notices to learners and institutions (the inbox) and the e-mail outbox.",
                "发给学习者和机构的通知（收件箱）及邮件发送队列。"),
        {"id": INTERNAL, "recipient_kind": INTERNAL, "recipient_id": PERSONAL,
         "kind": PERSONAL, "params": PERSONAL, "link": PERSONAL, "once_key": PERSONAL,
         "created_at": PERSONAL, "read_at": PERSONAL, "email_status": INTERNAL,
         "email_attempts": INTERNAL, "email_after": INTERNAL, "emailed_at": PERSONAL}),
    "bank_operator_tokens": Catalogued(
        Wording("The centre's operator API tokens, kept as hashes.",
                "中心运营方的接口令牌（仅存哈希）。"),
        {"token_sha256": INTERNAL, "name": INTERNAL, "created_at": INTERNAL}),
    "bank_planned_units": Catalogued(
        Wording("Units a learner plans to take (the planner).",
                "学习者计划修读的单元（学习规划）。"),
        {"learner_id": PERSONAL, "issuer_id": PUBLIC, "code": PUBLIC, "added_at": PERSONAL}),
    "bank_reviews": Catalogued(
        Wording("Reviewers' verdicts on applications, with their reasons.",
                "审核人员对申请的审核意见及理由。"),
        {"id": PERSONAL, "application_id": PERSONAL, "stage": INTERNAL, "reviewer": PERSONAL,
         "verdict": PERSONAL, "reasons": SENSITIVE, "excluded": INTERNAL,
         "reviewed_at": PERSONAL}),
    "bank_rule_impacts": Catalogued(
        Wording("A rule version's impact on past applications, in counts (no learner named).",
                "规则版本对既往申请的影响（仅计数，不含学习者）。"),
        {"rule_set_id": PUBLIC, "version": PUBLIC, "previous_version": PUBLIC,
         "content_hash": PUBLIC, "summary": INTERNAL, "computed_at": INTERNAL}),
    "bank_targets": Catalogued(
        Wording("The programme a learner aims at.",
                "学习者的目标专业方案。"),
        {"learner_id": PERSONAL, "rule_set_id": PUBLIC, "version": PUBLIC,
         "chosen_at": PERSONAL}),
    "bank_transcripts": Catalogued(
        Wording("Transcripts a learner asked for (each a signed credential).",
                "学习者申请的成绩单（每份为签名凭证）。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "requested_at": PERSONAL}),
    "bank_verdicts": Catalogued(
        Wording("Stored verification results of the credentials in learners' records, and the "
                "chain facts each depends on (refreshed by chain events).",
                "学习档案中凭证的已存核验结果及其所依据的链上事实（随链上事件更新）。"),
        {"source": INTERNAL, "ref": PERSONAL, "learner_did": PERSONAL, "basis": INTERNAL,
         "checks": PERSONAL, "static_status": PERSONAL, "status": PERSONAL, "root": PUBLIC,
         "digest": INTERNAL, "issuer_did": PUBLIC, "issuer_id": PUBLIC, "public_key": PUBLIC,
         "anchor_block": PUBLIC, "valid_from": PERSONAL, "valid_until": PERSONAL,
         "revoked_code": PERSONAL, "revoked_reason": PERSONAL, "revoked_block": PUBLIC,
         "suspended": PUBLIC, "key_retired": PUBLIC, "checked_at": INTERNAL, "kind": PERSONAL,
         "level": PERSONAL, "year": PERSONAL, "credits": PERSONAL}),
    "batches": Catalogued(
        Wording("Batches of credentials and their Merkle roots anchored on the chain.",
                "凭证批次及其上链锚定的默克尔根。"),
        {"id": PUBLIC, "issuer_id": PUBLIC, "status": INTERNAL, "size": PUBLIC, "root": PUBLIC,
         "transaction_hash": PUBLIC, "block": PUBLIC, "error": INTERNAL,
         "opened_at": INTERNAL, "closed_at": INTERNAL, "sent_at": INTERNAL,
         "anchored_at": PUBLIC}),
    "column_keys": Catalogued(
        Wording("Generations of the column keys (the keys themselves are derived, never "
                "stored).", "列密钥的代次（密钥本身由派生得到，从不存储）。"),
        {"generation": INTERNAL, "created_at": INTERNAL, "retired_at": INTERNAL}),
    "credentials": Catalogued(
        Wording("Credentials issued, as the issuer keeps them (document, anchor, status index).",
                "发证机构保存的已颁发凭证（文件、锚定信息、状态索引）。"),
        {"id": PERSONAL, "issuer_id": PUBLIC, "learner_did": PERSONAL,
         "learner_hash": SENSITIVE, "unit_code": PUBLIC, "unit_version": PUBLIC,
         "session": PERSONAL, "key_id": PUBLIC, "batch_id": PUBLIC, "position": INTERNAL,
         "digest": INTERNAL, "signed": SENSITIVE, "anchored": SENSITIVE,
         "issued_at": PERSONAL, "credits": PERSONAL, "completed_on": PERSONAL,
         "valid_until": PERSONAL, "status_list": PUBLIC, "status_index": INTERNAL}),
    "idempotency": Catalogued(
        Wording("Issuers' answered requests, so a retry gets the same answer.",
                "发证机构已应答的请求，重试时返回相同结果。"),
        {"issuer_id": PUBLIC, "key": INTERNAL, "request_sha256": INTERNAL, "status": INTERNAL,
         "response": SENSITIVE, "created_at": INTERNAL}),
    "issuer_accounts": Catalogued(
        Wording("Issuers' chain accounts; the key is sealed under the master key.",
                "发证机构的链上账户；私钥以主密钥加密保存。"),
        {"issuer_id": PUBLIC, "address": PUBLIC, "sealed_key": INTERNAL}),
    "issuer_keys": Catalogued(
        Wording("Issuers' signing keys: public keys and sealed seeds.",
                "发证机构的签名密钥：公钥及加密保存的种子。"),
        {"id": PUBLIC, "issuer_id": PUBLIC, "public_key": PUBLIC, "sealed_seed": INTERNAL,
         "state": PUBLIC, "registered_block": PUBLIC, "retired_block": PUBLIC}),
    "issuers": Catalogued(
        Wording("Accredited institutions.",
                "经认可的机构。"),
        {"id": PUBLIC, "did": PUBLIC, "chain_id": PUBLIC, "name": PUBLIC, "name_zh": PUBLIC,
         "url": PUBLIC, "kinds": PUBLIC, "levels": PUBLIC, "valid_from": PUBLIC,
         "valid_until": PUBLIC, "suspended": PUBLIC, "created_at": PUBLIC}),
    "ledger_cursor": Catalogued(
        Wording("How far the event indexer has read the chain.",
                "事件索引器读取区块链的进度。"),
        {"name": INTERNAL, "block": INTERNAL}),
    "ledger_issuer_events": Catalogued(
        Wording("Issuer suspensions, reinstatements and key retirements read from the chain's "
                "events.",
                "从链上事件读取的发证机构暂停、恢复及密钥停用记录。"),
        {"block": PUBLIC, "log_index": PUBLIC, "event": PUBLIC, "issuer_id": PUBLIC,
         "public_key": PUBLIC, "retired_block": PUBLIC}),
    "ledger_revocations": Catalogued(
        Wording("Revocations read from the chain's events.",
                "从链上事件读取的撤销记录。"),
        {"root": PUBLIC, "digest": PUBLIC, "issuer_id": PUBLIC, "reason": PUBLIC,
         "block": PUBLIC, "tx_hash": PUBLIC}),
    "oidc_links": Catalogued(
        Wording("City sign-on identities linked to learner accounts, kept as keyed hashes.",
                "与学习者账户关联的城市统一身份认证标识（仅存带密钥哈希）。"),
        {"issuer": PUBLIC, "subject_hash": SENSITIVE, "learner_id": PERSONAL,
         "linked_at": PERSONAL}),
    "presentation_requests": Catalogued(
        Wording("What a verifier asked a learner's wallet for, and the report of the answer.",
                "验证方向学习者钱包请求的内容及应答报告。"),
        {"id": INTERNAL, "state": INTERNAL, "nonce": INTERNAL, "viewer_sha256": INTERNAL,
         "dcql_query": INTERNAL, "client_id": INTERNAL, "response_uri": INTERNAL,
         "created_at": INTERNAL, "expires_at": INTERNAL, "responded_at": INTERNAL,
         "report": SENSITIVE}),
    "published_status_lists": Catalogued(
        Wording("Status lists as published (a bit per credential, no names).",
                "已发布的状态列表（每个凭证一位，不含姓名）。"),
        {"issuer_id": PUBLIC, "list": PUBLIC, "purpose": PUBLIC, "document": PUBLIC,
         "etag": INTERNAL, "fingerprint": INTERNAL, "block": PUBLIC, "built_at": INTERNAL}),
    "rate_limits": Catalogued(
        Wording("Requests counted per client and minute for the rate limits, deleted once the "
                "window ends; the client is kept only as a keyed hash.",
                "按客户端和时间窗口统计的请求数（用于限流），窗口结束即删除；客户端仅以带密钥"
                "的哈希保存。"),
        {"key": PERSONAL, "window_end": INTERNAL, "count": INTERNAL}),
    "revocations": Catalogued(
        Wording("Revocations an issuer asked for, and their chain transactions.",
                "发证机构发起的撤销及其链上交易。"),
        {"id": INTERNAL, "issuer_id": PUBLIC, "batch_id": PUBLIC, "credential_id": PERSONAL,
         "reason": PERSONAL, "note": SENSITIVE, "status": INTERNAL,
         "transaction_hash": PUBLIC, "block": PUBLIC, "error": INTERNAL,
         "requested_at": INTERNAL, "done_at": INTERNAL}),
    "rule_sets": Catalogued(
        Wording("Published recognition rules and programmes.",
                "已发布的认定规则和专业方案。"),
        {"rule_set_id": PUBLIC, "version": PUBLIC, "issuer_id": PUBLIC, "content_hash": PUBLIC,
         "document": PUBLIC, "transaction_hash": PUBLIC, "block": PUBLIC,
         "approved_block": PUBLIC, "published_at": PUBLIC}),
    "shared_links": Catalogued(
        Wording("Links a learner made to share a credential or transcript.",
                "学习者创建的凭证或成绩单分享链接。"),
        {"token": INTERNAL, "credential_json": SENSITIVE, "kind": PERSONAL,
         "expires_at": PERSONAL, "created_at": PERSONAL, "revoked": PERSONAL,
         "learner_id": PERSONAL, "subject_id": PERSONAL}),
    "sign_in_failures": Catalogued(
        Wording("Failed sign-ins by hashed key, to slow guessing down.",
                "按哈希键记录的登录失败，用于延缓猜测。"),
        {"key_sha256": INTERNAL, "failures": INTERNAL, "wait_until": INTERNAL,
         "last_failure": INTERNAL}),
    "staff_accounts": Catalogued(
        Wording("Staff of institutions and the centre.",
                "机构和中心的工作人员账户。"),
        {"username": PERSONAL, "role": INTERNAL, "issuer_id": PUBLIC,
         "password_hash": INTERNAL, "created_at": INTERNAL}),
    "status_lists": Catalogued(
        Wording("Issuers' status lists and how many indexes are handed out.",
                "发证机构的状态列表及已分配的索引数。"),
        {"issuer_id": PUBLIC, "list": PUBLIC, "allocated": INTERNAL, "opened_at": INTERNAL}),
    "units": Catalogued(
        Wording("The catalogue of units: courses, modules, certificates.",
                "学习单元目录：课程、模块、证书。"),
        {"issuer_id": PUBLIC, "code": PUBLIC, "version": PUBLIC, "kind": PUBLIC,
         "title": PUBLIC, "description": PUBLIC, "framework": PUBLIC, "level": PUBLIC,
         "eqf_level": PUBLIC, "credit_value": PUBLIC, "credit_scheme": PUBLIC,
         "hours": PUBLIC, "category": PUBLIC, "learning_outcomes": PUBLIC,
         "valid_from": PUBLIC, "valid_until": PUBLIC, "created_at": PUBLIC, "latest": PUBLIC,
         "search_text": PUBLIC}),
    "verification_results": Catalogued(
        Wording("Results of verifying a dropped credential file, for a short-lived link.",
                "核验上传凭证文件的结果（供短期链接使用）。"),
        {"token": INTERNAL, "credential": SENSITIVE, "created_at": INTERNAL,
         "expires_at": INTERNAL}),
    "wallet_deliveries": Catalogued(
        Wording("Which wallet key received a credential.",
                "凭证由哪个钱包密钥领取。"),
        {"id": INTERNAL, "offer_id": PERSONAL, "credential_id": PERSONAL,
         "thumbprint": PERSONAL, "delivered_at": PERSONAL}),
    "wallet_nonces": Catalogued(
        Wording("Unused wallet nonces, kept as hashes.",
                "未使用的钱包随机数（仅存哈希）。"),
        {"nonce_sha256": INTERNAL, "expires_at": INTERNAL}),
    "wallet_offers": Catalogued(
        Wording("Credential offers to a learner's wallet; codes and tokens kept as hashes.",
                "向学习者钱包发出的凭证领取邀请；验证码和令牌仅存哈希。"),
        {"id": PERSONAL, "learner_id": PERSONAL, "credential_id": PERSONAL,
         "code_sha256": INTERNAL, "tx_code_sha256": INTERNAL, "status": INTERNAL,
         "failures": INTERNAL, "token_sha256": INTERNAL, "token_expires_at": INTERNAL,
         "created_at": PERSONAL, "expires_at": INTERNAL}),
    "web_sessions": Catalogued(
        Wording("Signed-in browser sessions, kept by the hash of their token.",
                "已登录的浏览器会话（按令牌哈希保存）。"),
        {"token_sha256": INTERNAL, "role": INTERNAL, "subject": PERSONAL, "label": PERSONAL,
         "username": PERSONAL, "created_at": INTERNAL, "last_seen": PERSONAL,
         "expires_at": INTERNAL}),
}
"""Every table, what it is for, and the class of every column."""

SEALED = frozenset({
    "bank_learners.birth_date",
    "bank_deposits.credential", "bank_deposits.report", "bank_deposits.evidence",
    "bank_deposits.review_reasons",
    "bank_applications.audit", "bank_applications.credentials", "bank_applications.set_aside",
    "bank_reviews.reasons",
    "bank_decisions.document", "bank_decisions.flag_reason",
    "bank_appeals.grounds", "bank_appeals.reasons",
    "verification_results.credential",
    "shared_links.credential_json",
    "presentation_requests.report",
    "credentials.signed", "credentials.anchored",
    "idempotency.response",
    "bank_corrections.request", "bank_corrections.answer",
    "bank_agreements.reasons", "revocations.note",
})
"""The columns sealed with AES-256-GCM under their column key (`infra.sealing.Sealed`)."""

KEYED_HASHES = frozenset({
    "bank_learners.identity_hash",
    "credentials.learner_hash",
    "oidc_links.subject_hash",
})
"""Sensitive columns kept only as a hash keyed with a secret derived from the master key."""

STATED: dict[str, Wording] = {
    "bank_decisions.credits": Wording(
        "A bare number, so statistics sum credits without opening documents; statistics show "
        "totals only, and it names no learner but through the application.",
        "仅为数字，便于统计时无需打开文件即可汇总学分；统计只展示总数，且只能经由申请关联到"
        "学习者。"),
    "bank_guardians.learner_id": Wording(
        "That a learner has a guardian (is under 14): read to decide what the guardian may "
        "do, shown only to the learner and the guardian.",
        "学习者有监护人（未满 14 周岁）这一事实：仅用于判断监护人的权限，仅向学习者本人和"
        "监护人展示。"),
    "bank_guardians.guardian_did": Wording(
        "The guardian's identity: shown only to the learner and the guardian.",
        "监护人的身份：仅向学习者本人和监护人展示。"),
}
"""Sensitive columns that are neither sealed nor keyed hashes, and how each is protected."""
