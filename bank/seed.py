"""Demo data for `creditbank demo`: four Beijing institutions (a university, a vocational
college, a MOOC platform, a certificate body) and a catalogue of about thirty units, eight
learners with varied records, three programmes with approved conversion rules (Beijing Open
University's Logistics Management bachelor, Haidian Vocational College's logistics diploma in two
versions and its e-commerce diploma, so that the transfer guide shows a match, a maybe and a miss
for the popular logistics technician certificate), applications at every stage, a deposit to
review, and console accounts.

Everything goes through the real paths (accreditation on the ledger, issuance, anchoring,
publication and approval, accounts, applications, reviews). The learners who set a password are
proven in real name as the city's unified identity (北京通) would vouch for them, so their records
show what was issued to them. It runs once, on an empty bank; a bank that already has issuers is
left as it is.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, func, select

from bank.accounts import Accounts
from bank.applications import apply, first_review, second_review
from bank.deposits import deposit
from bank.staff import INSTITUTION, OPERATOR, add_staff
from bank.tables import staff_accounts
from infra.errors import NotFound
from infra.settings import Settings
from issuers.anchoring import AnchoringWorker
from issuers.catalogue import add_units
from issuers.issuance import Issuance, outcomes_from_json
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import Scope, accredit, issuer_record
from issuers.tables import credentials, issuers
from ledger.chain import Chain
from ledger.client import Ledger
from ledger.views import ChainView

ACTOR = "system:demo"
LEARNER_PASSWORD = "xuefen-demo-2026"
STAFF_PASSWORD = "console-demo-2026"
OPERATOR_USER = "city-centre"
CITY_SIGN_ON = "北京通 (demo)"
RULE_SET = "bjou:LOG-BA"
LOGISTICS_DIPLOMA = "hdvc:LOG-DIP"
COMMERCE_DIPLOMA = "hdvc:EC-DIP"
POPULAR_CERTIFICATE = "bjskills:CERT-LOGI-4"
VALID_FROM = "2022-09-01"


@dataclass(frozen=True)
class Institution:
    """A demo institution: id, names, what it is accredited for, its console user and units."""

    slug: str
    name: str
    name_zh: str
    url: str
    scope: Scope
    staff: str
    units: tuple[dict, ...]


@dataclass(frozen=True)
class Learner:
    """A demo learner: national id, name, whether they set a password, and their outcomes."""

    national_id: str
    name: str
    outcomes: tuple[tuple[str, str, str, str, str], ...]
    activated: bool = True


@dataclass(frozen=True)
class DemoAccounts:
    """Where to sign in: learner, institution staff and operator accounts of the demo."""

    learners: tuple[tuple[str, str], ...]
    learner_password: str
    staff: tuple[tuple[str, str], ...]
    staff_password: str

    def lines(self) -> list[str]:
        """The accounts as lines for the terminal."""
        return [
            "demo accounts (passwords are for this demo only):",
            f"  learners at /sign-in (national id / password {self.learner_password}):",
            *(f"    {national_id}  {name}" for national_id, name in self.learners),
            f"  consoles at /staff/sign-in (user / password {self.staff_password}):",
            *(f"    {username:<16}{role}" for username, role in self.staff),
        ]


def unit(code: str, title: str, kind: str, credits: float, level: int, category: str,
         hours: int, outcomes: tuple[str, ...]) -> dict:
    """A catalogue unit on national credit-bank credits (CN-NCB) at a CQF level."""
    return {"code": code, "title": title, "description": f"{title}.", "kind": kind,
            "level": {"framework": "CQF", "level": level, "eqf_level": min(level, 8)},
            "credit_value": credits, "credit_scheme": "CN-NCB", "hours": hours,
            "category": category, "learning_outcomes": list(outcomes), "valid_from": VALID_FROM}


INSTITUTIONS = (
    Institution(
        "bjou", "Beijing Open University", "北京开放大学", "https://www.bjou.edu.cn",
        Scope(kinds=("course", "module"), levels=tuple(range(4, 8))), "bjou-admin", (
            unit("LOG301", "供应链管理 Supply Chain Management", "course", 4, 6, "logistics", 72,
                 ("Plan a supply chain", "Measure supply-chain performance")),
            unit("LOG302", "物流信息系统 Logistics Information Systems", "course", 3, 6,
                 "logistics", 54, ("Choose and run a warehouse management system",)),
            unit("LOG303", "仓储与配送管理 Warehousing and Distribution", "course", 3, 6,
                 "logistics", 54, ("Design a distribution network",)),
            unit("GEN201", "大学英语 College English", "course", 4, 6, "general", 72,
                 ("Read and write professional English",)),
            unit("GEN202", "思想道德与法治 Ethics and Law", "course", 3, 6, "general", 54,
                 ("Apply the basics of Chinese law at work",)),
            unit("LOG101", "快递实务 Express Delivery Practice", "course", 3, 6, "logistics", 54,
                 ("Run the delivery of parcels from pick-up to signature",)),
            unit("LOG102", "分拣与配送 Sorting and Delivery", "course", 3, 6, "logistics", 54,
                 ("Plan sorting and delivery rounds",)),
            unit("LOG103", "物流安全 Logistics Safety", "course", 2, 6, "logistics", 36,
                 ("Keep people and goods safe in a logistics site",)),
            unit("BUS201", "管理学原理 Principles of Management", "course", 4, 6, "business", 72,
                 ("Plan, organise and lead a team",)),
            unit("BUS202", "市场营销 Marketing", "course", 3, 6, "business", 54,
                 ("Write a marketing plan",)),
            unit("ACC201", "基础会计 Basic Accounting", "course", 3, 6, "business", 54,
                 ("Keep double-entry accounts",)),
        )),
    Institution(
        "hdvc", "Haidian Vocational College", "北京市海淀职业学校", "https://www.bjhdzx.cn",
        Scope(kinds=("course", "training"), levels=tuple(range(3, 6))), "hdvc-admin", (
            unit("HV-WH101", "仓储作业实务 Warehouse Operations", "course", 3, 4, "logistics", 54,
                 ("Receive, store and pick goods safely",)),
            unit("HV-DL102", "快递运营管理 Express Delivery Operations", "course", 3, 4,
                 "logistics", 54, ("Run a parcel sorting shift",)),
            unit("HV-MA103", "应用数学 Applied Mathematics", "course", 4, 4, "general", 72,
                 ("Use statistics in daily work",)),
            unit("HV-FL104", "叉车安全操作培训 Forklift Safety Training", "training", 1, 3,
                 "logistics", 16, ("Drive a forklift safely",)),
            unit("HV-EC105", "电子商务实务 E-commerce Practice", "course", 3, 4, "commerce", 54,
                 ("Open and run an online shop",)),
            unit("HV-CS106", "客户服务与沟通 Customer Service and Communication", "course", 2, 4,
                 "commerce", 36, ("Answer customers by phone and online",)),
            unit("HV-IT107", "办公软件应用 Office Software", "course", 2, 3, "general", 36,
                 ("Write documents and spreadsheets",)),
        )),
    Institution(
        "jingxue", "Jingxue MOOC", "京学慕课", "https://mooc.example.cn",
        Scope(kinds=("mooc",), levels=tuple(range(3, 7))), "jingxue-admin", (
            unit("JX-LOG01", "物流学导论 Introduction to Logistics", "mooc", 2, 5, "logistics", 32,
                 ("Explain how goods move from maker to buyer",)),
            unit("JX-DATA02", "数据分析基础 Foundations of Data Analysis", "mooc", 2, 5, "general",
                 32, ("Clean and chart a data set",)),
            unit("JX-ENG03", "商务英语写作 Business English Writing", "mooc", 2, 5, "general", 32,
                 ("Write a business letter in English",)),
            unit("JX-SCM04", "数字化供应链 Digital Supply Chains", "mooc", 2, 6, "logistics", 32,
                 ("Trace goods through a digital supply chain",)),
            unit("JX-PY05", "Python 编程入门 Introduction to Python Programming", "mooc", 3, 5,
                 "computing", 48, ("Write small Python programs",)),
            unit("JX-MKT06", "网络营销 Online Marketing", "mooc", 2, 5, "commerce", 32,
                 ("Run a campaign on social media",)),
            unit("JX-ACC07", "财务会计基础 Foundations of Financial Accounting", "mooc", 2, 5,
                 "business", 32, ("Read a balance sheet",)),
        )),
    Institution(
        "bjskills", "Beijing Vocational Skills Testing Centre", "北京市职业技能鉴定中心",
        "https://www.bjjn.gov.cn",
        Scope(kinds=("certificate",), levels=tuple(range(2, 7))), "bjskills-admin", (
            unit("CERT-LOGI-4", "物流服务师（四级）Logistics Service Technician, Level 4",
                 "certificate", 8, 4, "logistics", 120, ("Organise logistics services",)),
            unit("CERT-COURIER-4", "快递员（四级）Courier, Level 4", "certificate", 6, 4,
                 "logistics", 80, ("Collect, sort and deliver parcels",)),
            unit("CERT-WH-3", "仓储管理员（三级）Warehouse Keeper, Level 3", "certificate", 6, 5,
                 "logistics", 100, ("Manage a warehouse team",)),
            unit("CERT-EC-4", "电子商务师（四级）E-commerce Specialist, Level 4", "certificate",
                 6, 4, "commerce", 100, ("Run the operations of an online shop",)),
            unit("CERT-CS-4", "客户服务管理员（四级）Customer Service Manager, Level 4",
                 "certificate", 5, 4, "commerce", 80, ("Lead a customer service desk",)),
            unit("CERT-FORK-5", "叉车司机（五级）Forklift Driver, Level 5", "certificate", 2, 3,
                 "logistics", 40, ("Drive a forklift in a warehouse",)),
        )),
)

# (issuer, unit, grade, scale, completed on)
LEARNERS = (
    Learner("110108199503120024", "王芳 Wang Fang", (
        ("bjou", "LOG301", "A", "letter", "2025-01-15"),
        ("hdvc", "HV-WH101", "B+", "letter", "2023-07-01"),
        ("hdvc", "HV-DL102", "A-", "letter", "2023-07-01"),
        ("hdvc", "HV-MA103", "B", "letter", "2023-07-01"),
        ("jingxue", "JX-LOG01", "85", "percent", "2024-11-20"),
        ("bjskills", "CERT-COURIER-4", "Pass", "pass-fail", "2024-05-18"))),
    Learner("110105198807211036", "李明 Li Ming", (
        ("hdvc", "HV-WH101", "A", "letter", "2022-12-20"),
        ("hdvc", "HV-FL104", "Pass", "pass-fail", "2023-03-10"),
        ("bjskills", "CERT-LOGI-4", "Pass", "pass-fail", "2024-09-28"),
        ("jingxue", "JX-DATA02", "91", "percent", "2025-03-02"),
        ("jingxue", "JX-ENG03", "55", "percent", "2025-04-12"))),
    Learner("110102199201152241", "张伟 Zhang Wei", (
        ("bjou", "LOG301", "B+", "letter", "2024-07-05"),
        ("bjou", "LOG302", "A-", "letter", "2024-07-05"),
        ("bjou", "GEN201", "B", "letter", "2025-01-15"),
        ("jingxue", "JX-ENG03", "78", "percent", "2024-12-01"),
        ("bjskills", "CERT-WH-3", "Pass", "pass-fail", "2025-06-20"))),
    Learner("110111199709300512", "刘洋 Liu Yang", (
        ("jingxue", "JX-LOG01", "92", "percent", "2025-02-14"),
        ("jingxue", "JX-DATA02", "67", "percent", "2025-05-30"))),
    Learner("110228198511043627", "陈静 Chen Jing", (
        ("hdvc", "HV-FL104", "Pass", "pass-fail", "2024-10-11"),
        ("hdvc", "HV-DL102", "B", "letter", "2024-12-20"),
        ("bjskills", "CERT-COURIER-4", "Pass", "pass-fail", "2025-04-26"))),
    Learner("110106199006182475", "杨帆 Yang Fan", (
        ("bjskills", "CERT-LOGI-4", "Pass", "pass-fail", "2023-11-04"),
        ("bjskills", "CERT-WH-3", "Pass", "pass-fail", "2025-05-17"))),
    Learner("110302199402271352", "赵磊 Zhao Lei", (
        ("bjou", "LOG303", "C", "letter", "2025-01-15"),
        ("bjou", "GEN202", "F", "letter", "2025-01-15"),
        ("jingxue", "JX-LOG01", "74", "percent", "2024-08-30"))),
    Learner("110108199912080860", "黄丽 Huang Li", (
        ("hdvc", "HV-MA103", "A-", "letter", "2025-07-02"),
        ("hdvc", "HV-WH101", "B", "letter", "2025-07-02")), activated=False),
)


def rule_set_document(did: dict[str, str]) -> dict:
    """BJOU's conversion rules for its Logistics Management bachelor (物流管理 本科)."""
    return {
        "rule_set_id": RULE_SET,
        "owner_did": did["bjou"],
        "version": 1,
        "valid_from": "2024-09-01",
        "programme": {
            "code": "LOG-BA",
            "title": "物流管理（本科）Logistics Management, Bachelor",
            "credit_scheme": "CN-NCB",
            "total_credits": 140,
            "categories": {"major": 60, "general": 30},
            "units": [
                {"code": "LOG101", "title": "快递实务 Express Delivery Practice", "credits": 3,
                 "category": "major"},
                {"code": "LOG102", "title": "分拣与配送 Sorting and Delivery", "credits": 3,
                 "category": "major"},
                {"code": "LOG103", "title": "物流安全 Logistics Safety", "credits": 2,
                 "category": "major"},
                {"code": "LOG301", "title": "供应链管理 Supply Chain Management", "credits": 4,
                 "category": "major"},
                {"code": "LOG302", "title": "物流信息系统 Logistics Information Systems",
                 "credits": 3, "category": "major"},
                {"code": "LOG303", "title": "仓储与配送管理 Warehousing and Distribution",
                 "credits": 3, "category": "major"},
                {"code": "GEN201", "title": "大学英语 College English", "credits": 4,
                 "category": "general"},
                {"code": "GEN202", "title": "思想道德与法治 Ethics and Law", "credits": 3,
                 "category": "general"},
            ],
        },
        "rules": [
            {"id": "courier-exemption", "kind": "exemption",
             "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-COURIER-4"]},
             "units": ["LOG101", "LOG102", "LOG103"]},
            {"id": "logistics-technician", "kind": "certificate_credits", "precedence": 20,
             "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-LOGI-4"]},
             "credits": 8, "category": "major"},
            {"id": "warehouse-keeper", "kind": "certificate_credits", "precedence": 20,
             "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-WH-3"]},
             "credits": 6, "category": "major"},
            {"id": "hdvc-logistics", "kind": "transfer", "precedence": 30,
             "source": {"providers": [did["hdvc"]], "unit_codes": ["HV-WH101", "HV-DL102"]},
             "category": "major"},
            {"id": "hdvc-general", "kind": "transfer", "precedence": 50,
             "source": {"providers": [did["hdvc"]], "kinds": ["course"]}, "category": "general"},
            {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
             "scale": "percent", "min_score": 60},
            {"id": "mooc-general", "kind": "transfer", "precedence": 60,
             "source": {"kinds": ["mooc"]}, "category": "general", "max_credits": 10},
            {"id": "courses-5-years", "kind": "currency", "precedence": 10,
             "source": {"kinds": ["course"], "origin": "external"}, "max_age_years": 5},
            {"id": "certificates-3", "kind": "count_cap", "precedence": 40, "max_count": 3,
             "source": {"kinds": ["certificate"]}},
            {"id": "external-half", "kind": "proportion_cap", "precedence": 45,
             "max_share": 0.5, "source": {"origin": "external"}},
        ],
    }


def diploma_rule_sets(did: dict[str, str]) -> list[dict]:
    """HDVC's conversion rules: its logistics diploma (version 1, then version 2 in force,
    where the logistics technician certificate counts only with a pass grade on record) and its
    e-commerce diploma (which does not recognise the logistics certificates)."""
    logistics = {
        "code": "LOG-DIP",
        "title": "现代物流管理（大专）Modern Logistics Management, Diploma",
        "credit_scheme": "CN-NCB",
        "total_credits": 120,
        "categories": {"major": 60, "general": 20},
        "units": [
            {"code": "HV-WH101", "title": "仓储作业实务 Warehouse Operations", "credits": 3,
             "category": "major"},
            {"code": "HV-DL102", "title": "快递运营管理 Express Delivery Operations",
             "credits": 3, "category": "major"},
            {"code": "HV-FL104", "title": "叉车安全操作培训 Forklift Safety Training",
             "credits": 1, "category": "major"},
            {"code": "HV-TR201", "title": "运输管理 Transport Management", "credits": 4,
             "category": "major"},
            {"code": "HV-MA103", "title": "应用数学 Applied Mathematics", "credits": 4,
             "category": "general"},
            {"code": "HV-IT107", "title": "办公软件应用 Office Software", "credits": 2,
             "category": "general"},
        ],
    }

    def logistics_rules(technician_credits: int) -> list[dict]:
        return [
            {"id": "technician", "kind": "certificate_credits", "precedence": 20,
             "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-LOGI-4"]},
             "credits": technician_credits, "category": "major"},
            {"id": "warehouse-keeper", "kind": "certificate_credits", "precedence": 20,
             "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-WH-3"]},
             "credits": 5, "category": "major"},
            {"id": "forklift-exemption", "kind": "exemption",
             "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-FORK-5"]},
             "units": ["HV-FL104"]},
            {"id": "bjou-logistics", "kind": "transfer", "precedence": 30,
             "source": {"providers": [did["bjou"]], "kinds": ["course"]}, "category": "major",
             "max_credits": 4},
            {"id": "mooc-general", "kind": "transfer", "precedence": 60,
             "source": {"kinds": ["mooc"]}, "category": "general", "max_credits": 6},
            {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
             "scale": "percent", "min_score": 70},
            {"id": "certificates-2", "kind": "count_cap", "precedence": 40, "max_count": 2,
             "source": {"kinds": ["certificate"]}},
            {"id": "courses-8-years", "kind": "currency", "precedence": 10,
             "source": {"kinds": ["course"], "origin": "external"}, "max_age_years": 8},
        ]

    version_2_rules = logistics_rules(6)
    version_2_rules.append(
        {"id": "certificates-passed", "kind": "threshold", "precedence": 5,
         "source": {"providers": [did["bjskills"]], "kinds": ["certificate"]},
         "scale": "pass-fail", "min_grade": "Pass"})
    commerce = {
        "code": "EC-DIP",
        "title": "电子商务（大专）E-commerce, Diploma",
        "credit_scheme": "CN-NCB",
        "total_credits": 120,
        "categories": {"major": 60, "general": 20},
        "units": [
            {"code": "HV-EC105", "title": "电子商务实务 E-commerce Practice", "credits": 3,
             "category": "major"},
            {"code": "HV-CS106", "title": "客户服务与沟通 Customer Service and Communication",
             "credits": 2, "category": "major"},
            {"code": "HV-MK202", "title": "网店运营 Online Store Operations", "credits": 4,
             "category": "major"},
            {"code": "HV-MA103", "title": "应用数学 Applied Mathematics", "credits": 4,
             "category": "general"},
            {"code": "HV-IT107", "title": "办公软件应用 Office Software", "credits": 2,
             "category": "general"},
        ],
    }
    return [
        {"rule_set_id": LOGISTICS_DIPLOMA, "owner_did": did["hdvc"], "version": 1,
         "valid_from": "2024-09-01", "valid_until": "2025-08-31", "programme": logistics,
         "rules": logistics_rules(4)},
        {"rule_set_id": LOGISTICS_DIPLOMA, "owner_did": did["hdvc"], "version": 2,
         "valid_from": "2025-09-01", "programme": logistics, "rules": version_2_rules},
        {"rule_set_id": COMMERCE_DIPLOMA, "owner_did": did["hdvc"], "version": 1,
         "valid_from": "2024-09-01", "programme": commerce, "rules": [
             {"id": "commerce-certificates", "kind": "certificate_credits", "precedence": 20,
              "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-EC-4"]},
              "credits": 6, "category": "major"},
             {"id": "service-certificate", "kind": "certificate_credits", "precedence": 20,
              "source": {"providers": [did["bjskills"]], "unit_codes": ["CERT-CS-4"]},
              "credits": 4, "category": "major"},
             {"id": "online-marketing", "kind": "equivalence",
              "source": {"providers": [did["jingxue"]], "unit_codes": ["JX-MKT06"]},
              "target_unit": "HV-MK202", "match_credits": False},
             {"id": "mooc-general", "kind": "transfer", "precedence": 60,
              "source": {"kinds": ["mooc"]}, "category": "general", "max_credits": 6},
             {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
              "scale": "percent", "min_score": 60},
             {"id": "bjou-business", "kind": "transfer", "precedence": 30,
              "source": {"providers": [did["bjou"]], "unit_codes": ["BUS201", "BUS202",
                                                                    "ACC201"]},
              "category": "major", "max_credits": 8},
             {"id": "external-half", "kind": "proportion_cap", "precedence": 45,
              "max_share": 0.5, "source": {"origin": "external"}},
         ]},
    ]


DEMO_ACCOUNTS = DemoAccounts(
    learners=tuple((learner.national_id, learner.name) for learner in LEARNERS
                   if learner.activated),
    learner_password=LEARNER_PASSWORD,
    staff=(*((institution.staff, institution.name) for institution in INSTITUTIONS),
           (OPERATOR_USER, "city credit bank centre (operator)")),
    staff_password=STAFF_PASSWORD,
)


def seed_demo(engine: Engine, chain: Chain, *, settings: Settings) -> DemoAccounts | None:
    """Fill an empty bank with the demo, once; its accounts, or None for a bank holding other
    data (one with issuers but without the demo's operator), which is left untouched."""
    with engine.connect() as connection:
        if connection.execute(select(func.count()).select_from(issuers)).scalar_one():
            demo = connection.execute(select(staff_accounts.c.username).where(
                staff_accounts.c.username == OPERATOR_USER)).first()
            return DEMO_ACCOUNTS if demo is not None else None
    did = {}
    for institution in INSTITUTIONS:
        did[institution.slug] = accredit(
            engine, chain, settings=settings, name=institution.name,
            name_zh=institution.name_zh, url=institution.url, slug=institution.slug,
            scope=institution.scope, actor=ACTOR).did
        with engine.begin() as connection:
            add_units(connection, issuer_record(engine, institution.slug), institution.units)
        add_staff(engine, institution.staff, role=INSTITUTION, issuer_id=institution.slug,
                  password=STAFF_PASSWORD, actor=ACTOR)
    add_staff(engine, OPERATOR_USER, role=OPERATOR, password=STAFF_PASSWORD, actor=ACTOR)
    _issue_all(engine, chain.ledger, settings=settings)
    accounts = Accounts.of(engine, settings)
    for learner in LEARNERS:
        if learner.activated:
            accounts.open(learner.national_id, LEARNER_PASSWORD, display_name=learner.name)
            accounts.prove_by_city(_account(accounts, learner.national_id)["id"], CITY_SIGN_ON,
                                   holds_password=True)
    accounts.open_in_bulk("hdvc", [learner.national_id for learner in LEARNERS
                                   if not learner.activated], actor=ACTOR)
    publish_rule_set(engine, chain.ledger, issuer_record(engine, "bjou"),
                     rule_set_document(did), master_key=settings.master_key())
    approve_rule_set(engine, chain, RULE_SET, 1, actor=ACTOR)
    for document in diploma_rule_sets(did):
        publish_rule_set(engine, chain.ledger, issuer_record(engine, "hdvc"), document,
                         master_key=settings.master_key())
        approve_rule_set(engine, chain, document["rule_set_id"], document["version"],
                         actor=ACTOR)
    _applications(engine, ChainView(chain.ledger), accounts)
    return DEMO_ACCOUNTS


def _issue_all(engine: Engine, ledger: Ledger, *, settings: Settings) -> None:
    """Issue every learner's outcomes, institution by institution, and anchor the batches."""
    issuance = Issuance.of(engine, settings=settings)
    batches: set[str] = set()
    for institution in INSTITUTIONS:
        outcomes = [
            {"national_id": learner.national_id, "unit": code, "grade": grade, "scale": scale,
             "completed_on": completed_on, "session": completed_on[:7]}
            for learner in LEARNERS
            for issuer, code, grade, scale, completed_on in learner.outcomes
            if issuer == institution.slug
        ]
        with engine.begin() as connection:
            issued = issuance.issue(connection, issuer_record(engine, institution.slug),
                                    outcomes_from_json(outcomes), cryptosuite="eddsa-rdfc-2022")
        batches.update(batch for _, _, batch in issued.credentials)
    AnchoringWorker(engine, ledger, settings=settings).drain(batches)


def _account(accounts: Accounts, national_id: str) -> dict:
    """The account of a learner the seed has opened and activated."""
    account = accounts.by_did(accounts.identity(national_id)[0])
    if account is None:
        raise NotFound(f"the seeded learner {national_id} has no account")
    return account


def _applications(engine: Engine, view: ChainView, accounts: Accounts) -> None:
    """Wang Fang's application waits for BJOU's first review, Li Ming's for the city centre's
    second review; Zhang Wei's is decided; Liu Yang's altered MOOC credential waits in review."""
    learner = {learner.name.split()[1]: _account(accounts, learner.national_id)
               for learner in LEARNERS if learner.activated}
    apply(engine, view, learner["Wang"], rule_set_id=RULE_SET, version=1)
    waiting = apply(engine, view, learner["Li"], rule_set_id=RULE_SET, version=1)
    first_review(engine, waiting["id"], "bjou", verdict="approve",
                 reasons=["符合转换规则 Recognised under the rules, version 1"])
    decided = apply(engine, view, learner["Zhang"], rule_set_id=RULE_SET, version=1)
    first_review(engine, decided["id"], "bjou", verdict="approve",
                 reasons=["符合转换规则 Recognised under the rules, version 1"])
    second_review(engine, decided["id"], OPERATOR_USER, verdict="approve",
                  reasons=["复审通过 Confirmed by the city centre"])
    with engine.connect() as connection:
        (original,) = connection.execute(select(credentials.c.anchored).where(
            credentials.c.learner_did == learner["Liu"]["did"],
            credentials.c.unit_code == "JX-DATA02")).scalars()
    altered = json.loads(original)
    altered["id"] = f"urn:uuid:{uuid.uuid4()}"
    altered["credentialSubject"]["result"][0]["value"] = "97"
    deposit(engine, view, learner["Liu"], altered, evidence="成绩单扫描件 scan of the transcript")
