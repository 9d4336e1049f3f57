"""B2 lint: no template pre-ticks a box; ``checked`` only echoes what the person submitted."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[2] / "src/pulsecrm/web/templates"
# The one allowed form: {% if <the person's own submitted value> %}checked{% endif %}
ECHO = re.compile(r"{%-?\s*if\s+([^%]*?)\s*-?%}\s*checked\s*{%-?\s*endif\s*-?%}")
SUBMITTED = ("ticked", "values")


def _offending(text: str) -> list[str]:
    allowed = {m.start(): m for m in ECHO.finditer(text)}
    problems = []
    for m in re.finditer(r"\bchecked\b", text):
        guard = next((g for start, g in allowed.items() if start <= m.start() < g.end()), None)
        if guard is None or not any(name in guard.group(1) for name in SUBMITTED):
            line = text.count("\n", 0, m.start()) + 1
            problems.append(f"line {line}: {text.splitlines()[line - 1].strip()}")
    return problems


@pytest.mark.req("B2")
def test_no_consent_box_is_ever_prechecked() -> None:
    checked_somewhere = False
    for path in sorted([*(TEMPLATES / "patient").glob("*.html"), *TEMPLATES.glob("*.html")]):
        text = path.read_text(encoding="utf-8")
        checked_somewhere |= "checked" in text
        assert _offending(text) == [], path.name
    assert checked_somewhere  # the rule does look at real templates


def test_the_lint_catches_a_default_tick() -> None:
    assert _offending('<input type="checkbox" name="consent" checked>')
    assert _offending('<input type="checkbox" {% if True %}checked{% endif %}>')
    assert not _offending('<input type="checkbox" {% if box in ticked %}checked{% endif %}>')
