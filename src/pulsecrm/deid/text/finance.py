"""BANK_CARD: 13–19 digit card numbers that pass the Luhn check.

Why the issuer prefix and context matter: one random digit string in ten
passes Luhn, and clinic notes are full of long order and member numbers. A
Luhn-valid number that also starts with a real issuer prefix (UnionPay 62,
Visa 4, Mastercard 51–55/2221–2720, Amex 34/37, JCB 35, Discover 6011/65) or
follows 卡号/银行/card words is reported; one after 订单号/编号 is not.
"""

from __future__ import annotations

import re

from pulsecrm.deid.text.context import mentions_any, window_before
from pulsecrm.deid.text.digit_runs import matches_in_digit_windows
from pulsecrm.deid.text.findings import BANK_CARD, Finding

_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:\d{13,19}|\d{4}(?:[ \-]\d{4}){2,3}(?:[ \-]\d{1,4})?)(?![0-9A-Za-z])"
)
_ISSUER_PREFIX = re.compile(r"62|4|5[1-5]|2[2-7]|3[47]|35|6011|65")
_CARD_CONTEXT = ("卡号", "银行", "账户", "账号", "刷卡", "信用卡", "储蓄卡", "card", "account")
_NOT_A_CARD_CONTEXT = ("订单", "单号", "编号", "会员", "流水", "order", "no.", "#", "问卷", "批号")


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check used by every payment card scheme."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


class BankCardRecogniser:
    """Finds BANK_CARD spans (digits with optional single spaces or hyphens)."""

    name = "finance"
    types = frozenset({BANK_CARD})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for payment card numbers."""
        findings: list[Finding] = []
        for match in matches_in_digit_windows(_CARD, text):
            digits = match.group().replace(" ", "").replace("-", "")
            if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
                continue
            before = window_before(text, match.start(), 10)
            if mentions_any(before, _NOT_A_CARD_CONTEXT):
                score = 0.2
            elif mentions_any(before, _CARD_CONTEXT):
                score = 0.95
            elif _ISSUER_PREFIX.match(digits):
                score = 0.75
            else:
                score = 0.4
            findings.append(Finding(match.start(), match.end(), BANK_CARD, score))
        return findings
