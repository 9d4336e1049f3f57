"""``suppress``: replace cells with ``*``, or drop the rows that hold them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd

from pulsecrm.deid.operators.base import (
    Applied,
    Operator,
    OperatorContext,
    ReleaseForm,
    as_text,
    register_operator,
)


@register_operator
@dataclass(frozen=True)
class Suppress(Operator):
    """Suppress every cell (``values`` unset) or only cells equal to one of ``values``.

    With ``drop_rows: true`` the matching rows are removed from the release
    instead (for outliers whose mere presence identifies them). Suppressing a
    whole column keeps it in the schema as ``*``; use ``redact`` to drop it.
    """

    name: ClassVar[str] = "suppress"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.SUPPRESSED

    values: list[str] | None = None
    token: str = "*"
    drop_rows: bool = False

    def effective_release_form(self) -> ReleaseForm:
        """Suppressing only some values releases the others unchanged."""
        return ReleaseForm.SUPPRESSED if self.values is None else ReleaseForm.ORIGINAL

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        text = as_text(values)
        if self.values is None:
            hit = np.ones(len(values), dtype=bool)
        else:
            hit = text.isin([str(v) for v in self.values]).to_numpy()
        if self.drop_rows:
            kept = np.where(hit, self.token, text.to_numpy(dtype=object))
            return Applied(
                values=pd.Series(kept, index=values.index, name=column, dtype=object),
                drop_rows=hit,
            )
        out = np.where(hit, self.token, text.to_numpy(dtype=object))
        return Applied(values=pd.Series(out, index=values.index, name=column, dtype=object))
