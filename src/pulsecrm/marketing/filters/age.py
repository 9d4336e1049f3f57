"""``{"filter": "age", "min": 25, "max": 40}`` — an age band from the birth year only.

Age is "this year minus the birth year" (the age reached this year); the
encrypted birth date is never decrypted for a segment.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field, model_validator
from sqlalchemy import ColumnElement, and_

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import profile


class AgeParams(Params):
    min: int | None = Field(default=None, ge=0, le=130)
    max: int | None = Field(default=None, ge=0, le=130)

    @model_validator(mode="after")
    def _band(self) -> AgeParams:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


@register("age", AgeParams, description="age band (years, from the birth year)")
def compile_age(params: AgeParams, ctx: CompileContext) -> ColumnElement[bool]:
    year = datetime.fromtimestamp(ctx.now_us / 1_000_000, UTC).year
    parts: list[ColumnElement[bool]] = [profile.c.birth_year.is_not(None)]
    if params.min is not None:
        parts.append(profile.c.birth_year <= year - params.min)
    if params.max is not None:
        parts.append(profile.c.birth_year >= year - params.max)
    return and_(*parts)
