"""Normalise searchable identifiers so that every real spelling finds the same person.

A blind index only matches byte-equal input, so each searchable field is first
brought to one canonical form: phones to E.164, e-mail trimmed and lower-cased,
PRC resident ID numbers upper-cased and checked. Values that are not what the
field says they are raise :class:`InvalidValue` naming the field and the rule.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from operator import mul

import phonenumbers

from pulsecrm.kernel.errors import InvalidValue

_FULLWIDTH = str.maketrans("０１２３４５６７８９＋（）－　", "0123456789+()- ")
_PHONE_NOISE = re.compile(r"[\s\-().·/]")
# Mainland mobile numbers are by far the common case; phonenumbers costs ~20 µs
# a parse, so they take an equivalent regex path (tests check both agree).
_CN_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_OPENID = re.compile(r"^[A-Za-z0-9_-]{6,64}$")
_ID18 = re.compile(r"^\d{17}[\dX]$")
_ID15 = re.compile(r"^\d{15}$")


def normalise_phone(raw: str, default_region: str = "CN") -> str:
    """Return E.164 (``+8613812345678``) for any real spelling of a phone number."""
    text = raw.translate(_FULLWIDTH).strip()
    compact = _PHONE_NOISE.sub("", text)
    fast = _CN_MOBILE.match(compact)
    if fast:
        return "+86" + fast.group(1)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    try:
        parsed = phonenumbers.parse(compact, default_region)
    except phonenumbers.NumberParseException:
        raise InvalidValue("phone", "not a phone number", "不是有效的电话号码") from None
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue("phone", "not a valid phone number", "不是有效的电话号码") from None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    value = raw.strip().lower()
    if not _EMAIL.match(value) or len(value) > 254:
        raise InvalidValue("email", "not an e-mail address", "不是有效的电子邮箱地址")
    return value


_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def _check_digit(body: str) -> str:
    """ISO 7064 MOD 11-2 as GB 11643 applies it (tests compare with python-stdnum)."""
    return _CHECK[sum(map(mul, map(int, body), _WEIGHTS)) % 11]


def normalise_id_number(raw: str) -> str:
    """Check a PRC resident ID number (居民身份证号码) and return its 18-character form.

    Structure, birth date and the ISO 7064 MOD 11-2 check digit are verified.
    Region codes are *not* checked against a list: codes retired after a
    district merger stay valid on cards issued before it. A 15-digit
    first-generation number is upgraded to 18 characters (century 19, check digit
    computed) so both spellings of one person's number index alike.
    """
    value = raw.translate(_FULLWIDTH).strip().replace(" ", "").upper()
    if _ID15.match(value):
        body = value[:6] + "19" + value[6:]
        value = body + _check_digit(body)
    if not _ID18.match(value):
        raise InvalidValue(
            "id_number",
            "must be 18 characters: 17 digits and a digit or X",
            "应为18位：17位数字加1位数字或X",
        )
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise InvalidValue("id_number", "birth date is not a real date", "出生日期无效") from None
    if born.year < 1880 or born > date.today():
        raise InvalidValue("id_number", "birth date out of range", "出生日期超出范围")
    if _check_digit(value[:17]) != value[17]:
        raise InvalidValue("id_number", "check digit does not match", "校验码不正确")
    return value


def normalise_openid(raw: str) -> str:
    value = raw.strip()
    if not _OPENID.match(value):
        raise InvalidValue(
            "wechat_openid", "must be 6–64 letters, digits, _ or -", "应为6-64位字母、数字、_或-"
        )
    return value


NORMALISERS: dict[str, Callable[[str], str]] = {
    "phone": normalise_phone,
    "email": normalise_email,
    "id_number": normalise_id_number,
    "openid": normalise_openid,
}


def birth_date_from_id_number(normalised: str) -> date:
    return date(int(normalised[6:10]), int(normalised[10:12]), int(normalised[12:14]))
