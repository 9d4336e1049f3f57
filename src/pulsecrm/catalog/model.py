"""Typed view of the catalog: fields, purposes and roles.

The YAML is the source of truth; these pydantic models are what the rest of
the code reads, so a typo in the YAML fails at load instead of at a read.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LOCALES = ("zh-CN", "en")
_RETENTION = re.compile(r"^P(\d+)([DMY])$")


class Category(StrEnum):
    IDENTIFIER = "identifier"
    CONTACT = "contact"
    DEMOGRAPHIC = "demographic"
    HEALTH = "health"
    BEHAVIOURAL = "behavioural"


class PIClass(StrEnum):
    PI = "PI"
    SENSITIVE = "sensitive"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"


class Normaliser(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    OPENID = "openid"


class Mask(StrEnum):
    NAME = "name"
    PHONE = "phone"
    EMAIL = "email"
    ID_NUMBER = "id_number"
    TOKEN = "token"
    ADDRESS = "address"
    DATE = "date"
    REDACTED = "redacted"
    NONE = "none"


class Localized(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    zh_cn: str = Field(alias="zh-CN", min_length=1)
    en: str = Field(min_length=1)

    def get(self, locale: str) -> str:
        return self.en if locale.lower().startswith("en") else self.zh_cn


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    category: Category
    pi_class: PIClass
    level: int = Field(ge=1, le=5)
    encrypted: bool
    searchable: Normaliser | None = None
    mask: Mask
    purposes: tuple[str, ...] = Field(min_length=1)
    retention: str
    stored_in: str | None = None

    @field_validator("retention")
    @classmethod
    def _retention_is_a_period(cls, value: str) -> str:
        if not _RETENTION.match(value):
            raise ValueError("must be an ISO-8601 period such as P3Y, P6M or P30D")
        return value

    @field_validator("stored_in")
    @classmethod
    def _stored_in_is_table_column(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", value):
            raise ValueError("must be 'table.column'")
        return value

    # Derived from ``stored_in`` (never read from YAML): plain fields, because
    # the vault asks for them on every value it seals and properties on a
    # pydantic model cost a microsecond or two each.
    table: str | None = None
    column: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _split_stored_in(cls, data: Any) -> Any:
        if isinstance(data, dict):
            data = {k: v for k, v in data.items() if k not in ("table", "column")}
            stored = data.get("stored_in")
            if isinstance(stored, str) and stored.count(".") == 1:
                data["table"], data["column"] = stored.split(".")
        return data

    @property
    def sensitive(self) -> bool:
        return self.pi_class is PIClass.SENSITIVE


class PurposeSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: Localized
    description: Localized
    legal_basis: LegalBasis
    separate_consent: bool
    channels: tuple[str, ...] = ()

    @property
    def needs_consent(self) -> bool:
        return self.legal_basis is LegalBasis.CONSENT


class Grant(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    categories: tuple[Category, ...] = Field(min_length=1)
    purposes: tuple[str, ...] = Field(min_length=1)
    reveal: bool = False


class RoleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: Localized
    reads_personal_data: bool
    grants: tuple[Grant, ...] = ()
