"""HIPAA Safe Harbor (45 CFR 164.514(b)(2)): the 18 identifiers and their removal.

Each column is assigned one of the identifier categories below — explicitly
in the config (``hipaa: phone`` / ``hipaa: none``) or, failing that, from its
name. Each category has a default operator and a set of operators that
satisfy the rule; a config choosing anything else for a Safe Harbor column is
refused before work starts. Pseudonyms are *not* allowed for identifiers:
164.514(c) permits a re-identification code only if it is not derived from
information about the individual, and a keyed hash of a phone number is.

After the run, :func:`find_identifier_patterns` scans every released text
cell for e-mails, URLs, IP addresses, phone, SSN and ID-card numbers, so a
free-text column that smuggles an identifier through is caught, not trusted.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from pulsecrm.deid.operators.base import Operator, ReleaseForm, build_operator


class SafeHarborIdentifier(enum.StrEnum):
    """164.514(b)(2)(i)(A)–(R); ZIP and age are the two parts of B and C with own rules."""

    NAMES = "names"  # (A)
    GEOGRAPHIC = "geographic"  # (B) street, city, county, precinct
    ZIP = "zip"  # (B) ZIP code: 3 digits if the area holds > 20 000 people
    DATES = "dates"  # (C) all elements of dates except year
    AGE = "age"  # (C) ages over 89 aggregated to 90+
    PHONE = "phone"  # (D)
    FAX = "fax"  # (E)
    EMAIL = "email"  # (F)
    SSN = "ssn"  # (G) includes national ID numbers (身份证号)
    MEDICAL_RECORD_NUMBER = "medical_record_number"  # (H)
    HEALTH_PLAN_NUMBER = "health_plan_number"  # (I)
    ACCOUNT_NUMBER = "account_number"  # (J)
    LICENSE_NUMBER = "license_number"  # (K) certificate / license numbers
    VEHICLE_ID = "vehicle_id"  # (L)
    DEVICE_ID = "device_id"  # (M)
    URL = "url"  # (N)
    IP_ADDRESS = "ip_address"  # (O)
    BIOMETRIC = "biometric"  # (P)
    PHOTO = "photo"  # (Q)
    OTHER_UNIQUE_ID = "other_unique_id"  # (R)


NOT_AN_IDENTIFIER = "none"

_DEFAULT_OPERATORS: dict[SafeHarborIdentifier, tuple[str, dict[str, Any]]] = {
    SafeHarborIdentifier.ZIP: ("zip3", {}),
    SafeHarborIdentifier.DATES: ("date_truncate", {"unit": "year"}),
    SafeHarborIdentifier.AGE: ("top_code", {"above": 89, "label": "90+"}),
}
_REMOVAL = frozenset({ReleaseForm.REMOVED, ReleaseForm.SUPPRESSED})

# Column-name patterns, checked in order; the first match wins.
_NAME_PATTERNS: list[tuple[SafeHarborIdentifier, re.Pattern[str]]] = [
    (SafeHarborIdentifier.EMAIL, re.compile(r"e_?mail|邮箱")),
    (SafeHarborIdentifier.FAX, re.compile(r"fax|传真")),
    (SafeHarborIdentifier.PHONE, re.compile(r"phone|mobile|tel(ephone)?$|手机|电话")),
    (SafeHarborIdentifier.SSN, re.compile(r"ssn|social_?security|id_?card|national_?id|身份证")),
    (SafeHarborIdentifier.MEDICAL_RECORD_NUMBER, re.compile(r"mrn|medical_?record|病历")),
    (SafeHarborIdentifier.HEALTH_PLAN_NUMBER, re.compile(r"health_?plan|insurance_?(id|no)|医保")),
    (SafeHarborIdentifier.ACCOUNT_NUMBER, re.compile(r"account|iban|card_?(no|number)|账号")),
    (SafeHarborIdentifier.LICENSE_NUMBER, re.compile(r"licen[cs]e|certificate")),
    (SafeHarborIdentifier.VEHICLE_ID, re.compile(r"vin$|vehicle|plate|车牌")),
    (SafeHarborIdentifier.DEVICE_ID, re.compile(r"device|imei|serial|udid")),
    (SafeHarborIdentifier.URL, re.compile(r"url|website|homepage|link")),
    (SafeHarborIdentifier.IP_ADDRESS, re.compile(r"(^|_)ip(_?addr(ess)?)?$|ip_address")),
    (SafeHarborIdentifier.BIOMETRIC, re.compile(r"fingerprint|voice_?print|retina|biometric")),
    (SafeHarborIdentifier.PHOTO, re.compile(r"photo|face|portrait|image|照片")),
    (SafeHarborIdentifier.ZIP, re.compile(r"zip|postal|postcode|邮编")),
    (SafeHarborIdentifier.AGE, re.compile(r"(^|_)age($|_)|年龄")),
    (SafeHarborIdentifier.DATES, re.compile(r"date|dob|birth|(_|^)dt$|_at$|_on$|日期|生日")),
    (SafeHarborIdentifier.GEOGRAPHIC, re.compile(r"address|street|city|county|district|地址")),
    (SafeHarborIdentifier.NAMES, re.compile(r"(^|_)(first_?|last_?|full_?|sur|given_)?name$|姓名")),
    (SafeHarborIdentifier.OTHER_UNIQUE_ID, re.compile(r"(^|_)(uuid|guid|openid|unionid)$|微信")),
]


class SafeHarborError(ValueError):
    """A config or a released table does not meet the Safe Harbor rule."""


def identifier_from_name(column: str) -> SafeHarborIdentifier | None:
    """The identifier category a column name suggests, or ``None``."""
    normalised = re.sub(r"[\s\-]+", "_", column.strip().lower())
    for category, pattern in _NAME_PATTERNS:
        if pattern.search(normalised):
            return category
    return None


def resolve_identifier(column: str, declared: str | None) -> SafeHarborIdentifier | None:
    """The category for ``column``: the declared one, ``none`` = not an identifier, or by name."""
    if declared is None:
        return identifier_from_name(column)
    if declared == NOT_AN_IDENTIFIER:
        return None
    try:
        return SafeHarborIdentifier(declared)
    except ValueError:
        known = ", ".join([*(c.value for c in SafeHarborIdentifier), NOT_AN_IDENTIFIER])
        raise SafeHarborError(
            f"column {column!r}: unknown HIPAA identifier {declared!r}; known: {known}"
        ) from None


def default_operator(category: SafeHarborIdentifier, *, column: str) -> Operator:
    """The operator the profile applies when the config names none."""
    name, params = _DEFAULT_OPERATORS.get(category, ("redact", {}))
    return build_operator(name, params, column=column)


def check_operator(category: SafeHarborIdentifier, operator: Operator, *, column: str) -> None:
    """Refuse an operator that does not satisfy Safe Harbor for ``category``."""
    form = operator.effective_release_form()
    if form in _REMOVAL:
        return
    params = operator.describe()["params"]
    allowed = (
        (category is SafeHarborIdentifier.ZIP and operator.name == "zip3")
        or (
            category is SafeHarborIdentifier.DATES
            and operator.name == "date_truncate"
            and params.get("unit") == "year"
        )
        or (
            category is SafeHarborIdentifier.AGE
            and operator.name == "top_code"
            and float(params.get("above", 1e9)) <= 89
        )
    )
    if not allowed:
        default = _DEFAULT_OPERATORS.get(category, ("redact", {}))[0]
        raise SafeHarborError(
            f"column {column!r} is a Safe Harbor identifier ({category.value}); operator "
            f"{operator.name!r} leaves it {form.value}. Use {default!r} or remove the column"
        )


@dataclass(frozen=True)
class PatternFinding:
    """An identifier-shaped string found in a released column."""

    column: str
    pattern: str
    rows: int
    example: str  # the first match, cut to its first 3 characters so reports don't leak it


IDENTIFIER_PATTERNS: Mapping[str, re.Pattern[str]] = {
    "email": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "url": re.compile(r"(?i)\b(?:https?://|www\.)\S+"),
    "ipv4": re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"),
    "ipv6": re.compile(r"(?i)(?<![\w:])(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}(?![\w:])"),
    "us_phone": re.compile(r"(?<!\w)(?:\+?1[-. ]?)?\(?\d{3}\)?[-. ]\d{3}[-. ]\d{4}(?!\w)"),
    "cn_mobile": re.compile(r"(?<!\w)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\w)"),
    "ssn": re.compile(r"(?<!\w)\d{3}-\d{2}-\d{4}(?!\w)"),
    "cn_id_card": re.compile(r"(?<!\w)\d{17}[\dXx](?!\w)"),
}


def find_identifier_patterns(frame: pd.DataFrame) -> list[PatternFinding]:
    """Every (column, pattern) pair with at least one match in ``frame``'s text."""
    findings: list[PatternFinding] = []
    for column in frame.columns:
        text = frame[column].dropna().astype(str)
        if text.empty:
            continue
        for label, pattern in IDENTIFIER_PATTERNS.items():
            hits = text.str.contains(pattern, regex=True)
            if hits.any():
                match = pattern.search(str(text[hits].iloc[0]))
                example = (match.group(0) if match else "")[:3] + "…"
                findings.append(PatternFinding(str(column), label, int(hits.sum()), example))
    return findings
