"""``redact``: remove a directly identifying column, or blank it with a token."""

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


@register_operator
@dataclass(frozen=True)
class Redact(Operator):
    """Drop the column (``mode: drop``, the default) or replace every cell by ``token``.

    Keeping the column with a token is for recipients whose schema expects the
    column to exist; either way nothing of the value survives.
    """

    name: ClassVar[str] = "redact"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.REMOVED

    mode: Literal["drop", "token"] = "drop"
    token: str = "[REDACTED]"

    def __post_init__(self) -> None:
        if self.mode not in ("drop", "token"):
            raise ValueError(f"mode must be 'drop' or 'token', got {self.mode!r}")

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        if self.mode == "drop":
            return Applied(values=None)
        return Applied(values=pd.Series(self.token, index=values.index, name=column, dtype=object))
