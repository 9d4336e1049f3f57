"""``top_code`` / ``bottom_code``: collapse the rare extremes of a number.

Very old ages (HIPAA: over 89) and extreme incomes single people out; the
tails are replaced by one label ("90+") and the rest is kept exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from pulsecrm.deid.operators.base import (
    Applied,
    Operator,
    OperatorContext,
    OperatorError,
    ReleaseForm,
    as_text,
    register_operator,
)


def _numbers(column: str, values: pd.Series) -> pd.Series:
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna() & (as_text(values).fillna("").str.strip() != "")
    if bad.any():
        raise OperatorError(f"column {column!r}: {values[bad].iloc[0]!r} is not a number")
    return numbers


def _coded(column: str, values: pd.Series, hit: np.ndarray, label: str) -> Applied:
    """Text column: the label where ``hit``, the original value elsewhere.

    The whole column becomes text because a column mixing numbers and a label
    cannot be written to Parquet, and a consumer must not see two types.
    """
    text = as_text(values)
    out = np.where(hit, label, text.to_numpy(dtype=object))
    return Applied(values=pd.Series(out, index=values.index, name=column, dtype=object))


@register_operator
@dataclass(frozen=True)
class TopCode(Operator):
    """Values strictly greater than ``above`` become ``label`` (default ``f"{above+1}+"``)."""

    name: ClassVar[str] = "top_code"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.GENERALISED

    above: float
    label: str | None = None

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        numbers = _numbers(column, values)
        label = self.label or f"{int(self.above) + 1}+"
        return _coded(column, values, (numbers > self.above).fillna(False).to_numpy(), label)


@register_operator
@dataclass(frozen=True)
class BottomCode(Operator):
    """Values strictly less than ``below`` become ``label`` (default ``f"<{below}"``)."""

    name: ClassVar[str] = "bottom_code"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.GENERALISED

    below: float
    label: str | None = None

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        numbers = _numbers(column, values)
        label = self.label or f"<{self.below:g}"
        return _coded(column, values, (numbers < self.below).fillna(False).to_numpy(), label)
