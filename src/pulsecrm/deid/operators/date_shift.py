"""``date_shift``: move every date of a person by the same secret number of days.

The offset comes from HMAC(recipient key, person id), so it is

* the same for every row of one person — intervals (admission → discharge,
  first visit → deal) are preserved exactly, which is what analysts need;
* different between people — calendar dates no longer match outside records;
* different between recipients — two extracts cannot be aligned;
* reproducible — rerunning the export gives the same output.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from pulsecrm.deid.operators.base import (
    Applied,
    Operator,
    OperatorContext,
    OperatorError,
    ReleaseForm,
    as_text,
    map_unique,
    register_operator,
)
from pulsecrm.deid.operators.pseudonym import derive_subkey


def person_offset_days(key: bytes, person_id: str, max_days: int) -> int:
    """The shift for one person: uniform over ``-max_days..-1, 1..max_days``.

    Zero is excluded so that no person's real dates are released by chance.
    Taking a 64-bit HMAC prefix modulo a range of a few thousand leaves a
    negligible modulo bias.
    """
    digest = hmac.new(key, person_id.encode(), hashlib.sha256).digest()
    draw = int.from_bytes(digest[:8], "big") % (2 * max_days)
    return draw - max_days if draw < max_days else draw - max_days + 1


@register_operator
@dataclass(frozen=True)
class DateShift(Operator):
    """Shift dates by a per-person keyed offset within ±``max_days``.

    ``person_column`` names the column identifying the person (it is read from
    the input before any operator ran, so it may itself be pseudonymised or
    removed). Text dates are written back as ISO dates (``YYYY-MM-DD``), or
    with the time when the input had one; datetime columns stay datetimes.
    """

    name: ClassVar[str] = "date_shift"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.TRANSFORMED
    needs_recipient_key: ClassVar[bool] = True

    person_column: str
    max_days: int = 180

    def __post_init__(self) -> None:
        if self.max_days < 1:
            raise ValueError(f"max_days must be >= 1, got {self.max_days}")

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        if context.recipient_key is None:
            raise OperatorError(
                f"column {column!r}: operator 'date_shift' needs a recipient key "
                "(set recipient.key_env or recipient.key_file in the config)"
            )
        if self.person_column not in context.frame.columns:
            raise OperatorError(
                f"column {column!r}: date_shift person_column {self.person_column!r} "
                "is not in the input"
            )
        key = derive_subkey(context.recipient_key, "date_shift")
        dates = parse_dates(column, values)
        people = as_text(context.frame[self.person_column].loc[values.index])

        def offset(person: Any) -> int:
            return person_offset_days(key, str(person), self.max_days)

        offsets = map_unique(people, offset)
        if offsets.isna().any() and dates[offsets.isna()].notna().any():
            raise OperatorError(
                f"column {column!r}: date_shift needs a person id, but "
                f"{self.person_column!r} is empty on rows that have a date"
            )
        shift = pd.to_timedelta(offsets.fillna(0).astype(np.int64), unit="D")
        shifted = dates + shift.to_numpy()
        if pd.api.types.is_datetime64_any_dtype(values):
            return Applied(values=shifted.rename(column))
        has_time = bool((dates.dropna().dt.normalize() != dates.dropna()).any())
        text = shifted.dt.strftime("%Y-%m-%d %H:%M:%S" if has_time else "%Y-%m-%d")
        return Applied(values=text.astype(object).where(shifted.notna(), None).rename(column))


def parse_dates(column: str, values: pd.Series) -> pd.Series:
    """``values`` as datetimes, or an :class:`OperatorError` naming a bad value."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values
    parsed = pd.to_datetime(values, errors="coerce", format="mixed")
    bad = parsed.isna() & values.notna() & (as_text(values).fillna("").str.strip() != "")
    if bad.any():
        first = values[bad].iloc[0]
        raise OperatorError(f"column {column!r}: {first!r} is not a date")
    return parsed
