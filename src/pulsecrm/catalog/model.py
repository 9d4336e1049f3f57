"""Typed view of the catalog: fields, purposes and roles.

The YAML is the source of truth; these pydantic models are what the rest of
the code reads, so a typo in the YAML fails at load instead of at a read.
"""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

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

    _table: str | None = PrivateAttr(default=None)
    _column: str | None = PrivateAttr(default=None)

    def model_post_init(self, __context: object) -> None:
        # Resolved once: the vault asks for table and column on every value it seals.
        if self.stored_in:
            self._table, self._column = self.stored_in.split(".")

    @property
    def sensitive(self) -> bool:
        return self.pi_class is PIClass.SENSITIVE

    @property
    def table(self) -> str | None:
        return self._table

    @property
    def column(self) -> str | None:
        return self._column


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
