"""A city-sized demo bank for `creditbank seed` and `creditbank demo --size city`: thirty
institutions of every kind in the fictional city of Haichuan (海川), their catalogues and
programmes with approved conversion rules, about 100,000 learners and 1,000,000 credentials over
ten years, applications and decisions, revocations and deposits.

Everything goes through the product's paths: accreditation on the ledger, the catalogue, rule
publication and approval, issuance (checked, signed and stored in the issuer's batches, with the
issuance backdated to its season) and the anchoring worker (anchors are today's). The seasons are
those of the institutions: university and college semesters (results in January and June),
certificate exam sittings (four a year), MOOC runs (monthly) and training classes (every other
month); the bank grows year by year. Learners join it over the ten years (a launch wave, then
more each year): each learner's account is opened, backdated, by the institution of their first
credential when they enrolled, before that credential, and one in 200 activates it.

The plan is a pure function of its options (`CityPlan`): names, national ids (valid in form, with
the region code 990101, which no place holds), learners, units, grades and sessions follow from
the seed. Keys and credential ids are random, as the product makes them. Issuance runs in chunks,
each one transaction; a chunk is done when its first outcome is stored (the product issues one
credential per learner, unit and session), so a run that was interrupted (Ctrl-C, kill) and is
started again with the same options skips what is done and issues nothing twice.
"""

from __future__ import annotations

import functools
import json
import random
import time
import uuid
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from bank.accounts import Accounts
from bank.applications import apply, first_review, second_review
from bank.deposits import deposit
from bank.identity import disclosure
from bank.seed import DemoAccounts, unit
from bank.staff import INSTITUTION, OPERATOR, add_staff
from bank.tables import applications, deposits, learners, staff_accounts
from credentials.dids import verification_method_id
from infra.errors import Conflict, InvalidInput
from infra.settings import Settings
from infra.times import iso_utc
from issuers.anchoring import AnchoringWorker
from issuers.catalogue import add_units
from issuers.issuance import Issuance, outcomes_from_json
from issuers.learners import learner_ref
from issuers.publication import approve_rule_set, publish_rule_set
from issuers.registry import Scope, accredit, issuer_record, signing_key
from issuers.revocation import request_revocation
from issuers.signing import Draft, Signed, Signer, SignerOptions, sign_with, signing_pool
from issuers.tables import batches, credentials, issuers, revocations
from ledger.chain import Chain
from ledger.records import RevocationReason
from ledger.views import ChainView

ACTOR = "system:city-demo"
LEARNER_PASSWORD = "xuefen-demo-2026"
STAFF_PASSWORD = "console-demo-2026"
OPERATOR_USER = "haichuan-centre"
CITY_SIGN_ON = "海川通 (demo)"
REGION = "990101"
CRYPTOSUITE = "eddsa-rdfc-2022"
CHUNK = 2_000
PARALLEL_FROM = 20_000
SEED_BLOCK_PERIOD = 0.1
FEATURED = 0
DEMO_LEARNERS = 5
LAUNCH_MONTHS = 12
JOINING_GROWTH = 0.25
RECENT_MONTHS = 12
STUDY_MONTHS = 48
ACTIVATING = 200
ENROLMENT_HOUR = 9
OPENING = 2_000
UNIT_VALID_FROM = "2000-01-01"
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_BIRTHS_FROM = date(1960, 1, 1)
_BIRTH_DAYS = 14_600

Progress = Callable[[str, int, int], None]


def no_progress(phase: str, done: int, total: int) -> None:
    """The default progress hook: does nothing."""


@dataclass(frozen=True)
class Kind:
    """A kind of institution: what it issues, when, its share of the credentials, its units."""

    name: str
    kinds: tuple[str, ...]
    levels: tuple[int, ...]
    scale: str
    months: tuple[int, ...]
    day: int
    delay_days: int
    share: float
    units: tuple[tuple[str, str, str, float], ...]


UNIVERSITY = Kind("university", ("course", "module"), (5, 6, 7), "letter", (1, 6), 16, 5, 0.30, (
    ("course", "高等数学", "Advanced Mathematics", 4), ("course", "大学英语", "College English", 4),
    ("course", "线性代数", "Linear Algebra", 3),
    ("course", "概率论与数理统计", "Probability and Statistics", 3),
    ("course", "管理学原理", "Principles of Management", 3),
    ("course", "微观经济学", "Microeconomics", 3), ("course", "会计学", "Accounting", 3),
    ("course", "市场营销", "Marketing", 2), ("course", "数据结构", "Data Structures", 4),
    ("course", "计算机网络", "Computer Networks", 3),
    ("course", "供应链管理", "Supply Chain Management", 3),
    ("course", "法学概论", "Introduction to Law", 2),
    ("course", "思想道德与法治", "Ethics and Law", 3),
    ("module", "学术写作", "Academic Writing Module", 1),
    ("module", "科研方法", "Research Methods Module", 1)))
COLLEGE = Kind("college", ("course", "training"), (3, 4, 5), "letter", (1, 6), 10, 4, 0.25, (
    ("course", "仓储作业实务", "Warehouse Operations", 3),
    ("course", "电子商务实务", "E-commerce Practice", 3),
    ("course", "汽车维修基础", "Car Maintenance Basics", 4),
    ("course", "护理技术", "Nursing Techniques", 4),
    ("course", "建筑识图", "Reading Construction Drawings", 3),
    ("course", "导游业务", "Tour Guide Practice", 2), ("course", "烹饪工艺", "Culinary Arts", 3),
    ("course", "办公软件应用", "Office Software", 2),
    ("course", "应用数学", "Applied Mathematics", 4),
    ("course", "客户服务与沟通", "Customer Service and Communication", 2),
    ("course", "电工基础", "Electrical Basics", 3),
    ("course", "网店运营", "Online Store Operations", 3),
    ("training", "叉车安全操作培训", "Forklift Safety Training", 1),
    ("training", "消防安全培训", "Fire Safety Training", 1)))
TRAINING = Kind("training", ("training",), (2, 3, 4, 5), "pass-fail", (2, 4, 6, 8, 10, 12), 20, 2,
                0.10, (
    ("training", "低压电工作业", "Low-voltage Electrician Work", 2),
    ("training", "焊接与热切割", "Welding and Thermal Cutting", 2),
    ("training", "养老护理实务", "Elderly Care Practice", 2),
    ("training", "中式烹调", "Chinese Cooking", 2), ("training", "育婴实务", "Infant Care", 1),
    ("training", "汽车美容", "Car Detailing", 1), ("training", "家政服务", "Housekeeping", 1),
    ("training", "急救技能", "First Aid", 1), ("training", "直播电商", "Livestream Commerce", 1),
    ("training", "无人机操控", "Drone Piloting", 2),
    ("training", "工业机器人操作", "Industrial Robot Operation", 2),
    ("training", "茶艺", "Tea Art", 1)))
MOOC = Kind("mooc", ("mooc",), (3, 4, 5, 6), "percent", tuple(range(1, 13)), 26, 1, 0.20, (
    ("mooc", "Python 编程入门", "Introduction to Python Programming", 3),
    ("mooc", "数据分析基础", "Foundations of Data Analysis", 2),
    ("mooc", "商务英语写作", "Business English Writing", 2),
    ("mooc", "人工智能导论", "Introduction to Artificial Intelligence", 2),
    ("mooc", "数字营销", "Digital Marketing", 2),
    ("mooc", "心理学与生活", "Psychology and Life", 1),
    ("mooc", "中国传统文化", "Chinese Traditional Culture", 1),
    ("mooc", "财务报表分析", "Financial Statement Analysis", 2),
    ("mooc", "项目管理", "Project Management", 2), ("mooc", "摄影基础", "Photography Basics", 1),
    ("mooc", "机器学习", "Machine Learning", 3),
    ("mooc", "创新创业", "Innovation and Entrepreneurship", 1),
    ("mooc", "公共演讲", "Public Speaking", 1), ("mooc", "健康生活", "Healthy Living", 1)))
CERTIFICATE = Kind("certificate", ("certificate",), (2, 3, 4, 5, 6), "pass-fail", (3, 6, 9, 11),
                   12, 21, 0.15, (
    ("certificate", "物流服务师（四级）", "Logistics Service Technician, Level 4", 8),
    ("certificate", "电子商务师（四级）", "E-commerce Specialist, Level 4", 6),
    ("certificate", "育婴员（四级）", "Infant Care Worker, Level 4", 5),
    ("certificate", "养老护理员（四级）", "Elderly Care Worker, Level 4", 5),
    ("certificate", "中式烹调师（四级）", "Chinese Cook, Level 4", 6),
    ("certificate", "电工（四级）", "Electrician, Level 4", 6),
    ("certificate", "汽车维修工（四级）", "Motor Mechanic, Level 4", 6),
    ("certificate", "计算机等级考试二级", "Computer Rank Examination, Level 2", 4),
    ("certificate", "英语等级考试三级", "English Proficiency, Level 3", 4),
    ("certificate", "会计专业技术资格（初级）", "Accounting Technician, Junior", 8),
    ("certificate", "人力资源管理师（三级）", "Human Resources Manager, Level 3", 6),
    ("certificate", "焊工（四级）", "Welder, Level 4", 6)))
KINDS_OF_INSTITUTION = (UNIVERSITY, COLLEGE, TRAINING, MOOC, CERTIFICATE)

# (slug, English name, Chinese name, kind): thirty institutions, every kind
INSTITUTIONS = (
    ("hcu", "Haichuan University", "海川大学", UNIVERSITY),
    ("hcou", "Haichuan Open University", "海川开放大学", UNIVERSITY),
    ("hcut", "Haichuan University of Technology", "海川理工大学", UNIVERSITY),
    ("hcnu", "Haichuan Normal University", "海川师范大学", UNIVERSITY),
    ("hcufe", "Haichuan University of Finance and Economics", "海川财经大学", UNIVERSITY),
    ("hcmu", "Haichuan Medical University", "海川医科大学", UNIVERSITY),
    ("hcvtc", "Haichuan Vocational and Technical College", "海川职业技术学院", COLLEGE),
    ("hctvc", "Haichuan Transport Vocational College", "海川交通职业学院", COLLEGE),
    ("hccvc", "Haichuan Commerce Vocational College", "海川商贸职业学院", COLLEGE),
    ("hcitc", "Haichuan Information Technology College", "海川信息职业技术学院", COLLEGE),
    ("hcnvc", "Haichuan Nursing Vocational College", "海川护理职业学院", COLLEGE),
    ("hcbvc", "Haichuan Building Vocational College", "海川建筑职业学院", COLLEGE),
    ("hctour", "Haichuan Tourism Vocational College", "海川旅游职业学院", COLLEGE),
    ("hcsafety", "Haichuan Work Safety Training Centre", "海川安全生产培训中心", TRAINING),
    ("hcelec", "Haichuan Electricians' Training School", "海川电工培训学校", TRAINING),
    ("hccook", "Haichuan Culinary Training School", "海川烹饪培训学校", TRAINING),
    ("hcauto", "Haichuan Motor Repair Training Centre", "海川汽修培训中心", TRAINING),
    ("hccare", "Haichuan Elderly Care Training Centre", "海川养老护理培训中心", TRAINING),
    ("hcdigital", "Haichuan Digital Skills Training Centre", "海川数字技能培训中心", TRAINING),
    ("hcmooc", "Haichuan MOOC", "海川慕课", MOOC),
    ("xuetu", "Xuetu Online", "学途在线", MOOC),
    ("zhixing", "Zhixing Academy Online", "知行学堂", MOOC),
    ("yunduan", "Yunduan Classroom", "云端课堂", MOOC),
    ("hclearn", "Haichuan Lifelong Learning Network", "海川终身学习网", MOOC),
    ("hcskills", "Haichuan Vocational Skills Testing Centre", "海川职业技能鉴定中心", CERTIFICATE),
    ("hcexam", "Haichuan Human Resources Examination Institute", "海川人社考试院", CERTIFICATE),
    ("hclang", "Haichuan Foreign Language Testing Centre", "海川外语等级考试中心", CERTIFICATE),
    ("hcncre", "Haichuan Computer Rank Examination Centre", "海川计算机等级考试中心",
     CERTIFICATE),
    ("hcacct", "Haichuan Accounting Qualification Centre", "海川会计资格评价中心", CERTIFICATE),
    ("hcspecial", "Haichuan Special Operations Assessment Centre", "海川特种作业考核中心",
     CERTIFICATE),
)

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋"
            "蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛"
            "闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN_MALE = "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林欢阳建国峰亮成志东博文"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英燕萍红娥梅琳雪倩婷颖慧晶妍洁琴云莉兰凤菲薇晓丹月蕾"


@dataclass(frozen=True)
class CityPlan:
    """What to seed: learners, credentials, years, institutions (of the thirty, spread over
    every kind), and the seed every choice follows from."""

    learners: int = 100_000
    credentials: int = 1_000_000
    years: int = 10
    institutions: int = 30
    seed: int = 1

    def check(self) -> None:
        """Refuse a plan the city cannot hold."""
        errors: dict[str, object] = {}
        if not 20 <= self.learners <= 10_000_000:
            errors["learners"] = ["must be between 20 and 10,000,000"]
        if not self.learners <= self.credentials <= 100_000_000:
            errors["credentials"] = ["must be at least the learners and at most 100,000,000"]
        if not 1 <= self.years <= 20:
            errors["years"] = ["must be between 1 and 20"]
        if not len(KINDS_OF_INSTITUTION) <= self.institutions <= len(INSTITUTIONS):
            errors["institutions"] = [f"must be between {len(KINDS_OF_INSTITUTION)} and "
                                      f"{len(INSTITUTIONS)}"]
        if errors:
            raise InvalidInput("the city plan is out of range", errors)


SIZES = {
    "small": CityPlan(learners=300, credentials=3_000, institutions=10),
    "city": CityPlan(),
}


@dataclass(frozen=True)
class Institution:
    """One institution of the plan, with its units as catalogue documents."""

    slug: str
    name: str
    name_zh: str
    kind: Kind
    index: int
    units: tuple[dict, ...]

    @property
    def staff(self) -> str:
        """Its console user."""
        return f"{self.slug}-admin"

    @property
    def programme(self) -> str | None:
        """The rule set id of its programme (universities and colleges publish one)."""
        teaches = self.kind in (UNIVERSITY, COLLEGE)
        return f"{self.slug}:{self.slug.upper()}-PRG" if teaches else None


@dataclass(frozen=True)
class Sitting:
    """One season of one institution: a semester's results, an exam sitting, a MOOC run;
    `month_of_plan` counts from the plan's first month (0)."""

    institution: Institution
    completed_on: date
    issued_at: float
    session: str
    month: int
    count: int
    month_of_plan: int


@dataclass(frozen=True)
class Chunk:
    """Outcomes issued in one transaction: one institution, one sitting."""

    sitting: Sitting
    number: int
    outcomes: tuple[dict, ...]


@dataclass(frozen=True)
class Seeded:
    """What a run did: credentials issued now and before, and whether it finished."""

    issued: int
    skipped: int
    finished: bool
    accounts: DemoAccounts


# -- people -----------------------------------------------------------------------------------


def national_id(index: int) -> str:
    """Learner `index`'s national id: 18 characters with a valid check digit, under a region code
    no place holds; unique for up to 12 million learners."""
    day = (index * 7_919) % _BIRTH_DAYS
    serial = 2 * (index // _BIRTH_DAYS) + _female(index) + 1
    born = _BIRTHS_FROM + timedelta(days=day)
    body = f"{REGION}{born:%Y%m%d}{serial:03d}"
    return body + _CHECK[sum(int(digit) * weight
                             for digit, weight in zip(body, _WEIGHTS, strict=True)) % 11]


def name_of(index: int, seed: int) -> str:
    """Learner `index`'s Chinese name (a surname and one or two characters)."""
    rng = random.Random(f"{seed}:name:{index}")
    given = GIVEN_FEMALE if _female(index) else GIVEN_MALE
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))


def _female(index: int) -> int:
    return (index * 2_654_435_761 >> 7) & 1


# -- the plan ---------------------------------------------------------------------------------


def institutions_of(plan: CityPlan) -> tuple[Institution, ...]:
    """The plan's institutions: the first of each kind, then the next of each, in turn."""
    by_kind = [[entry for entry in INSTITUTIONS if entry[3] is kind]
               for kind in KINDS_OF_INSTITUTION]
    chosen: list[tuple[str, str, str, Kind]] = []
    while len(chosen) < plan.institutions:
        for group in by_kind:
            if group and len(chosen) < plan.institutions:
                chosen.append(group.pop(0))
    return tuple(_institution(plan, index, *entry) for index, entry in enumerate(chosen))


def _institution(plan: CityPlan, index: int, slug: str, name: str, name_zh: str,
                 kind: Kind) -> Institution:
    rng = random.Random(f"{plan.seed}:units:{slug}")
    picked = sorted(rng.sample(range(len(kind.units)), min(len(kind.units), 10)))
    documents = []
    for number, position in enumerate(picked, start=1):
        unit_kind, title_zh, title, credits = kind.units[position]
        documents.append(unit(
            f"{slug.upper()}-{number:02d}", f"{title_zh} {title}", unit_kind, credits,
            rng.choice(kind.levels), kind.name, int(credits * 18),
            (f"Apply {title.lower()} at work",)) | {"valid_from": UNIT_VALID_FROM})
    return Institution(slug, name, name_zh, kind, index, tuple(documents))


def window(plan: CityPlan, now: datetime) -> tuple[int, int]:
    """The months (year × 12 + month − 1) the plan covers: `years` × 12 months ending with the
    month before `now`'s."""
    last = now.year * 12 + now.month - 2
    return last - plan.years * 12 + 1, last


def sittings(plan: CityPlan, now: datetime) -> list[Sitting]:
    """Every sitting of the plan in time order, each with its share of the credentials (the
    bank grows by a fifth of its first year's volume every year)."""
    first, last = window(plan, now)
    places = institutions_of(plan)
    kinds = {place.kind.name: sum(1 for other in places if other.kind is place.kind)
             for place in places}
    slots: list[tuple[float, Institution, int]] = []
    for month in range(first, last + 1):
        for place in places:
            if month % 12 + 1 in place.kind.months:
                growth = 1 + 0.2 * (month - first) / 12
                weight = place.kind.share / kinds[place.kind.name] / len(place.kind.months)
                slots.append((weight * growth, place, month))
    total = sum(weight for weight, _, _ in slots)
    result, carried, given = [], 0.0, 0
    for weight, place, month in slots:
        carried += weight
        count = round(plan.credentials * carried / total) - given
        given += count
        result.append(_sitting(place, month, count, now, month - first))
    return result


@functools.cache
def enrolled(plan: CityPlan) -> tuple[int, ...]:
    """How many learners have joined the bank by the end of each month of the plan (its first
    month first): a launch wave as large as a year's joiners, then more every month as the bank
    grows (a quarter more each year); learners join in index order, so the featured and demo
    learners are among the first."""
    rates = [1 + JOINING_GROWTH * month / 12 for month in range(plan.years * 12)]
    rates[0] += LAUNCH_MONTHS
    total, carried, joined = sum(rates), 0.0, []
    for rate in rates:
        carried += rate
        joined.append(min(plan.learners, round(plan.learners * carried / total)))
    joined[-1] = plan.learners
    return tuple(joined)


def joining_month(plan: CityPlan, learner: int) -> int:
    """The month of the plan (0: its first) in which learner `learner` joined the bank."""
    return bisect_right(enrolled(plan), learner)


def _sitting(place: Institution, month: int, count: int, now: datetime,
             month_of_plan: int) -> Sitting:
    year, month_of_year = divmod(month, 12)
    completed = date(year, month_of_year + 1, min(28, place.kind.day + place.index % 5))
    issued = datetime(completed.year, completed.month, completed.day, 2, tzinfo=UTC) + timedelta(
        days=place.kind.delay_days, minutes=place.index * 7)
    kind = place.kind
    if kind in (UNIVERSITY, COLLEGE):
        session = f"{year - 1} autumn" if month_of_year == 0 else f"{year} spring"
    elif kind is CERTIFICATE:
        session = f"{year}-{month_of_year + 1:02d} sitting"
    elif kind is MOOC:
        session = f"{year}-{month_of_year + 1:02d} run"
    else:
        session = f"{year}-{month_of_year + 1:02d} class"
    return Sitting(place, completed, min(issued.timestamp(), now.timestamp() - 60), session, month,
                   count, month_of_plan)


def outcomes_of(plan: CityPlan, sitting: Sitting, moocs: Sequence[str]) -> list[dict]:
    """The outcomes of one sitting: who took which unit and with what grade."""
    place = sitting.institution
    rng = _rng(plan, sitting)
    credits = {document["code"]: document["credit_value"] for document in place.units}
    return [_outcome(rng, place.kind, sitting, learner, code, credits[code])
            for learner, code in _takers(plan, sitting, moocs, rng)]


def _rng(plan: CityPlan, sitting: Sitting) -> random.Random:
    return random.Random(f"{plan.seed}:sitting:{sitting.institution.slug}:{sitting.month}")


def _takers(plan: CityPlan, sitting: Sitting, moocs: Sequence[str],
            rng: random.Random) -> list[tuple[int, str]]:
    """Who took which unit at a sitting, among the learners who had joined the bank by then.
    Universities and colleges teach their own students (every learner belongs to one school's
    cohort), four units a semester (more while a young bank has few students), half of them
    students of the last four years; the others take anyone, one unit each, half of them learners
    who joined in the last year. The featured learner takes one MOOC a month, so that one record
    runs to more than a hundred credentials."""
    place = sitting.institution
    codes = [document["code"] for document in place.units]
    joined = enrolled(plan)
    learners_now = joined[sitting.month_of_plan]
    pairs: list[tuple[int, str]] = []
    if place.kind in (UNIVERSITY, COLLEGE):
        schools = plan.institutions

        def members(learners: int) -> int:
            return max(0, -(-(learners - place.index) // schools))

        present = members(learners_now)
        if present:
            per = min(len(codes), max(4, -(-sitting.count // present)))
            students = _recent_first(rng, present, members(_before(joined, sitting,
                                                                   STUDY_MONTHS)),
                                     -(-sitting.count // per))
            for member in students:
                learner = member * schools + place.index
                pairs += [(learner, code) for code in rng.sample(codes, per)]
            pairs = pairs[:sitting.count]
    else:
        for learner in _recent_first(rng, learners_now, _before(joined, sitting, RECENT_MONTHS),
                                     sitting.count):
            pairs.append((learner, rng.choice(codes)))
    featured = place.kind is MOOC and moocs[sitting.month % len(moocs)] == place.slug
    if featured and all(learner != FEATURED for learner, _ in pairs):
        pairs.append((FEATURED, codes[sitting.month % len(codes)]))
    return pairs


def _before(joined: Sequence[int], sitting: Sitting, months: int) -> int:
    """How many learners had joined `months` before the sitting's month."""
    month = sitting.month_of_plan - months
    return joined[month] if month >= 0 else 0


def _recent_first(rng: random.Random, present: int, recent_from: int, count: int) -> list[int]:
    """`count` distinct learners (at most all) of the first `present`, half of them (or more, if
    the others are too few) at or after `recent_from`: learners are busiest after joining."""
    count = min(count, present)
    recent = min(present - recent_from, max(count // 2, count - recent_from))
    return (rng.sample(range(recent_from, present), recent)
            + rng.sample(range(recent_from), count - recent))


_LETTERS = (("A", 12), ("A-", 14), ("B+", 16), ("B", 18), ("B-", 12), ("C+", 10), ("C", 8),
            ("D", 5), ("F", 5))


def _outcome(rng: random.Random, kind: Kind, sitting: Sitting, learner: int, code: str,
             credits: float) -> dict:
    passed = True
    if kind.scale == "letter":
        grade = rng.choices([g for g, _ in _LETTERS], [w for _, w in _LETTERS])[0]
        passed = grade != "F"
    elif kind.scale == "percent":
        score = max(30, min(100, int(rng.gauss(78, 12))))
        grade, passed = str(score), score >= 60
    else:
        passed = rng.random() < 0.85
        grade = "Pass" if passed else "Fail"
    outcome: dict[str, object] = {"national_id": national_id(learner), "unit": code, "grade": grade,
               "scale": kind.scale, "session": sitting.session,
               "completed_on": sitting.completed_on.isoformat()}
    if not passed:
        outcome["result_status"] = "Failed"
        outcome["credits"] = 0
    return outcome


def chunks(plan: CityPlan, schedule: Sequence[Sitting]) -> Iterator[Chunk]:
    """Every chunk of the plan, in time order."""
    moocs = _moocs(plan)
    for sitting in schedule:
        outcomes = outcomes_of(plan, sitting, moocs)
        for number, start in enumerate(range(0, len(outcomes), CHUNK)):
            yield Chunk(sitting, number, tuple(outcomes[start:start + CHUNK]))


def planned_total(plan: CityPlan, schedule: Sequence[Sitting]) -> int:
    """How many credentials the plan issues (the budget, plus the featured learner's MOOCs)."""
    moocs = _moocs(plan)
    return sum(len(_takers(plan, sitting, moocs, _rng(plan, sitting))) for sitting in schedule)


def _moocs(plan: CityPlan) -> list[str]:
    return [place.slug for place in institutions_of(plan) if place.kind is MOOC]


# -- seeding ----------------------------------------------------------------------------------


def seed_city(engine: Engine, chain: Chain, *, settings: Settings, plan: CityPlan,
              processes: int = 1, progress: Progress = no_progress,
              stop_after: int | None = None) -> Seeded:
    """Seed (or finish seeding) the city `plan` into the bank; `stop_after` chunks issued, it
    stops there, as an interruption would (tests resume from it)."""
    plan.check()
    places = institutions_of(plan)
    now = _started(engine, places)
    did = _institutions(engine, chain, settings, places, progress)
    schedule = sittings(plan, now)
    issued, skipped, finished = _issue(engine, chain, settings, plan, schedule, processes,
                                       progress, stop_after)
    accounts = _accounts(plan, places)
    if not finished:
        return Seeded(issued, skipped, False, accounts)
    progress("anchoring", 0, 1)
    worker = AnchoringWorker(engine, chain.ledger, settings=settings)
    worker.drain(_unanchored(engine))
    progress("anchoring", 1, 1)
    _programmes(engine, chain, settings, places, did, progress)
    people = Accounts.of(engine, settings)
    _enrolments(engine, people, plan, schedule, progress)
    _demo_learners(people, plan, progress)
    _revocations(engine, worker, plan, schedule, settings, progress)
    view = ChainView(chain.ledger)
    _applications(engine, view, people, plan, places, progress)
    _deposits(engine, view, people, plan, progress)
    return Seeded(issued, skipped, True, accounts)


def _started(engine: Engine, places: Sequence[Institution]) -> datetime:
    """When the city was first seeded (its first institution's accreditation), or now: the ten
    years end with the month before it, on every run."""
    with engine.connect() as connection:
        created = connection.execute(select(issuers.c.created_at).where(
            issuers.c.id == places[0].slug)).scalar_one_or_none()
    return datetime.fromtimestamp(created if created is not None else time.time(), UTC)


def _institutions(engine: Engine, chain: Chain, settings: Settings,
                  places: Sequence[Institution], progress: Progress) -> dict[str, str]:
    """Accredit each institution (once), with its catalogue and console user; their DIDs."""
    did = {}
    for done, place in enumerate(places):
        progress("institutions", done, len(places))
        with engine.connect() as connection:
            known = connection.execute(select(issuers.c.did).where(
                issuers.c.id == place.slug)).scalar_one_or_none()
        did[place.slug] = known or accredit(
            engine, chain, settings=settings, name=place.name, name_zh=place.name_zh,
            url=f"https://{place.slug}.haichuan.example", slug=place.slug,
            scope=Scope(kinds=place.kind.kinds, levels=place.kind.levels), actor=ACTOR).did
        with engine.begin() as connection:
            add_units(connection, issuer_record(engine, place.slug), place.units)
        _staff(engine, place.staff, INSTITUTION, place.slug)
    _staff(engine, OPERATOR_USER, OPERATOR, None)
    progress("institutions", len(places), len(places))
    return did


def _staff(engine: Engine, username: str, role: str, issuer_id: str | None) -> None:
    with engine.connect() as connection:
        if connection.execute(select(staff_accounts.c.username).where(
                staff_accounts.c.username == username)).first() is not None:
            return
    add_staff(engine, username, role=role, issuer_id=issuer_id, password=STAFF_PASSWORD,
              actor=ACTOR)


def _issue(engine: Engine, chain: Chain, settings: Settings, plan: CityPlan,
           schedule: Sequence[Sitting], processes: int, progress: Progress,
           stop_after: int | None) -> tuple[int, int, bool]:
    """Issue every chunk not yet stored, in time order, sending the batches that close as it
    goes; (issued now, found done, finished). A chunk is checked and placed in the status lists
    (one transaction), signed while the next chunk is checked, and stored whole (another)."""
    issuance = Issuance.of(engine, settings=settings)
    worker = AnchoringWorker(engine, chain.ledger, settings=settings)
    total = planned_total(plan, schedule)
    records = {place.slug: issuer_record(engine, place.slug) for place in institutions_of(plan)}
    key_ids = {slug: signing_key(engine, issuance.master_key, slug)[0] for slug in records}
    counts = {"done": 0, "issued": 0, "skipped": 0, "chunks": 0}
    progress("credentials", 0, total)

    def store(pending: tuple[Chunk, list[Draft], Iterator[Signed]]) -> None:
        chunk, drafts, signed = pending
        slug = chunk.sitting.institution.slug
        with engine.begin() as connection:
            issuance.store(connection, slug, key_ids[slug], drafts, signed,
                           issued_at=chunk.sitting.issued_at)
        counts["issued"] += len(drafts)
        counts["done"] += len(drafts)
        counts["chunks"] += 1
        progress("credentials", counts["done"], total)
        if counts["chunks"] % 5 == 0:
            worker.send_closed()
            worker.settle_sent()

    pending = None
    with _signing_pool(engine, settings, records, processes) as sign:
        for chunk in chunks(plan, schedule):
            slug = chunk.sitting.institution.slug
            with engine.begin() as connection:
                stored = _is_stored(connection, issuance, slug, chunk.outcomes[0])
                drafts = [] if stored else issuance.prepare(
                    connection, records[slug], outcomes_from_json(list(chunk.outcomes)))
            if stored:
                counts["skipped"] += len(chunk.outcomes)
                counts["done"] += len(chunk.outcomes)
                progress("credentials", counts["done"], total)
                continue
            signing = sign(slug, [draft.unsigned for draft in drafts])
            if pending is not None:
                store(pending)
                if stop_after is not None and counts["chunks"] >= stop_after:
                    return counts["issued"], counts["skipped"], False
            pending = (chunk, drafts, signing)
        if pending is not None:
            store(pending)
    return counts["issued"], counts["skipped"], True


def _is_stored(connection: Connection, issuance: Issuance, issuer_id: str, outcome: dict) -> bool:
    """Whether the chunk that starts with `outcome` is stored (a chunk commits whole)."""
    learner = learner_ref(outcome["national_id"], issuance.pepper, issuance.did_host)
    return connection.execute(select(credentials.c.id).where(
        credentials.c.issuer_id == issuer_id, credentials.c.learner_did == learner.did,
        credentials.c.unit_code == outcome["unit"],
        credentials.c.session == outcome["session"])).first() is not None


Sign = Callable[[str, Iterable[Any]], Iterator[Signed]]


@contextmanager
def _signing_pool(engine: Engine, settings: Settings, records: dict[str, dict],
                  processes: int) -> Iterator[Sign]:
    """A call signing drafts with an issuer's active key, in this process or in one pool of
    `processes` kept for the whole run (`issuers.signing.signing_pool`)."""
    created = iso_utc(time.time())
    options = {}
    for slug, issuer in records.items():
        key = signing_key(engine, settings.master_key(), slug)[1]
        options[slug] = SignerOptions(key.seed, verification_method_id(issuer["did"],
                                                                      key.public_key),
                                      CRYPTOSUITE, created)
    if processes <= 1:
        signers = {slug: Signer.of(each) for slug, each in options.items()}

        def in_process(slug: str, unsigned: Iterable[Any]) -> Iterator[Signed]:
            return (signers[slug](item) for item in unsigned)

        yield in_process
        return
    with signing_pool(processes) as pool:
        def in_pool(slug: str, unsigned: Iterable[Any]) -> Iterator[Signed]:
            return pool.imap(partial(sign_with, options[slug]), unsigned, chunksize=64)

        yield in_pool


def _unanchored(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(select(batches.c.id).where(
            batches.c.status != "anchored")).scalars())


def _programmes(engine: Engine, chain: Chain, settings: Settings,
                places: Sequence[Institution], did: dict[str, str], progress: Progress) -> None:
    """Each university and college publishes its programme's rules; the centre approves them."""
    receiving = [place for place in places if place.programme is not None]
    for done, place in enumerate(receiving):
        progress("programmes", done, len(receiving))
        document = programme_document(place, did)
        publish_rule_set(engine, chain.ledger, issuer_record(engine, place.slug), document,
                         master_key=settings.master_key())
        approve_rule_set(engine, chain, document["rule_set_id"], 1, actor=ACTOR)
    progress("programmes", len(receiving), len(receiving))


def programme_document(place: Institution, did: dict[str, str]) -> dict:
    """An institution's programme and its conversion rules: its own units, credits for the
    city's certificates, MOOCs passed at 60 and training, courses of the last eight years."""
    assert place.programme is not None
    own = [{"code": document["code"], "title": document["title"],
            "credits": document["credit_value"],
            "category": "major" if number % 3 else "general"}
           for number, document in enumerate(place.units)]
    return {
        "rule_set_id": place.programme,
        "owner_did": did[place.slug],
        "version": 1,
        "valid_from": "2016-09-01",
        "programme": {"code": place.programme.split(":")[1],
                      "title": f"{place.name_zh}（本专科）{place.name} programme",
                      "credit_scheme": "CN-NCB", "total_credits": 120,
                      "categories": {"major": 60, "general": 20}, "units": own},
        "rules": [
            {"id": "certificates", "kind": "transfer", "precedence": 20,
             "source": {"kinds": ["certificate"]}, "category": "major", "max_credits": 16},
            {"id": "certificates-3", "kind": "count_cap", "precedence": 40, "max_count": 3,
             "source": {"kinds": ["certificate"]}},
            {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
             "scale": "percent", "min_score": 60},
            {"id": "mooc-general", "kind": "transfer", "precedence": 60,
             "source": {"kinds": ["mooc"]}, "category": "general", "max_credits": 10},
            {"id": "courses", "kind": "transfer", "precedence": 30,
             "source": {"kinds": ["course", "module"]}, "category": "major", "max_credits": 30},
            {"id": "training", "kind": "transfer", "precedence": 50,
             "source": {"kinds": ["training"]}, "category": "general", "max_credits": 6},
            {"id": "courses-8-years", "kind": "currency", "precedence": 10,
             "source": {"kinds": ["course"], "origin": "external"}, "max_age_years": 8},
        ],
    }


def _accounts(plan: CityPlan, places: Sequence[Institution]) -> DemoAccounts:
    return DemoAccounts(
        learners=tuple((national_id(index), name_of(index, plan.seed))
                       for index in range(min(DEMO_LEARNERS, plan.learners))),
        learner_password=LEARNER_PASSWORD,
        staff=(*((place.staff, place.name) for place in places),
               (OPERATOR_USER, "Haichuan credit bank centre (operator)")),
        staff_password=STAFF_PASSWORD)


def _enrolments(engine: Engine, people: Accounts, plan: CityPlan, schedule: Sequence[Sitting],
                progress: Progress) -> None:
    """Every learner with a credential has an account, opened in bulk when they joined the bank
    (their month of the plan, on the enrolment day, before any sitting of that month ends) by the
    institution that issued their first credential; the demo learners and one in `ACTIVATING`
    activate it with its code and a password (each password costs a memory-hard hash)."""
    places = {place.slug: place for place in institutions_of(plan)}
    first_month = schedule[0].month - schedule[0].month_of_plan
    first = _first_issuers(plan, schedule)
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for learner, slug in sorted(first.items()):
        groups[(joining_month(plan, learner), slug)].append(learner)
    done = 0
    for (month, slug), members in sorted(groups.items()):
        progress("enrolments", done, len(first))
        year, month_of_year = divmod(first_month + month, 12)
        day = 1 + places[slug].index % 9
        opened_at = datetime(year, month_of_year + 1, day, ENROLMENT_HOUR, tzinfo=UTC).timestamp()
        for start in range(0, len(members), OPENING):
            _enrol(engine, people, plan, slug, opened_at, members[start:start + OPENING])
        done += len(members)
    progress("enrolments", len(first), len(first))


def _first_issuers(plan: CityPlan, schedule: Sequence[Sitting]) -> dict[int, str]:
    """Each learner the plan issues to, and the institution of their first credential."""
    moocs = _moocs(plan)
    first: dict[int, tuple[float, str]] = {}
    for sitting in schedule:
        for learner, _ in _takers(plan, sitting, moocs, _rng(plan, sitting)):
            if learner not in first or sitting.issued_at < first[learner][0]:
                first[learner] = (sitting.issued_at, sitting.institution.slug)
    return {learner: slug for learner, (_, slug) in first.items()}


def _enrol(engine: Engine, people: Accounts, plan: CityPlan, slug: str, opened_at: float,
           members: Sequence[int]) -> None:
    """Open the accounts of `members` not yet open, and activate those meant to be (a run that
    was interrupted in between asks for their codes again; an account the centre has proven in
    real name is not activated with an institution's code)."""
    numbers = {people.identity(national_id(learner))[0]: learner for learner in members}
    with engine.connect() as connection:
        held = {row.did: row for row in connection.execute(
            select(learners.c.did, learners.c.id, learners.c.password_hash).where(
                learners.c.did.in_(list(numbers))))}
        waiting = [row.did for did, row in held.items() if row.password_hash is None
                   and _activates(numbers[did])
                   and not disclosure(connection, row.id).real_name]
    wanted = [did for did in numbers if did not in held] + waiting
    if not wanted:
        return
    opened = people.open_in_bulk(slug, [national_id(numbers[did]) for did in wanted],
                                 actor=ACTOR, opened_at=opened_at)
    for account in opened:
        learner = numbers[account.did]
        if _activates(learner):
            people.open(national_id(learner), LEARNER_PASSWORD,
                        display_name=name_of(learner, plan.seed),
                        activation_code=account.activation_code)


def _activates(learner: int) -> bool:
    """Whether the learner sets a password for their account (the demo learners do)."""
    return learner < DEMO_LEARNERS or learner % ACTIVATING == ACTIVATING - 1


def _demo_learners(people: Accounts, plan: CityPlan, progress: Progress) -> None:
    """The first learners (the featured one with the long record first), who activated their
    accounts when they enrolled (or open one now if they hold no credential), are proven in real
    name, as the city's sign-on would vouch for them."""
    for index in range(min(DEMO_LEARNERS, plan.learners)):
        progress("accounts", index, DEMO_LEARNERS)
        number = national_id(index)
        account = people.by_did(people.identity(number)[0])
        if account is None:
            people.open(number, LEARNER_PASSWORD, display_name=name_of(index, plan.seed))
            account = people.by_did(people.identity(number)[0])
        assert account is not None
        people.prove_by_city(account["id"], CITY_SIGN_ON, holds_password=True)
    progress("accounts", DEMO_LEARNERS, DEMO_LEARNERS)


def _revocations(engine: Engine, worker: AnchoringWorker, plan: CityPlan,
                 schedule: Sequence[Sitting], settings: Settings, progress: Progress) -> None:
    """A few hundred credentials (one in 3,300) revoked by their issuers, mostly issued in
    error, some superseded, a few for fraud; carried out on chain by the worker."""
    wanted = max(3, plan.credentials // 3_300)
    rng = random.Random(f"{plan.seed}:revocations")
    every = max(1, len(schedule) // wanted)
    reasons = [RevocationReason.ISSUED_IN_ERROR] * 6 + [RevocationReason.SUPERSEDED] * 3 + [
        RevocationReason.FRAUD]
    pepper = Issuance.of(engine, settings=settings).pepper
    moocs = _moocs(plan)
    asked = 0
    for sitting in schedule[::every]:
        outcomes = outcomes_of(plan, sitting, moocs)
        if not outcomes or asked >= wanted:
            continue
        outcome = outcomes[-1]
        issuer_id = sitting.institution.slug
        learner = learner_ref(outcome["national_id"], pepper, settings.did_host).did
        with engine.begin() as connection:
            credential_id = connection.execute(select(credentials.c.id).where(
                credentials.c.issuer_id == issuer_id, credentials.c.learner_did == learner,
                credentials.c.unit_code == outcome["unit"],
                credentials.c.session == outcome["session"])).scalar_one()
            with suppress(Conflict):
                request_revocation(connection, issuer_id, reason=int(rng.choice(reasons)),
                                   credential_id=credential_id, note="city demo", actor=ACTOR)
        asked += 1
    progress("revocations", 0, asked)
    while worker.revoke_pending():
        progress("revocations", min(_revoked(engine), asked - 1), asked)
    progress("revocations", asked, asked)


def _revoked(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).where(
            revocations.c.status == "done")).scalar_one()


def _applications(engine: Engine, view: ChainView, people: Accounts, plan: CityPlan,
                  places: Sequence[Institution], progress: Progress) -> None:
    """One learner in 500 applies for recognition in a programme of another school (checked in
    person at the centre, which opens the account if need be); a third waits for the first
    review, a third for the second, a third is decided."""
    wanted = max(6, plan.learners // 500)
    programmes = [place for place in places if place.programme is not None]
    rng = random.Random(f"{plan.seed}:applications")
    candidates = rng.sample(range(DEMO_LEARNERS, plan.learners),
                            min(plan.learners - DEMO_LEARNERS, wanted * 3))
    made = 0
    for index in candidates:
        if made >= wanted:
            break
        progress("applications", made, wanted)
        number = national_id(index)
        did = people.identity(number)[0]
        with engine.connect() as connection:
            held = connection.execute(select(func.count()).where(
                credentials.c.learner_did == did)).scalar_one()
            account_id = connection.execute(select(learners.c.id).where(
                learners.c.did == did)).scalar_one_or_none()
            done = account_id is not None and connection.execute(select(applications.c.id).where(
                applications.c.learner_id == account_id)).first() is not None
        if not held:
            continue
        if done:
            made += 1
            continue
        if account_id is None or not disclosure(people.engine, account_id).real_name:
            people.check_in_person(number, operator=OPERATOR_USER, actor=ACTOR)
        learner = people.by_did(did)
        assert learner is not None
        school = index % plan.institutions
        target = programmes[(index + 1) % len(programmes)]
        if target.index == school:
            target = programmes[(index + 2) % len(programmes)]
        assert target.programme is not None
        try:
            made_now = apply(engine, view, learner, rule_set_id=target.programme, version=1)
        except InvalidInput:
            continue
        made += 1
        stage = made % 3
        if stage >= 1:
            first_review(engine, made_now["id"], target.slug, verdict="approve",
                         reasons=["符合转换规则 Recognised under the rules, version 1"])
        if stage == 2:
            second_review(engine, made_now["id"], OPERATOR_USER, verdict="approve",
                          reasons=["复审通过 Confirmed by the city centre"])
    progress("applications", wanted, wanted)


def _deposits(engine: Engine, view: ChainView, people: Accounts, plan: CityPlan,
              progress: Progress) -> None:
    """One learner in 5,000 of the demo learners deposits a copy of a MOOC credential whose
    score was altered: it fails verification and waits for the centre's review."""
    wanted = max(1, min(DEMO_LEARNERS - 1, plan.learners // 5_000))
    for index in range(1, 1 + wanted):
        progress("deposits", index - 1, wanted)
        learner = people.by_did(people.identity(national_id(index))[0])
        assert learner is not None
        with engine.connect() as connection:
            if connection.execute(select(deposits.c.id).where(
                    deposits.c.learner_id == learner["id"])).first() is not None:
                continue
            original = connection.execute(select(credentials.c.anchored).where(
                credentials.c.learner_did == learner["did"],
                credentials.c.anchored.is_not(None)).order_by(credentials.c.issued_at)
                .limit(1)).scalar_one_or_none()
        if original is None:
            continue
        altered = json.loads(original)
        bits = random.Random(f"{plan.seed}:deposit:{index}").getrandbits(128)
        altered["id"] = f"urn:uuid:{uuid.UUID(int=bits, version=4)}"
        altered["validFrom"] = altered["validFrom"].replace("T00:00:00Z", "T08:00:00Z")
        deposit(engine, view, learner, altered, evidence="成绩单扫描件 scan of the transcript")
    progress("deposits", wanted, wanted)
