"""Every text/background colour pair in the stylesheet meets WCAG AA (contrast >= 4.5:1)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

CSS = Path(__file__).resolve().parents[2] / "src/pulsecrm/web/static/pulse.css"
PAIRS = [
    ("--fg", "--bg"),
    ("--fg", "--surface-bg"),
    ("--muted-fg", "--bg"),
    ("--muted-fg", "--surface-bg"),
    ("--link-fg", "--bg"),
    ("--link-fg", "--surface-bg"),
    ("--link-fg", "--error-bg"),
    ("--primary-fg", "--primary-bg"),
    ("--danger-fg", "--danger-bg"),
    ("--error-fg", "--error-bg"),
    ("--error-fg", "--bg"),
    ("--ok-fg", "--ok-bg"),
    ("--ok-fg", "--bg"),
    ("--note-fg", "--note-bg"),
]
# Non-text UI (borders of inputs, focus ring) needs 3:1 (WCAG 1.4.11).
UI_PAIRS = [("--border", "--bg"), ("--focus-ring", "--bg"), ("--focus-ring", "--focus")]


def _variables() -> dict[str, str]:
    root = re.search(r":root\s*{([^}]*)}", CSS.read_text(encoding="utf-8"))
    assert root is not None
    return dict(re.findall(r"(--[\w-]+)\s*:\s*(#[0-9a-fA-F]{6})\s*;", root.group(1)))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_contrast_formula() -> None:
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


@pytest.mark.parametrize(("fg", "bg"), PAIRS)
def test_text_pairs_meet_aa(fg: str, bg: str) -> None:
    colours = _variables()
    assert contrast(colours[fg], colours[bg]) >= 4.5, (fg, bg)


@pytest.mark.parametrize(("fg", "bg"), UI_PAIRS)
def test_ui_pairs_meet_3_to_1(fg: str, bg: str) -> None:
    colours = _variables()
    assert contrast(colours[fg], colours[bg]) >= 3.0, (fg, bg)
