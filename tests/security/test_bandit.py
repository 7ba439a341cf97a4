"""The bandit policy of `make bandit` (security/bandit.py) rejects what it must and lets the rest by."""

from __future__ import annotations

from pathlib import Path

from security.bandit import run


def test_shell_injection_and_pickle_fail_the_policy(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import pickle\nimport subprocess\n\n\ndef handler(name, blob):\n"
        "    subprocess.call('convert ' + name, shell=True)\n    return pickle.loads(blob)\n"
    )
    result = run([str(bad)])
    assert result.returncode == 1
    assert "B602" in result.stdout and "B301" in result.stdout


def test_low_severity_findings_and_justified_nosec_pass(tmp_path: Path) -> None:
    ok = tmp_path / "ok.py"
    ok.write_text(
        "import random\n\n\ndef jitter():\n    return random.random()  # low severity: not failed\n\n\n"
        "def ddl(role):\n    # the role is a constant, not input\n"
        "    return f\"select * from pg_roles where rolname = '{role}'\"  # nosec B608\n"
    )
    assert run([str(ok)]).returncode == 0
