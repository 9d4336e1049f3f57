"""PHONE: PRC mobiles in every common spelling, PRC landlines, international numbers.

Why one combined pattern: phones are the most frequent identifier in 网电 notes
and almost every note has digits, so the pattern must be a single pass. The
alternation order matters: international ``+CC`` numbers are tried before the
bare mobile so ``+852 9123 4567`` is taken whole. Context only ever lowers a
score (订单号/批号 in front of a phone-shaped number), it never invents one.
"""

from __future__ import annotations

import re

import phonenumbers

from pulsecrm.deid.text.context import window_before
from pulsecrm.deid.text.digit_runs import matches_in_digit_windows
from pulsecrm.deid.text.findings import PHONE, Finding

_SEP = r"[ \-]?"
_PHONE_PATTERN = re.compile(
    r"(?<![0-9A-Za-z_])(?:"
    # PRC mobile, optional +86 / 0086 / (+86) prefix, optional 3-4-4 grouping
    r"(?P<mobile>(?:(?:\+|00) ?86[ \-]?|[(（]\+?86[)）] ?)?1[3-9]\d"
    + _SEP
    + r"\d{4}"
    + _SEP
    + r"\d{4})"
    # PRC landline: (0755)12345678, 010-12345678, 0571-8888 8888, optional extension
    r"|(?P<landline>(?:[(（]0(?:10|2\d|[3-9]\d\d)[)）] ?|0(?:10|2\d|[3-9]\d\d)[ \-]?)"
    r"[1-9]\d{2,3}[ \-]?\d{4}(?:(?: ?(?:转|分机|ext\.?|x) ?|-)\d{1,5})?)"
    # international E.164 (+CC ...), validated with libphonenumber below
    r"|(?P<intl>\+(?!86)[1-9]\d{0,2}[ \-]?(?:\(\d{1,4}\)[ \-]?)?\d{1,4}(?:[ \-]?\d{2,5}){1,4})"
    # North-American domestic (415) 555-0132 / 415-555-0132 in English notes
    r"|(?P<nanp>\(\d{3}\) ?\d{3}-\d{4}|\d{3}-\d{3}-\d{4})"
    r")(?![0-9])"
)

_NOT_A_PHONE_CONTEXT = (
    "订单",
    "单号",
    "编号",
    "批号",
    "卡号",
    "会员号",
    "流水号",
    "病历号",
    "门诊号",
    "住院号",
    "order",
    "no.",
    "#",
    "invoice",
)
_PHONE_CONTEXT = ("电话", "手机", "联系", "tel", "phone", "mobile", "号码", "来电", "call", "微信")


class PhoneRecogniser:
    """Finds PHONE spans; see module docstring for the spellings covered."""

    name = "phones"
    types = frozenset({PHONE})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for phone numbers."""
        findings: list[Finding] = []
        for match in matches_in_digit_windows(_PHONE_PATTERN, text):
            kind = match.lastgroup
            start, end = match.span()
            if kind == "mobile":
                score = 0.9
            elif kind == "landline":
                score = 0.8 if not match.group().isdigit() else 0.6
            elif kind == "intl":
                score = _international_score(match.group())
                if score == 0.0:
                    continue
            else:
                score = 0.65
            if _nearest_context_is_not_a_phone(window_before(text, start, 8)):
                score = min(score, 0.3)
            findings.append(Finding(start, end, PHONE, score))
        return findings


_CONTEXT_WORDS = re.compile(
    "(?P<other>" + "|".join(re.escape(w) for w in _NOT_A_PHONE_CONTEXT) + ")"
    "|(?P<phone>" + "|".join(re.escape(w) for w in _PHONE_CONTEXT) + ")"
)


def _nearest_context_is_not_a_phone(window: str) -> bool:
    """订单号13812345678 → True; 电话13812345678 or no cue at all → False."""
    kinds = [match.lastgroup for match in _CONTEXT_WORDS.finditer(window)]
    return bool(kinds) and kinds[-1] == "other"


def _international_score(candidate: str) -> float:
    """libphonenumber tells a plausible +CC number from a stray plus sign."""
    try:
        parsed = phonenumbers.parse(candidate, None)
    except phonenumbers.NumberParseException:
        return 0.0
    if phonenumbers.is_valid_number(parsed):
        return 0.9
    if phonenumbers.is_possible_number(parsed):
        return 0.7
    return 0.0
