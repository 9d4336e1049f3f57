"""GB/T 39725-2020 data levels as gates on what a column may leave as.

GB/T 39725 grades health data from level 1 (public) to level 5 (data that
could seriously harm a person if disclosed, e.g. special disease status).
PulseCRM turns the grade into a hard rule checked before any work runs:

* level 5 — may only leave removed or suppressed; no pseudonym, no
  generalisation, no original value;
* level 4 — directly identifying data; must be removed, suppressed or
  pseudonymised;
* levels 1–3 — any release form, subject to the other privacy models.

The catalog owns the level of a field; configs repeat it per column.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pulsecrm.deid.operators.base import ReleaseForm

ALLOWED_FORMS: dict[int, frozenset[ReleaseForm]] = {
    5: frozenset({ReleaseForm.REMOVED, ReleaseForm.SUPPRESSED}),
    4: frozenset({ReleaseForm.REMOVED, ReleaseForm.SUPPRESSED, ReleaseForm.PSEUDONYMISED}),
}


class LevelGateError(ValueError):
    """A column of a high GB/T 39725 level would leave in a form its level forbids."""


@dataclass(frozen=True)
class GatedColumn:
    """A column as the gate sees it: its level and the form it would be released in."""

    name: str
    level: int | None
    release_form: ReleaseForm
    method: str


def gate_violations(columns: Iterable[GatedColumn]) -> list[str]:
    """One message per column whose release form its level does not allow."""
    problems: list[str] = []
    for column in columns:
        if column.level is None or column.level not in ALLOWED_FORMS:
            continue
        allowed = ALLOWED_FORMS[column.level]
        if column.release_form not in allowed:
            names = " or ".join(sorted(f.value for f in allowed))
            problems.append(
                f"column {column.name!r} is GB/T 39725 level {column.level} and may only leave "
                f"{names}, but the config releases it {column.release_form.value} "
                f"(via {column.method})"
            )
    return problems


def check_level_gates(columns: Iterable[GatedColumn]) -> None:
    """Raise :class:`LevelGateError` listing every violation, or return quietly."""
    problems = gate_violations(columns)
    if problems:
        raise LevelGateError("; ".join(problems))
