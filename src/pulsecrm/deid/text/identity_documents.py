"""ID_NUMBER, PASSPORT, HK_MO_TW_PERMIT: identity documents.

Why validate rather than trust the shape: an 18-digit string is common in
clinic notes (order numbers, transaction ids). A resident ID carries a birth
date and an ISO 7064 MOD 11-2 check character, so a candidate that passes both
is an ID with high confidence. A candidate that fails the checksum is kept
with a low score (below the default threshold) unless 身份证/ID words sit right
in front of it — then it is most likely a mistyped ID, and privacy-first means
scrubbing it anyway. Region codes are deliberately not checked: the list
changes and an unknown code is not evidence that a number is not an ID.

Passports and travel permits have no checksum and short bodies (E + 8 digits),
so they are only reported after a context word.
"""

from __future__ import annotations

import re
from datetime import date

from pulsecrm.deid.text.context import mentions_any, window_before
from pulsecrm.deid.text.digit_runs import matches_in_digit_windows
from pulsecrm.deid.text.findings import HK_MO_TW_PERMIT, ID_NUMBER, PASSPORT, Finding

_RESIDENT_ID = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:"
    r"(?P<long>(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])"
    r"|(?P<short>\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})"
    r")(?![0-9A-Za-z])"
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_CONTEXT = ("身份证", "证件", "id", "公民身份")

_PASSPORT = re.compile(
    r"(?i:护照|passport)\s?(?:号码|号|(?i:no\.?|number)|#)?[ :：]{0,3}"
    r"(?P<value>[EGPSD][A-Z]?\d{7,8}|[A-Z]{1,2}\d{6,9}|\d{9})(?![0-9A-Za-z])"
)
_PERMIT = re.compile(
    r"(?:通行证|台胞证|回乡证|(?i:permit))\s?(?:号码|号|编号|(?i:no\.?|number))?[ :：]{0,3}"
    r"(?P<value>[A-Za-z]{1,2}\d{7,10}|\d{8,10})(?![0-9A-Za-z])"
)
_DOCUMENT_CUE = re.compile("护照|通行证|台胞证|回乡证")
_LATIN_DOCUMENT_CUE = re.compile("(?i:passport|permit)")
_ASCII_LETTER = re.compile("[A-Za-z]")


def id_checksum_ok(candidate: str) -> bool:
    """ISO 7064 MOD 11-2 check for an 18-character resident ID (X or x allowed)."""
    total = sum(int(char) * weight for char, weight in zip(candidate, _ID_WEIGHTS, strict=False))
    return _ID_CHECK[total % 11] == candidate[17].upper()


def _birth_date_ok(year: int, month: int, day: int) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    return born <= date.today()


class IdentityDocumentRecogniser:
    """Resident IDs (always), passports and permits (after context words)."""

    name = "identity_documents"
    types = frozenset({ID_NUMBER, PASSPORT, HK_MO_TW_PERMIT})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for identity documents."""
        findings = self._resident_ids(text)
        if _DOCUMENT_CUE.search(text) or (
            _ASCII_LETTER.search(text) and _LATIN_DOCUMENT_CUE.search(text)
        ):
            findings.extend(self._with_context(text, _PASSPORT, PASSPORT))
            findings.extend(self._with_context(text, _PERMIT, HK_MO_TW_PERMIT))
        return findings

    @staticmethod
    def _resident_ids(text: str) -> list[Finding]:
        findings: list[Finding] = []
        for match in matches_in_digit_windows(_RESIDENT_ID, text):
            value = match.group()
            start, end = match.span()
            has_context = mentions_any(window_before(text, start, 8), _ID_CONTEXT)
            if match.group("long"):
                if not _birth_date_ok(int(value[6:10]), int(value[10:12]), int(value[12:14])):
                    continue
                if id_checksum_ok(value):
                    score = 0.97
                elif has_context:
                    score = 0.6  # 身份证 right before it: most likely a mistyped ID
                else:
                    score = 0.35
            else:
                year = 1900 + int(value[6:8])
                if not _birth_date_ok(year, int(value[8:10]), int(value[10:12])):
                    continue
                score = 0.85 if has_context else 0.45
            findings.append(Finding(start, end, ID_NUMBER, score))
        return findings

    @staticmethod
    def _with_context(text: str, pattern: re.Pattern[str], kind: str) -> list[Finding]:
        return [
            Finding(match.start("value"), match.end("value"), kind, 0.85)
            for match in pattern.finditer(text)
        ]
