"""Benchmark the degree audit: 500 outcomes against a programme with 1,000 rules.

Generates (seeded) a realistic rule set — a certificate table, equivalences, many-to-one sets,
transfers per provider, exemptions, block credit, thresholds, currency, caps, overlaps, grade
tables — and a learner's mixed record, then times `audit` (which indexes the rules on every
call). Prints p50/p99 and the ratio to a trivial pass over the same outcomes (sort by end date,
sum credits) timed in the same run.
Usage: python bench/bench_audit.py [--runs N] [--outcomes N] [--rules N]
"""

import argparse
import os
import platform
import random
import statistics
import time
from datetime import date, timedelta
from decimal import Decimal

from rules.audit import audit
from rules.outcomes import Outcome
from rules.rulesets import RuleSet, load_rule_set

OWNER = "did:web:creditbank.example:issuers:bench-open"
LEARNER = "did:web:creditbank.example:learners:bench"
AS_OF = date(2026, 3, 1)
PROVIDERS = tuple(f"did:web:college-{number:02d}.example" for number in range(40))
MOOCS = tuple(f"did:web:mooc-{number}.example" for number in range(5))
CERTIFIER = "did:web:q-net.example"
UNITS = 80
KINDS_IN_LECTURES = ["course", "module", "mooc", "training"]


def programme() -> dict:
    """A bachelor on Korean credits with an 80-unit curriculum."""
    categories = ("major", "general", "elective")
    return {
        "code": "BENCH", "title": "Bench Bachelor", "credit_scheme": "KR", "total_credits": 140,
        "categories": {"major": 60, "general": 30, "elective": 0},
        "units": [{"code": f"U{number:03d}", "title": f"Unit {number}", "credits": 3,
                   "category": categories[number % 3]} for number in range(UNITS)],
        "mandatory": [{"id": "core", "units": [f"U{number:03d}" for number in range(0, 24, 3)]},
                      {"id": "core-credits", "min_credits": 12,
                       "units": [f"U{number:03d}" for number in range(24, 48, 3)]}],
        "source_minimums": [{"id": "accredited", "min_credits": 18,
                             "source": {"kinds": ["course"], "origin": "external"}}],
        "min_gpa": 2.0, "grade_scale": "letter-kr", "credit_rates": {"ECTS": 0.5},
        "grade_bands": [{"grade": grade, "percent": 100 / 9} for grade in
                        ("A+", "A0", "B+", "B0", "C+", "C0", "D+", "D0", "F")],
    }


def rules(count: int, generator: random.Random) -> list[dict]:
    """`count` rules in a realistic mix; the certificate table fills what is left."""
    fixed: list[dict] = [
        {"id": "currency", "kind": "currency", "max_age_years": 5,
         "source": {"kinds": KINDS_IN_LECTURES}},
        {"id": "mooc-pass", "kind": "threshold", "source": {"kinds": ["mooc"]},
         "scale": "percent", "min_score": 60, "min_attendance": 80},
        {"id": "cap-year", "kind": "period_cap", "period": "year", "starts": ["03-01"],
         "max_credits": 42, "source": {"kinds": KINDS_IN_LECTURES, "origin": "external"}},
        {"id": "cap-semester", "kind": "period_cap", "period": "semester",
         "starts": ["03-01", "09-01"], "max_credits": 24,
         "source": {"kinds": KINDS_IN_LECTURES, "origin": "external"}},
        {"id": "cap-provider", "kind": "provider_cap", "max_credits": 105,
         "source": {"origin": "external"}},
        {"id": "cap-certificates", "kind": "count_cap", "max_count": 3,
         "source": {"kinds": ["certificate"]}},
        {"id": "cap-general-certificates", "kind": "count_cap", "max_count": 1,
         "category": "general", "source": {"kinds": ["certificate"]}},
        {"id": "cap-share", "kind": "proportion_cap", "max_share": 0.75,
         "source": {"origin": "external"}},
        {"id": "titles", "kind": "title_match", "source": {"kinds": ["mooc"]},
         "abbreviations": {"intro": "introduction"}},
        {"id": "block", "kind": "block_credit", "source": {"kinds": ["degree"], "min_level": 5},
         "credits": {"general": 15, "elective": 15}},
    ]
    for index, provider in enumerate(PROVIDERS):
        fixed.append({"id": f"transfer-{index:02d}", "kind": "transfer", "precedence": 50,
                      "source": {"providers": [provider]},
                      "category": ("major", "general", "elective")[index % 3]})
        fixed.append({"id": f"threshold-{index:02d}", "kind": "threshold",
                      "source": {"providers": [provider]}, "scale": "letter-kr",
                      "min_grade": "D0"})
    for index, provider in enumerate(MOOCS):
        fixed.append({"id": f"mooc-{index}", "kind": "transfer", "precedence": 50,
                      "source": {"providers": [provider]}, "category": "general"})
        fixed.append({"id": f"grades-{index}", "kind": "grade_table",
                      "source": {"providers": [provider]}, "scale": "ects",
                      "bands": [{"grade": grade, "percent": 20} for grade in "ABCDE"]})
    for index in range(250):
        fixed.append({"id": f"eq-{index:03d}", "kind": "equivalence", "precedence": 10,
                      "source": {"providers": [PROVIDERS[index % len(PROVIDERS)]],
                                 "unit_codes": [f"E{index:03d}"]},
                      "target_unit": f"U{index % UNITS:03d}"})
    for index in range(40):
        provider = PROVIDERS[index * 3 % len(PROVIDERS)]
        fixed.append({"id": f"set-{index:02d}", "kind": "many_to_one", "precedence": 10,
                      "target_unit": f"U{(index * 7) % UNITS:03d}",
                      "sources": [{"code": f"S{index:02d}-{part}", "provider": provider}
                                  for part in (1, 2)]})
        fixed.append({"id": f"overlap-{index:02d}", "kind": "overlap",
                      "units": [{"code": f"E{index:03d}"}, {"code": f"R{index:03d}"}]})
    for index in range(20):
        fixed.append({"id": f"exempt-{index:02d}", "kind": "exemption", "precedence": 20,
                      "source": {"kinds": ["certificate"], "unit_codes": [f"X{index:02d}"]},
                      "units": [f"U{(index * 3 + shift) % UNITS:03d}" for shift in (1, 2)]})
    for index in range(count - len(fixed)):
        fixed.append({"id": f"cert-{index:04d}", "kind": "certificate_credits", "precedence": 20,
                      "source": {"kinds": ["certificate"], "unit_codes": [f"Q{index:04d}"]},
                      "credits": generator.choice((4, 6, 14, 20)),
                      "category": ("major", "general")[index % 2]})
    return fixed


def rule_set(count: int, generator: random.Random) -> RuleSet:
    """The bench rule set, loaded and validated."""
    return load_rule_set({"rule_set_id": "bench-open:BENCH", "owner_did": OWNER, "version": 1,
                          "valid_from": "2020-03-01", "programme": programme(),
                          "rules": rules(count, generator)})


def outcomes(count: int, generator: random.Random) -> list[Outcome]:
    """A learner's mixed record: courses, equivalences, sets, certificates, MOOCs, home units."""
    made = []
    for number in range(count):
        end = AS_OF - timedelta(days=generator.randint(30, 365 * 7))
        roll = generator.random()
        kind, provider, scheme, grade, scale, attendance = (
            "course", generator.choice(PROVIDERS), "KR", generator.choice(
                ("A+", "A0", "B+", "B0", "C+", "C0", "D0", "F")), "letter-kr", None)
        credits = Decimal(generator.choice((2, 3, 3, 3)))
        if roll < 0.35:
            code = f"C{number:04d}"
        elif roll < 0.55:
            index = generator.randrange(250)
            code, provider = f"E{index:03d}", PROVIDERS[index % len(PROVIDERS)]
        elif roll < 0.60:
            code = f"R{generator.randrange(40):03d}"
        elif roll < 0.65:
            index = generator.randrange(40)
            code = f"S{index:02d}-{generator.choice((1, 2))}"
            provider = PROVIDERS[index * 3 % len(PROVIDERS)]
        elif roll < 0.75:
            kind, provider, code, credits, grade, scale = (
                "certificate", CERTIFIER, f"Q{generator.randrange(900):04d}", Decimal(0), None,
                None)
        elif roll < 0.77:
            kind, provider, code, credits, grade, scale = (
                "certificate", CERTIFIER, f"X{generator.randrange(20):02d}", Decimal(0), None,
                None)
        elif roll < 0.90:
            kind, provider, code, scale = "mooc", generator.choice(MOOCS), f"M{number:04d}", \
                "percent"
            grade, attendance = str(generator.randint(40, 100)), Decimal(generator.randint(60, 100))
        elif roll < 0.93:
            scheme, credits, code = "ECTS", Decimal(generator.choice((5, 6))), f"T{number:04d}"
        elif roll < 0.94:
            kind, code, credits = "degree", f"D{number:04d}", Decimal(80)
        else:
            provider, code = OWNER, f"U{generator.randrange(UNITS):03d}"
        made.append(Outcome(
            id=f"urn:bench:{number:04d}", learner=LEARNER, provider=provider, unit_code=code,
            title=f"Title {code}", kind=kind, credits=credits, credit_scheme=scheme,
            end_date=end, eqf_level=generator.choice((5, 6, 6)), grade=grade, scale=scale,
            attendance=attendance, revoked=generator.random() < 0.01))
    return made


def percentile(samples: list[float], share: float) -> float:
    """The nearest-rank percentile of `samples`."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def trivial_pass(record: list[Outcome]) -> Decimal:
    """The baseline: order outcomes by end date and add up their credits."""
    return sum((item.credits for item in sorted(record, key=lambda item: (item.end_date,
                                                                           item.id))), Decimal(0))


def main() -> None:
    """Time the audit and print a markdown table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--outcomes", type=int, default=500)
    parser.add_argument("--rules", type=int, default=1000)
    args = parser.parse_args()
    generator = random.Random(2026)
    started = time.perf_counter()
    rules_set = rule_set(args.rules, generator)
    load_ms = (time.perf_counter() - started) * 1000
    record = outcomes(args.outcomes, generator)
    report = audit(record, rules_set, as_of=AS_OF)
    audit_ms, cpu_ms, base_ms = [], [], []
    for _ in range(args.runs):
        started, cpu = time.perf_counter(), time.thread_time()
        audit(record, rules_set, as_of=AS_OF)
        audit_ms.append((time.perf_counter() - started) * 1000)
        cpu_ms.append((time.thread_time() - cpu) * 1000)
        started = time.perf_counter()
        trivial_pass(record)
        base_ms.append((time.perf_counter() - started) * 1000)
    p50, p99 = percentile(audit_ms, 0.50), percentile(audit_ms, 0.99)
    base = statistics.median(base_ms)
    print(f"## degree audit (bench/bench_audit.py) — {date.today().isoformat()}\n")
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{args.outcomes} outcomes against {len(rules_set.rules):,} rules, {args.runs} runs on "
          f"one core. The audit indexes the rules on every call. The record yields "
          f"{len(report.lines)} lines and {len(report.refusals)} refusals (caps, currency, "
          f"thresholds, overlaps). Load average at the start: {os.getloadavg()[0]:.1f}; wall-clock "
          f"percentiles include time the process waited for a core, CPU-time ones do not.\n")
    print("| measurement | ms | ratio to trivial pass |")
    print("| --- | ---: | ---: |")
    print(f"| trivial pass (sort by end date, sum credits), p50 | {base:.3f} | 1.0 |")
    print(f"| audit p50 | {p50:.2f} | {p50 / base:.0f} |")
    print(f"| audit p99 | {p99:.2f} | {p99 / base:.0f} |")
    for share in (0.50, 0.99):
        value = percentile(cpu_ms, share)
        print(f"| audit p{share * 100:.0f}, CPU time of the thread | {value:.2f} | "
              f"{value / base:.0f} |")
    print(f"| load and validate the 1,000-rule document (once) | {load_ms:.1f} | "
          f"{load_ms / base:.0f} |")


if __name__ == "__main__":
    main()
