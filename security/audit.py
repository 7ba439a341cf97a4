"""Dependency audit: pip-audit over the locked Python requirements and `npm audit` over the SPA's lockfile,
judged against security/audit-exceptions.md (ADR 0020, docs/runbooks/security.md).

    python -m security.audit                     # `make audit`: fails closed if an advisory service is out
    python -m security.audit --allow-unaudited   # `make test`: an unreachable service is reported loudly
                                                 # ("UNAUDITED: …") but does not fail; a finding still does

Outcomes, decided by `decide`:
- a finding (package, advisory) not covered by a current exception → FAIL;
- an exception that is malformed or past its expiry date → FAIL (an exception is a dated promise);
- an advisory service that could not be asked (no JSON, an error object, packages it could not look up)
  → UNAUDITED: FAIL unless --allow-unaudited, and always printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXCEPTIONS_FILE = ROOT / "security" / "audit-exceptions.md"
UV = ROOT / ".tools" / "bin" / "uv"
PIP_AUDIT = ROOT / ".venv" / "bin" / "pip-audit"


@dataclass(frozen=True)
class Finding:
    ecosystem: str  # "python" | "npm"
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...] = ()
    severity: str = ""

    def ids(self) -> set[str]:
        return {self.advisory.upper(), *(a.upper() for a in self.aliases)}


@dataclass(frozen=True)
class AuditException:
    advisory: str
    package: str
    expires: dt.date
    reason: str

    def covers(self, finding: Finding) -> bool:
        return self.advisory.upper() in finding.ids() and self.package.lower() in (
            "*",
            finding.package.lower(),
        )


@dataclass
class Report:
    """What one tool said: findings, or why it could not say (unaudited)."""

    tool: str
    findings: list[Finding] = field(default_factory=list)
    unaudited: str | None = None


@dataclass
class Decision:
    failed: bool
    lines: list[str]


# --------------------------------------------------------------------------- exceptions file

_ROW = re.compile(r"^\|(.+)\|\s*$")
HEADER = ("advisory", "package", "expires", "reason")


class ExceptionsError(ValueError):
    pass


def parse_exceptions(text: str) -> list[AuditException]:
    """The one markdown table of the file: | advisory | package | expires | reason |.

    Every row must have an advisory id, a package (or *), an ISO date and a reason; anything else is an
    error rather than a silently ignored row.
    """
    rows = [m.group(1) for line in text.splitlines() if (m := _ROW.match(line.strip()))]
    if not rows:
        return []
    header = tuple(cell.strip().lower() for cell in rows[0].split("|"))
    if header != HEADER:
        raise ExceptionsError(f"the table header must be | {' | '.join(HEADER)} | (got {header})")
    exceptions = []
    for number, row in enumerate(rows[1:], start=1):
        cells = [cell.strip() for cell in row.split("|")]
        if all(set(cell) <= set("-: ") for cell in cells):
            continue  # the |---|---| separator
        if len(cells) != len(HEADER):
            raise ExceptionsError(f"row {number}: expected {len(HEADER)} cells, got {len(cells)}")
        advisory, package, expires, reason = cells
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*-[A-Za-z0-9-]+|\d+", advisory):
            raise ExceptionsError(
                f"row {number}: {advisory!r} is not an advisory id (GHSA-…, PYSEC-…, CVE-…)"
            )
        if not package:
            raise ExceptionsError(f"row {number}: no package (use * for any)")
        try:
            expiry = dt.date.fromisoformat(expires)
        except ValueError:
            raise ExceptionsError(f"row {number}: expires {expires!r} is not a YYYY-MM-DD date") from None
        if len(reason) < 10:
            raise ExceptionsError(f"row {number}: the reason must say why ({reason!r} is too short)")
        exceptions.append(AuditException(advisory, package, expiry, reason))
    return exceptions


# --------------------------------------------------------------------------- tool outputs


def parse_pip_audit(output: str) -> Report:
    """pip-audit's `--format json`: {"dependencies": [{"name", "version", "vulns": [{"id", "fix_versions",
    "aliases"}]} | {"name", "skip_reason"}], "fixes": [...]}. A dependency it skipped was not audited: for
    packages locked from PyPI that means the vulnerability service did not answer for them."""
    report = Report("pip-audit")
    try:
        data = json.loads(output)
        dependencies = data["dependencies"]
    except (ValueError, KeyError, TypeError):
        report.unaudited = "pip-audit produced no JSON report"
        return report
    skipped = []
    for dep in dependencies:
        if "skip_reason" in dep:
            skipped.append(dep)
            continue
        for vuln in dep.get("vulns", []):
            report.findings.append(
                Finding("python", dep["name"], dep["version"], vuln["id"], tuple(vuln.get("aliases", ())))
            )
    if skipped:
        report.unaudited = (
            f"pip-audit could not look up {len(skipped)} of {len(dependencies)} packages "
            f"(e.g. {skipped[0]['name']}: {skipped[0]['skip_reason']})"
        )
    return report


_GHSA = re.compile(r"GHSA(-[0-9a-z]{4}){3}", re.IGNORECASE)


def parse_npm_audit(output: str) -> Report:
    """`npm audit --json` (auditReportVersion 2): {"vulnerabilities": {name: {"via": [advisory | name]}}}.
    Advisories are the `via` objects (source, name, title, url, severity, range); string `via`s only point
    at another vulnerable package, whose own entry holds the advisory. An error object (the registry
    refused or was unreachable) means nothing was audited."""
    report = Report("npm audit")
    try:
        data = json.loads(output)
    except ValueError:
        report.unaudited = "npm audit produced no JSON report"
        return report
    if not isinstance(data, dict) or "error" in data or data.get("auditReportVersion") != 2:
        message = (
            data.get("message") or (data.get("error") or {}).get("summary") if isinstance(data, dict) else ""
        )
        report.unaudited = f"npm audit could not reach its advisory service ({message or 'no report'})"
        return report
    seen = set()
    for entry in data.get("vulnerabilities", {}).values():
        for via in entry.get("via", []):
            if not isinstance(via, dict):
                continue
            url = via.get("url", "")
            match = _GHSA.search(url)
            advisory = match.group(0) if match else str(via.get("source"))
            key = (via.get("name"), advisory)
            if key in seen:
                continue
            seen.add(key)
            report.findings.append(
                Finding(
                    "npm",
                    via.get("name", entry.get("name", "?")),
                    via.get("range", ""),
                    advisory,
                    (str(via["source"]),) if "source" in via else (),
                    via.get("severity", ""),
                )
            )
    return report


# --------------------------------------------------------------------------- the decision


def decide(
    reports: list[Report],
    exceptions: list[AuditException],
    *,
    today: dt.date,
    allow_unaudited: bool,
) -> Decision:
    lines: list[str] = []
    failed = False
    for exc in exceptions:
        if exc.expires < today:
            failed = True
            lines.append(
                f"FAIL: exception {exc.advisory} ({exc.package}) expired on {exc.expires}: fix or renew"
            )
    used: set[AuditException] = set()
    for report in reports:
        if report.unaudited:
            lines.append(f"UNAUDITED: {report.tool}: {report.unaudited}")
            if not allow_unaudited:
                failed = True
        for finding in report.findings:
            cover = next((e for e in exceptions if e.covers(finding) and e.expires >= today), None)
            where = f"{finding.ecosystem} {finding.package} {finding.version}".strip()
            if cover is None:
                failed = True
                lines.append(f"FAIL: {where}: {finding.advisory} {finding.severity}".rstrip())
            else:
                used.add(cover)
                lines.append(f"excepted until {cover.expires}: {where}: {finding.advisory} ({cover.reason})")
        if not report.unaudited:
            lines.append(f"ok: {report.tool}: {len(report.findings)} finding(s)")
    audited = [r for r in reports if not r.unaudited]
    for exc in exceptions:
        if exc not in used and exc.expires >= today and audited:
            lines.append(f"note: exception {exc.advisory} ({exc.package}) matched nothing; remove it?")
    return Decision(failed, lines)


# --------------------------------------------------------------------------- running the tools


def run_pip_audit() -> Report:
    """Audit exactly what uv.lock installs (runtime and dev groups, hashes included), not the venv."""
    with tempfile.TemporaryDirectory(prefix="firmsync-audit-") as tmp:
        requirements = Path(tmp) / "requirements.txt"
        subprocess.run(
            [str(UV), "export", "--frozen", "--all-groups", "--no-emit-project", "--no-header",
             "--format", "requirements-txt", "-o", str(requirements)],
            cwd=ROOT, check=True, capture_output=True,
        )  # fmt: skip
        result = subprocess.run(
            [str(PIP_AUDIT), "-r", str(requirements), "--require-hashes", "--disable-pip",
             "--progress-spinner", "off", "--format", "json", "--aliases", "on",
             "--output", str(Path(tmp) / "report.json")],
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        report_file = Path(tmp) / "report.json"
        report = parse_pip_audit(report_file.read_text() if report_file.exists() else "")
        if report.unaudited and not report_file.exists():
            report.unaudited += f": {(result.stderr.strip().splitlines() or ['no output'])[-1]}"
        return report


def run_npm_audit() -> Report:
    result = subprocess.run(
        ["npm", "audit", "--json", "--package-lock-only"],
        cwd=ROOT / "frontend", capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    return parse_npm_audit(result.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m security.audit")
    parser.add_argument(
        "--allow-unaudited",
        action="store_true",
        help="do not fail when an advisory service cannot be reached (still printed as UNAUDITED)",
    )
    parser.add_argument("--exceptions", type=Path, default=EXCEPTIONS_FILE)
    args = parser.parse_args(argv)
    try:
        exceptions = parse_exceptions(args.exceptions.read_text())
    except ExceptionsError as exc:
        print(f"FAIL: {args.exceptions}: {exc}")
        return 1
    decision = decide(
        [run_pip_audit(), run_npm_audit()],
        exceptions,
        today=dt.datetime.now(dt.UTC).date(),
        allow_unaudited=args.allow_unaudited,
    )
    for line in decision.lines:
        print(line)
    if any(line.startswith("UNAUDITED") for line in decision.lines):
        banner = "!" * 100
        print(f"{banner}\nUNAUDITED: dependencies were NOT checked against advisories (see above)\n{banner}")
    unaudited = any(line.startswith("UNAUDITED") for line in decision.lines)
    if decision.failed:
        print("audit: FAILED")
    else:
        print("audit: passed" + (" WITHOUT an advisory check (--allow-unaudited)" if unaudited else ""))
    return 1 if decision.failed else 0


if __name__ == "__main__":
    sys.exit(main())
