"""security/audit.py: the exceptions file, the tools' JSON, and the pass/fail decision (ADR 0020).

The JSON fixtures have the shapes the tools print: pip-audit's JsonFormat (pip_audit/_format/json.py:
dependencies[] with vulns[] {id, fix_versions, aliases} or skip_reason) and npm's audit report v2
(@npmcli/arborist audit-report.js / vuln.js: vulnerabilities{name: {via: [advisory | name], …}}, or the
error object npm prints when the registry refuses).
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from security.audit import (
    AuditException,
    ExceptionsError,
    decide,
    parse_exceptions,
    parse_npm_audit,
    parse_pip_audit,
)

TODAY = dt.date(2026, 12, 3)

PIP_AUDIT_FINDING = json.dumps(
    {
        "dependencies": [
            {"name": "fastapi", "version": "0.118.0", "vulns": []},
            {
                "name": "requests",
                "version": "2.25.0",
                "vulns": [
                    {
                        "id": "PYSEC-2023-74",
                        "fix_versions": ["2.31.0"],
                        "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
                    }
                ],
            },
        ],
        "fixes": [],
    }
)
PIP_AUDIT_CLEAN = json.dumps(
    {"dependencies": [{"name": "fastapi", "version": "0.118.0", "vulns": []}], "fixes": []}
)
# What this machine gets: PyPI's JSON API answers 404, so every package is skipped.
PIP_AUDIT_OFFLINE = json.dumps(
    {
        "dependencies": [
            {
                "name": "fastapi",
                "skip_reason": "Dependency not found on PyPI and could not be audited: fastapi (0.118.0)",
            }
        ],
        "fixes": [],
    }
)
NPM_AUDIT_FINDING = json.dumps(
    {
        "auditReportVersion": 2,
        "vulnerabilities": {
            "nanoid": {
                "name": "nanoid",
                "severity": "moderate",
                "isDirect": False,
                "via": [
                    {
                        "source": 1101163,
                        "name": "nanoid",
                        "dependency": "nanoid",
                        "title": "Predictable results in nanoid generation when given non-integer values",
                        "url": "https://github.com/advisories/GHSA-mwcw-c2x4-8c55",
                        "severity": "moderate",
                        "cwe": ["CWE-835"],
                        "cvss": {
                            "score": 4.3,
                            "vectorString": "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:N/A:N",
                        },
                        "range": "<3.3.8",
                    }
                ],
                "effects": ["postcss"],
                "range": "<3.3.8",
                "nodes": ["node_modules/nanoid"],
                "fixAvailable": True,
            },
            "postcss": {
                "name": "postcss",
                "severity": "moderate",
                "isDirect": True,
                "via": ["nanoid"],
                "effects": [],
                "range": "8.0.0 - 8.4.30",
                "nodes": ["node_modules/postcss"],
                "fixAvailable": True,
            },
        },
        "metadata": {
            "vulnerabilities": {"info": 0, "low": 0, "moderate": 2, "high": 0, "critical": 0, "total": 2},
            "dependencies": {
                "prod": 40,
                "dev": 210,
                "optional": 3,
                "peer": 0,
                "peerOptional": 0,
                "total": 250,
            },
        },
    }
)
NPM_AUDIT_CLEAN = json.dumps(
    {
        "auditReportVersion": 2,
        "vulnerabilities": {},
        "metadata": {"vulnerabilities": {"total": 0}, "dependencies": {"total": 250}},
    }
)
# What this machine gets from `npm audit --json`.
NPM_AUDIT_OFFLINE = json.dumps(
    {
        "message": "405 Method Not Allowed - POST https://registry.npmjs.org/-/npm/v1/security/advisories/bulk",
        "method": "POST",
        "statusCode": 405,
        "body": "",
        "error": {"summary": "", "detail": ""},
    }
)

TABLE = """# Dependency audit exceptions

Some prose, and a list:
- not | a table row

| advisory | package | expires | reason |
|---|---|---|---|
| GHSA-mwcw-c2x4-8c55 | nanoid | 2027-01-31 | build-time only (postcss in Vite); no user input reaches it |
| CVE-2023-32681 | requests | 2026-12-01 | proxy credentials are not used; upgrade blocked by a pin |
"""


def test_the_exceptions_table_is_parsed() -> None:
    exceptions = parse_exceptions(TABLE)
    assert exceptions == [
        AuditException(
            "GHSA-mwcw-c2x4-8c55",
            "nanoid",
            dt.date(2027, 1, 31),
            "build-time only (postcss in Vite); no user input reaches it",
        ),
        AuditException(
            "CVE-2023-32681",
            "requests",
            dt.date(2026, 12, 1),
            "proxy credentials are not used; upgrade blocked by a pin",
        ),
    ]
    assert (
        parse_exceptions(
            "# nothing excepted\n\n| advisory | package | expires | reason |\n|---|---|---|---|\n"
        )
        == []
    )


def test_the_committed_exceptions_file_parses() -> None:
    from security.audit import EXCEPTIONS_FILE

    parse_exceptions(EXCEPTIONS_FILE.read_text())


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("| GHSA-mwcw-c2x4-8c55 | nanoid | 31/01/2027 | build-time only, no input |", "not a YYYY-MM-DD"),
        ("| GHSA-mwcw-c2x4-8c55 | nanoid | 2027-01-31 | later |", "must say why"),
        ("| GHSA-mwcw-c2x4-8c55 | nanoid | 2027-01-31 |", "expected 4 cells"),
        ("| see below | nanoid | 2027-01-31 | build-time only, no input |", "not an advisory id"),
        ("| GHSA-mwcw-c2x4-8c55 |  | 2027-01-31 | build-time only, no input |", "no package"),
    ],
)
def test_a_malformed_row_is_an_error_not_a_silently_ignored_line(row: str, message: str) -> None:
    text = f"| advisory | package | expires | reason |\n|---|---|---|---|\n{row}\n"
    with pytest.raises(ExceptionsError, match=message):
        parse_exceptions(text)


def test_a_table_with_other_columns_is_refused() -> None:
    with pytest.raises(ExceptionsError, match="header"):
        parse_exceptions("| id | until |\n|---|---|\n| GHSA-x | 2027-01-01 |\n")


def test_tool_outputs_become_findings() -> None:
    pip = parse_pip_audit(PIP_AUDIT_FINDING)
    assert pip.unaudited is None
    assert [(f.package, f.version, f.advisory) for f in pip.findings] == [
        ("requests", "2.25.0", "PYSEC-2023-74")
    ]
    assert "GHSA-J8R2-6X86-Q33Q" in pip.findings[0].ids()
    npm = parse_npm_audit(NPM_AUDIT_FINDING)
    assert npm.unaudited is None
    # The advisory once, on the package it is about; postcss's string `via` only points at it.
    assert [(f.package, f.advisory, f.severity) for f in npm.findings] == [
        ("nanoid", "GHSA-mwcw-c2x4-8c55", "moderate")
    ]


def test_unreachable_services_are_unaudited_not_clean() -> None:
    assert "1 of 1 packages" in (parse_pip_audit(PIP_AUDIT_OFFLINE).unaudited or "")
    assert "405 Method Not Allowed" in (parse_npm_audit(NPM_AUDIT_OFFLINE).unaudited or "")
    assert parse_pip_audit("").unaudited and parse_npm_audit("npm ERR! network").unaudited


def test_clean_reports_pass() -> None:
    decision = decide(
        [parse_pip_audit(PIP_AUDIT_CLEAN), parse_npm_audit(NPM_AUDIT_CLEAN)],
        [],
        today=TODAY,
        allow_unaudited=False,
    )
    assert not decision.failed
    assert decision.lines == ["ok: pip-audit: 0 finding(s)", "ok: npm audit: 0 finding(s)"]


def test_a_real_finding_fails_unless_a_current_exception_covers_it() -> None:
    reports = [parse_pip_audit(PIP_AUDIT_FINDING), parse_npm_audit(NPM_AUDIT_FINDING)]
    bare = decide(reports, [], today=TODAY, allow_unaudited=True)
    assert bare.failed
    assert "FAIL: python requests 2.25.0: PYSEC-2023-74" in bare.lines
    assert any(line.startswith("FAIL: npm nanoid") for line in bare.lines)

    covering = [
        AuditException("CVE-2023-32681", "requests", dt.date(2027, 1, 1), "matched through an alias"),
        AuditException("GHSA-mwcw-c2x4-8c55", "*", dt.date(2027, 1, 1), "any package, this advisory"),
    ]
    excepted = decide(reports, covering, today=TODAY, allow_unaudited=False)
    assert not excepted.failed, excepted.lines
    assert sum(line.startswith("excepted until 2027-01-01") for line in excepted.lines) == 2

    # An exception for another package does not cover it.
    wrong_package = [AuditException("GHSA-mwcw-c2x4-8c55", "postcss", dt.date(2027, 1, 1), "wrong target")]
    assert decide([reports[1]], wrong_package, today=TODAY, allow_unaudited=False).failed


def test_an_expired_exception_fails_even_with_nothing_to_cover() -> None:
    expired = parse_exceptions(TABLE)  # the requests row expired on 2026-12-01
    decision = decide(
        [parse_pip_audit(PIP_AUDIT_CLEAN), parse_npm_audit(NPM_AUDIT_CLEAN)],
        expired,
        today=TODAY,
        allow_unaudited=False,
    )
    assert decision.failed
    assert "FAIL: exception CVE-2023-32681 (requests) expired on 2026-12-01: fix or renew" in decision.lines
    # …and the finding it used to cover fails too.
    with_finding = decide([parse_pip_audit(PIP_AUDIT_FINDING)], expired, today=TODAY, allow_unaudited=False)
    assert "FAIL: python requests 2.25.0: PYSEC-2023-74" in with_finding.lines


def test_unaudited_fails_closed_unless_explicitly_allowed_and_is_always_reported() -> None:
    reports = [parse_pip_audit(PIP_AUDIT_OFFLINE), parse_npm_audit(NPM_AUDIT_OFFLINE)]
    strict = decide(reports, [], today=TODAY, allow_unaudited=False)
    assert strict.failed
    assert [line.split(":")[0] for line in strict.lines] == ["UNAUDITED", "UNAUDITED"]
    allowed = decide(reports, [], today=TODAY, allow_unaudited=True)
    assert not allowed.failed
    assert allowed.lines == strict.lines  # just as loud
    # Allowing offline never hides a finding from the service that did answer.
    mixed = decide(
        [parse_pip_audit(PIP_AUDIT_OFFLINE), parse_npm_audit(NPM_AUDIT_FINDING)],
        [],
        today=TODAY,
        allow_unaudited=True,
    )
    assert mixed.failed
