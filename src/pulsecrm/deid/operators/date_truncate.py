"""``date_truncate``: keep only the year (or year-month) of a date.

HIPAA Safe Harbor allows the year of a date and nothing finer; this is the
operator the profile uses for birth, admission, discharge and death dates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import pandas as pd

from pulsecrm.deid.operators.base import (
    Applied,
    Operator,
    OperatorContext,
    ReleaseForm,
    register_operator,
)
from pulsecrm.deid.operators.date_shift import parse_dates

_FORMATS = {"year": "%Y", "month": "%Y-%m"}


@register_operator
@dataclass(frozen=True)
class DateTruncate(Operator):
    """Replace each date by its ``unit`` (``year`` → ``"2023"``, ``month`` → ``"2023-04"``)."""

    name: ClassVar[str] = "date_truncate"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.GENERALISED

    unit: Literal["year", "month"] = "year"

    def __post_init__(self) -> None:
        if self.unit not in _FORMATS:
            raise ValueError(f"unit must be 'year' or 'month', got {self.unit!r}")

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        dates = parse_dates(column, values)
        text = dates.dt.strftime(_FORMATS[self.unit]).astype(object).where(dates.notna(), None)
        return Applied(values=text.rename(column))
