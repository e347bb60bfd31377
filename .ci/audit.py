"""Audit the installed Python packages and the locked Node packages against published advisories.

Python: PyPI publishes, for every project, the advisories (OSV's, GitHub's) that affect a
release, and whether a release was yanked. A package at its latest release is checked through
the project document (``/pypi/NAME/json``); an older one (held back by a pin) is checked through
the release document (``/pypi/NAME/VERSION/json``) where the network serves it, and is otherwise
listed as not audited, never passed silently.

Node: ``npm audit`` over the lock files of ``tests/js`` and ``tests/w3c`` (test tooling) and
``.ci/vendored`` (the npm packages whose files the portal serves from ``portal/static/vendor``).
When the registry refuses the advisory endpoint, the Node packages are reported as not audited.

Advisories judged not to apply are accepted in ``.ci/audit-accepted.toml`` with a reason.
Exit 0 when no unaccepted advisory or yanked release is found, 1 when one is, 2 when PyPI
cannot be reached at all, 64 when an input file is malformed.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import re
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "creditbank"
NODE_PROJECTS = [ROOT / "tests" / "js", ROOT / "tests" / "w3c", ROOT / ".ci" / "vendored"]


class Unreachable(Exception):
    """PyPI could not be asked at all (network or server failure)."""


class BadInput(Exception):
    """An input file of the audit is malformed."""


@dataclass(frozen=True)
class Finding:
    """One reason a package must not ship: an advisory that affects it, or a yanked release."""

    package: str
    version: str
    id: str
    aliases: tuple[str, ...] = ()
    detail: str = ""
    fixed_in: tuple[str, ...] = ()

    def names(self) -> set[str]:
        """The advisory's id and its aliases."""
        return {self.id, *self.aliases}


@dataclass
class PackageAudit:
    """What was learnt of one installed package."""

    package: str
    version: str
    latest: str | None = None
    how: str = ""
    findings: list[Finding] = field(default_factory=list)

    @property
    def audited(self) -> bool:
        """Whether advisory data for this exact version was available."""
        return self.how in ("latest", "release")


def canonical(name: str) -> str:
    """PEP 503 normalised project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def same_version(a: str, b: str) -> bool:
    """Whether two version strings name the same release."""
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def installed_distributions() -> dict[str, str]:
    """The distributions of the running interpreter, without the project itself."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = canonical(dist.metadata["Name"] or "")
        if name and name != PROJECT:
            found[name] = dist.version
    return found


def read_installed(path: Path) -> dict[str, str]:
    """Distributions listed as ``name==version`` lines (blank lines and ``#`` comments skipped)."""
    found = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise BadInput(f"{path}:{number}: expected name==version, got {line!r}")
        found[canonical(name.strip())] = version.strip()
    return found


def fetch(url: str, timeout: float = 30) -> dict | None:
    """A JSON document, or None when the server answers 404 (three tries, 1 s and 2 s apart)."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    for attempt in range(3):
        time.sleep(attempt)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            failure: Exception = error
        except (urllib.error.URLError, OSError, ValueError) as error:
            failure = error
    raise Unreachable(f"{url}: {failure}")


def advisories(package: str, version: str, document: dict) -> list[Finding]:
    """The advisories a PyPI document lists for its release, withdrawn ones left out."""
    found = []
    for entry in document.get("vulnerabilities") or []:
        if entry.get("withdrawn"):
            continue
        detail = (entry.get("summary") or entry.get("details") or "").strip().splitlines()
        found.append(Finding(
            package, version, entry["id"], tuple(entry.get("aliases") or ()),
            detail[0][:160] if detail else "", tuple(entry.get("fixed_in") or ()),
        ))
    return found


def yanked(package: str, version: str, files: list[dict]) -> list[Finding]:
    """A finding when every file of the installed release was yanked."""
    if files and all(item.get("yanked") for item in files):
        reasons = [item["yanked_reason"] for item in files if item.get("yanked_reason")]
        detail = reasons[0] if reasons else "yanked without a reason"
        return [Finding(package, version, "YANKED", detail=detail)]
    return []


def audit_package(pypi: str, package: str, version: str) -> PackageAudit:
    """Ask PyPI about one installed release."""
    result = PackageAudit(package, version)
    project = fetch(f"{pypi}/pypi/{package}/json")
    if project is None:
        result.how = "not on PyPI"
        return result
    result.latest = project["info"]["version"]
    files = next((items for tag, items in (project.get("releases") or {}).items()
                  if same_version(tag, version)), [])
    result.findings += yanked(package, version, files)
    if same_version(result.latest, version):
        result.how = "latest"
        result.findings += advisories(package, version, project)
        return result
    release = fetch(f"{pypi}/pypi/{package}/{version}/json")
    if release is None:
        result.how = "not the latest release, and PyPI does not serve its release document here"
        return result
    result.how = "release"
    result.findings += advisories(package, version, release)
    return result


def load_accepted(path: Path) -> dict[tuple[str, str], str]:
    """Accepted advisories: (package, advisory id) → the reason it does not apply."""
    if not path.exists():
        return {}
    accepted = {}
    for number, entry in enumerate(tomllib.loads(path.read_text()).get("accepted", []), 1):
        missing = [key for key in ("package", "id", "reason")
                   if not str(entry.get(key, "")).strip()]
        if missing:
            raise BadInput(f"{path}: accepted entry {number} lacks {', '.join(missing)}")
        accepted[(canonical(entry["package"]), entry["id"])] = entry["reason"].strip()
    return accepted


def node_audit(prefix: Path, registry: str | None = None) -> tuple[list[str] | None, str]:
    """Run ``npm audit`` on a lock file: its moderate-or-worse findings (None if unavailable)."""
    command = ["npm", "audit", "--json", "--package-lock-only", "--prefer-online",
               "--prefix", str(prefix)]
    if registry:
        command += ["--registry", registry]
    try:
        run = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, f"npm audit could not run: {error}"
    try:
        report = json.loads(run.stdout or "{}")
    except ValueError:
        return None, f"npm audit printed no report: {run.stderr.strip()[-200:]}"
    counts = (report.get("metadata") or {}).get("vulnerabilities")
    if counts is None:
        reason = report.get("message") or (report.get("error") or {}).get("summary") or "no report"
        return None, f"advisories unavailable here, Node packages not audited ({reason})"
    found = []
    for name, entry in sorted((report.get("vulnerabilities") or {}).items()):
        if entry.get("severity") not in ("moderate", "high", "critical"):
            continue
        via = entry.get("via", [])
        titles = sorted({item["title"] for item in via if isinstance(item, dict)})
        through = sorted(item for item in via if isinstance(item, str))
        found.append(f"{name} {entry['severity']}: "
                     + ("; ".join(titles) if titles else "through " + ", ".join(through)))
    total = counts.get("total", sum(counts.values()))
    return found, f"{total} advisory(ies) in the lock file, {len(found)} moderate or worse"


def main(argv: list[str] | None = None) -> int:
    """Run the audit and print its report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pypi", default="https://pypi.org", help="PyPI base URL")
    parser.add_argument("--installed", type=Path,
                        help="a file of name==version lines, instead of this environment")
    parser.add_argument("--accepted", type=Path, default=ROOT / ".ci" / "audit-accepted.toml")
    parser.add_argument("--node", type=Path, action="append",
                        help="a locked Node project to audit (repeatable; default: tests/js, "
                             "tests/w3c and the portal's vendored assets, .ci/vendored)")
    parser.add_argument("--npm-registry", help="npm registry URL (npm's own setting otherwise)")
    parser.add_argument("--no-node", action="store_true", help="skip the Node packages")
    args = parser.parse_args(argv)

    try:
        installed = read_installed(args.installed) if args.installed else installed_distributions()
        accepted = load_accepted(args.accepted)
    except (BadInput, OSError, tomllib.TOMLDecodeError) as error:
        print(f"audit: {error}", file=sys.stderr)
        return 64
    pypi = args.pypi.rstrip("/")
    try:
        with ThreadPoolExecutor(16) as pool:
            audits = list(pool.map(lambda item: audit_package(pypi, *item),
                                   sorted(installed.items())))
    except Unreachable as error:
        print(f"audit: PyPI unreachable, nothing audited: {error}", file=sys.stderr)
        return 2

    failures = 0
    used = set()
    for audit in audits:
        for finding in audit.findings:
            key = next(((audit.package, name) for name in sorted(finding.names())
                        if (audit.package, name) in accepted), None)
            label = f"{audit.package} {audit.version} {finding.id}"
            if finding.aliases:
                label += f" ({', '.join(finding.aliases)})"
            if key:
                used.add(key)
                print(f"accepted  {label}: {accepted[key]}")
            else:
                failures += 1
                fixed = f"; fixed in {', '.join(finding.fixed_in)}" if finding.fixed_in else ""
                print(f"FOUND     {label}: {finding.detail}{fixed}")
    for package, advisory in sorted(set(accepted) - used):
        print(f"stale     {package} {advisory} is accepted but no longer reported; remove it")

    unaudited = [audit for audit in audits if not audit.audited]
    for audit in unaudited:
        latest = f", latest {audit.latest}" if audit.latest else ""
        print(f"unaudited {audit.package} {audit.version}{latest}: {audit.how}")
    checked = len(audits) - len(unaudited)
    print(f"python: {checked} of {len(audits)} packages checked against PyPI's advisories "
          f"({sum(a.how == 'latest' for a in audits)} at their latest release), "
          f"{failures} unaccepted finding(s)")

    for prefix in [] if args.no_node else args.node or NODE_PROJECTS:
        found, summary = node_audit(prefix, args.npm_registry)
        for line in found or []:
            print(f"FOUND     {line}")
        print(f"node ({prefix.relative_to(ROOT) if prefix.is_relative_to(ROOT) else prefix}): "
              f"{summary}")
        failures += len(found or [])
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
