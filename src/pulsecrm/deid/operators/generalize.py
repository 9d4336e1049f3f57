"""``generalize``: apply a generalisation hierarchy at a fixed level.

For columns that are not quasi-identifiers but still too precise to release
(a diagnosis code cut to its chapter, a district to its city). Quasi-
identifiers are *not* generalised here: the anonymisation engine chooses their
levels so that k-anonymity holds with the least information loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Protocol

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


class GeneralisationHierarchy(Protocol):
    """The part of ``pulsecrm.deid.hierarchy.Hierarchy`` this operator relies on."""

    name: str
    levels: int

    def generalize(self, values: np.ndarray, level: int) -> np.ndarray: ...

    def missing_values(self, values: np.ndarray) -> list[str]: ...


@register_operator
@dataclass(frozen=True)
class Generalize(Operator):
    """Replace each value by its ancestor ``level`` steps up ``hierarchy``."""

    name: ClassVar[str] = "generalize"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.GENERALISED

    hierarchy: GeneralisationHierarchy
    level: int = 1

    def __post_init__(self) -> None:
        if not 0 <= self.level < self.hierarchy.levels:
            raise ValueError(
                f"level {self.level} outside hierarchy {self.hierarchy.name!r} "
                f"(levels 0..{self.hierarchy.levels - 1})"
            )

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        text = as_text(values)
        present = text.notna().to_numpy()
        raw = text[present].to_numpy(dtype=object)
        missing = self.hierarchy.missing_values(raw)
        if missing:
            shown = ", ".join(repr(v) for v in missing[:5])
            raise OperatorError(
                f"column {column!r}: hierarchy {self.hierarchy.name!r} has no entry for "
                f"{shown}{' …' if len(missing) > 5 else ''} ({len(missing)} value(s))"
            )
        out = np.full(len(text), None, dtype=object)
        out[present] = self.hierarchy.generalize(raw, self.level)
        return Applied(values=pd.Series(out, index=values.index, name=column, dtype=object))
