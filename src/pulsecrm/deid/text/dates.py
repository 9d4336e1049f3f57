"""DATE_OF_BIRTH: a date written right after a birth cue (出生日期, 生日, DOB, born).

Why only with a cue: clinic notes are full of dates — visits, surgeries,
follow-ups — which are not identifiers in the same way. A birth date is a
quasi-identifier (with sex and ZIP it identifies most people), so it is
reported only where the note says it is one.
"""

from __future__ import annotations

import re
from datetime import date

from pulsecrm.deid.text.findings import DATE_OF_BIRTH, Finding

_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DATE_FORMS = (
    r"(?P<ymd>(?:19|20)\d{2}(?:年\d{1,2}月\d{1,2}[日号]?|[\-/.]\d{1,2}[\-/.]\d{1,2}))"
    r"|(?P<mdy>\d{1,2}/\d{1,2}/(?:19|20)\d{2})"
    r"|(?P<month_first>" + _MONTHS + r" \d{1,2},? (?:19|20)\d{2})"
    r"|(?P<day_first>\d{1,2} " + _MONTHS + r",? (?:19|20)\d{2})"
    r"|(?P<year_month>(?:19|20)\d{2}年\d{1,2}月)"
    r"|(?P<month_day>(?:1[0-2]|0?[1-9])月(?:3[01]|[12]\d|0?[1-9])[日号])"
)
_DATE = r"(?:是|为|:| |\(|：|（){0,3}(?P<date>" + _DATE_FORMS + r")(?![0-9])"
# literal-first so the regex engine can skip to candidate positions quickly
_DOB_ZH = re.compile(r"(?:出生日期|出生年月日?|出生于|出生|生日|生于)" + _DATE)
_DOB_EN = re.compile(
    r"(?<![A-Za-z])(?i:d\.?o\.?b\.?|date of birth|birth ?date|birthday|born(?: on)?)" + _DATE
)
_GATE_WORDS = ("dob", "d.o.b", "birth", "born")
_ASCII_LETTER = re.compile("[A-Za-z]")
_NUMBERS = re.compile(r"\d+")


class DateOfBirthRecogniser:
    """Birth dates in the Chinese and English forms clinics use."""

    name = "dates"
    types = frozenset({DATE_OF_BIRTH})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for birth dates."""
        findings: list[Finding] = []
        if "生" in text:
            findings.extend(_dates_after(_DOB_ZH, text))
        if _ASCII_LETTER.search(text):
            lowered = text.lower()
            if any(word in lowered for word in _GATE_WORDS):
                findings.extend(_dates_after(_DOB_EN, text))
        return findings


def _dates_after(pattern: re.Pattern[str], text: str) -> list[Finding]:
    findings: list[Finding] = []
    for match in pattern.finditer(text):
        value = match.group("date")
        score = 0.9 if _plausible(value, match.group("mdy") is not None) else 0.5
        findings.append(Finding(match.start("date"), match.end("date"), DATE_OF_BIRTH, score))
    return findings


def _plausible(value: str, month_first: bool) -> bool:
    """Reject 1990-13-45 style non-dates; English month names are taken as valid."""
    numbers = [int(n) for n in _NUMBERS.findall(value)]
    if len(numbers) < 3:
        return True
    if month_first:
        month, day, year = numbers[:3]
    elif numbers[0] > 31:
        year, month, day = numbers[:3]
    else:
        return True
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True
