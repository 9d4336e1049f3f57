"""Validate one imported person row into identity and profile values.

Every rule names the column and says what is wrong, in zh-CN and en, so a
front-desk user can fix their spreadsheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.normalisers import (
    birth_date_from_id_number,
    normalise_email,
    normalise_id_number,
    normalise_phone,
)

COLUMNS = ("name", "phone", "email", "id_number", "gender", "birth_date", "city", "source")
SEARCH_FIELDS = ("phone", "email", "id_number")
IGNORE = "-"
# Headers recognised without a mapping (compared trimmed and case-folded). ``mobile`` is
# deliberately absent: the CLI contract (tests/crm/test_people_cli.py) treats it as an
# unknown column; map it explicitly with ``--map mobile=phone``.
HEADER_ALIASES: dict[str, str] = {
    **{c: c for c in COLUMNS},
    "手机号": "phone",
    "手机": "phone",
    "电话": "phone",
    "联系电话": "phone",
    "手机号码": "phone",
    "姓名": "name",
    "名字": "name",
    "邮箱": "email",
    "电子邮件": "email",
    "e-mail": "email",
    "身份证号": "id_number",
    "身份证": "id_number",
    "证件号码": "id_number",
    "身份证号码": "id_number",
    "性别": "gender",
    "出生日期": "birth_date",
    "生日": "birth_date",
    "城市": "city",
    "所在城市": "city",
    "来源": "source",
    "渠道": "source",
}
_GENDERS = {
    "男": "M",
    "m": "M",
    "male": "M",
    "男性": "M",
    "女": "F",
    "f": "F",
    "female": "F",
    "女性": "F",
    "未知": "U",
    "u": "U",
    "unknown": "U",
    "其他": "U",
    "other": "U",
}
_DATE = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


@dataclass
class PersonRow:
    line: int
    identity: dict[str, str] = field(default_factory=dict)
    profile: dict[str, str | int] = field(default_factory=dict)

    @property
    def keys(self) -> dict[str, str]:
        return {f: self.identity[f] for f in SEARCH_FIELDS if f in self.identity}


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    reason: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}


def resolve_header(header: list[str], mapping: dict[str, str] | None = None) -> list[str | None]:
    """The canonical column for each header cell (``None``: ignored).

    An explicit ``mapping`` (source header → column or ``-``) wins over the
    built-in zh/en aliases; an unknown header, a mapping to an unknown column,
    or two headers landing on one column is an error naming the header.
    """
    mapping = {k.strip(): v.strip() for k, v in (mapping or {}).items()}
    for source, wanted in mapping.items():
        if wanted != IGNORE and wanted not in COLUMNS:
            raise InvalidValue(
                source,
                f"mapped to unknown column {wanted!r}; use one of {','.join(COLUMNS)} or -",
                f"映射到未知列 {wanted!r}；应为 {','.join(COLUMNS)} 或 -",
            )
    resolved: list[str | None] = []
    taken: dict[str, str] = {}
    for cell in header:
        name = cell.strip()
        if name in mapping:
            target: str | None = mapping[name]
        else:
            target = HEADER_ALIASES.get(name.casefold())
            if target is None:
                raise InvalidValue(
                    name or "header",
                    f"unknown column; expected {','.join(COLUMNS)} (or map it with --map"
                    f" '{name}=<column>' or '{name}=-' to ignore it)",
                    f"未知列；应为 {','.join(COLUMNS)}（或用 --map '{name}=<列名>' 映射，"
                    f"'{name}=-' 忽略）",
                )
        if target == IGNORE:
            target = None
        if target is not None:
            if target in taken:
                raise InvalidValue(
                    name,
                    f"both {taken[target]!r} and {name!r} give {target}",
                    f"{taken[target]!r} 与 {name!r} 都对应 {target}",
                )
            taken[target] = name
        resolved.append(target)
    if not any(c in SEARCH_FIELDS for c in resolved):
        raise InvalidValue(
            "header", "needs phone, email or id_number", "需要手机号、邮箱或身份证号列"
        )
    return resolved


def _parse_date(text: str) -> date:
    match = _DATE.match(text)
    if not match:
        raise InvalidValue("birth_date", "use YYYY-MM-DD", "日期格式应为 YYYY-MM-DD")
    try:
        value = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise InvalidValue("birth_date", "not a real date", "不是有效日期") from None
    if value > date.today() or value.year < 1880:
        raise InvalidValue("birth_date", "out of range", "日期超出范围")
    return value


def parse_person_row(line: int, raw: dict[str, str | None], locale: str) -> PersonRow | RowError:
    """Validate one CSV row; return the clean row or the first error found."""
    clean = {k: (v or "").strip() for k, v in raw.items()}
    row = PersonRow(line)
    try:
        if clean.get("name"):
            if len(clean["name"]) > 100:
                raise InvalidValue("name", "at most 100 characters", "不超过100个字符")
            row.identity["name"] = clean["name"]
        if clean.get("phone"):
            row.identity["phone"] = normalise_phone(clean["phone"])
        if clean.get("email"):
            row.identity["email"] = normalise_email(clean["email"])
        born: date | None = None
        if clean.get("id_number"):
            row.identity["id_number"] = normalise_id_number(clean["id_number"])
            born = birth_date_from_id_number(row.identity["id_number"])
        if clean.get("birth_date"):
            given = _parse_date(clean["birth_date"])
            if born is not None and given != born:
                raise InvalidValue(
                    "birth_date",
                    "does not match the birth date in id_number",
                    "与身份证号中的出生日期不一致",
                )
            born = given
        if born is not None:
            row.identity["birth_date"] = born.isoformat()
            row.profile["birth_year"] = born.year
        if clean.get("gender"):
            gender = _GENDERS.get(clean["gender"].lower())
            if gender is None:
                raise InvalidValue("gender", "use 男/女/未知 or M/F/U", "应为 男/女/未知 或 M/F/U")
            row.profile["gender"] = gender
        if clean.get("city"):
            row.profile["city"] = clean["city"][:64]
        if clean.get("source"):
            row.profile["source_channel"] = clean["source"][:64]
        if not row.keys:
            raise InvalidValue(
                "phone",
                "a row needs at least one of phone, email or id_number",
                "每行至少需要手机号、邮箱或身份证号之一",
            )
    except InvalidValue as exc:
        return RowError(line, exc.field, exc.message(locale))
    return row
