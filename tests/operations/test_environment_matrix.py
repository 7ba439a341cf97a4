"""docs/environments.md stays in step with .env.example: every variable has a row, no row is stale."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VARIABLE = re.compile(r"^([A-Z][A-Z0-9_]*)=", re.MULTILINE)
NAMED = re.compile(r"`([A-Z][A-Z0-9_]*\*?)`")


def _example_variables() -> set[str]:
    return set(VARIABLE.findall((ROOT / ".env.example").read_text()))


def _matrix_rows() -> list[str]:
    return [
        line for line in (ROOT / "docs/environments.md").read_text().splitlines() if line.startswith("| `")
    ]


def _first_cell_names(row: str) -> list[str]:
    return NAMED.findall(row.split("|")[1])


def test_every_variable_has_a_row_in_the_matrix():
    named = {name for row in _matrix_rows() for name in _first_cell_names(row)}
    prefixes = tuple(name[:-1] for name in named if name.endswith("*"))
    missing = sorted(v for v in _example_variables() if v not in named and not v.startswith(prefixes))
    assert not missing, f"add these to docs/environments.md: {missing}"


def test_no_row_names_a_variable_that_is_gone():
    variables = _example_variables()
    stale = sorted(
        name
        for row in _matrix_rows()
        for name in _first_cell_names(row)
        if not name.endswith("*") and name not in variables
    )
    assert not stale, f"docs/environments.md names variables .env.example no longer has: {stale}"


def test_every_row_says_what_dev_ci_and_prod_set():
    for row in _matrix_rows():
        cells = [c.strip() for c in row.strip().strip("|").split("|")]
        assert len(cells) == 4 and all(cells), f"incomplete row: {row}"
