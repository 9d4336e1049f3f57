"""``{"filter": "gender", "is": "F"}`` — M, F or U (男/女/未知 and male/female accepted)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from sqlalchemy import ColumnElement

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import profile

_ALIASES = {"男": "M", "male": "M", "女": "F", "female": "F", "未知": "U", "unknown": "U"}
# stored as the code; rows imported before normalisation may hold the Chinese word
_STORED = {"M": ("M", "男"), "F": ("F", "女"), "U": ("U", "未知")}


class GenderParams(Params):
    value: Literal["M", "F", "U"] = Field(alias="is")

    @field_validator("value", mode="before")
    @classmethod
    def _alias(cls, value: object) -> object:
        if isinstance(value, str):
            return _ALIASES.get(value.strip().lower(), value.strip().upper())
        return value


@register("gender", GenderParams, description="profile gender (M, F or U)")
def compile_gender(params: GenderParams, ctx: CompileContext) -> ColumnElement[bool]:
    return profile.c.gender.in_(_STORED[params.value])
