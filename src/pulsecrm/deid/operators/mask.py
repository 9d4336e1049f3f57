"""``mask``: keep the first/last characters of a value, e.g. ``138****5678``."""

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
class Mask(Operator):
    """Replace the middle of each value with ``mask_char``.

    A value too short to hide anything (length ≤ ``keep_first + keep_last``) is
    masked completely: revealing a whole short value because its ends were
    "kept" would defeat the operator. The mask length follows the value length
    so the output keeps its shape (a masked phone still looks like a phone).
    """

    name: ClassVar[str] = "mask"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.TRANSFORMED

    keep_first: int = 0
    keep_last: int = 0
    mask_char: str = "*"

    def __post_init__(self) -> None:
        if self.keep_first < 0 or self.keep_last < 0:
            raise ValueError("keep_first and keep_last must be >= 0")
        if len(self.mask_char) != 1:
            raise ValueError(f"mask_char must be one character, got {self.mask_char!r}")

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        text = as_text(values)
        present = text.notna().to_numpy()
        strings = text.fillna("").astype(str)
        lengths = strings.str.len().to_numpy()
        too_short = lengths <= self.keep_first + self.keep_last
        head = strings.str.slice(0, self.keep_first).to_numpy(dtype=object)
        tail = (
            strings.str.slice(-self.keep_last).to_numpy(dtype=object)
            if self.keep_last
            else np.full(len(strings), "", dtype=object)
        )
        hidden = np.maximum(lengths - self.keep_first - self.keep_last, 0)
        middle = np.char.multiply(self.mask_char, hidden)
        masked = head + middle.astype(object) + tail
        fully = np.char.multiply(self.mask_char, lengths).astype(object)
        out = np.where(too_short, fully, masked).astype(object)
        out[~present] = None
        return Applied(values=pd.Series(out, index=values.index, name=column, dtype=object))
