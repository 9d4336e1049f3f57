"""``zip3``: US ZIP code cut to its first three digits, "000" for small areas.

45 CFR 164.514(b)(2)(i)(B) allows the initial three digits of a ZIP code only
where the geographic unit formed by all ZIP codes with those three digits
holds more than 20 000 people; otherwise they must become 000. The prefixes
below are the ones HHS lists as at or under 20 000 (2000 Census, HHS
de-identification guidance, section 3.3). Refresh the list when HHS does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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

RESTRICTED_ZIP3: frozenset[str] = frozenset(
    {
        "036", "059", "102", "203", "205", "369", "556", "692", "753",
        "772", "821", "823", "878", "879", "884", "890", "893",
    }
)  # fmt: skip


@register_operator
@dataclass(frozen=True)
class Zip3(Operator):
    """Keep the first three digits of a ZIP (or ZIP+4); restricted prefixes → ``000``."""

    name: ClassVar[str] = "zip3"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.GENERALISED

    restricted: list[str] = field(default_factory=lambda: sorted(RESTRICTED_ZIP3))

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        text = as_text(values)
        present = text.notna()
        digits = text.fillna("").str.strip().str.replace(r"-\d{4}$", "", regex=True)
        # ZIPs read as numbers lose leading zeros ("02134" -> 2134): pad back to five.
        digits = digits.str.zfill(5)
        bad = present & ~digits.str.fullmatch(r"\d{5}")
        if bad.any():
            raise OperatorError(f"column {column!r}: {values[bad].iloc[0]!r} is not a US ZIP code")
        prefix = digits.str.slice(0, 3)
        out = np.where(prefix.isin(self.restricted), "000", prefix.to_numpy(dtype=object))
        out = out.astype(object)
        out[~present.to_numpy()] = None
        return Applied(values=pd.Series(out, index=values.index, name=column, dtype=object))
