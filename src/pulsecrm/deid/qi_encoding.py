"""Encode a table once into the integer form every search step works on.

Strings are looked up in the hierarchies exactly once; afterwards a quasi-
identifier is a column of leaf codes plus, per level, a code → generalised-code
array.  Identical rows are collapsed into weighted *cells* (QI codes + sensitive
codes + multiplicity) so that the search groups distinct combinations, not rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from pulsecrm.deid.grouping import combine_keys, factorize, first_index, group_sums
from pulsecrm.deid.hierarchy import Hierarchy


@dataclass(frozen=True)
class EncodedQI:
    """One quasi-identifier: leaf code per row and its hierarchy's integer views."""

    name: str
    hierarchy: Hierarchy
    row_codes: np.ndarray

    @property
    def levels(self) -> int:
        return self.hierarchy.levels

    @cached_property
    def cardinalities(self) -> list[int]:
        return [int(c.max()) + 1 for c in self.hierarchy.level_codes]

    @cached_property
    def leaf_counts(self) -> np.ndarray:
        """How many rows hold each leaf value."""
        return np.bincount(self.row_codes, minlength=len(self.hierarchy))

    def codes_at(self, level: int, leaf_codes: np.ndarray | None = None) -> np.ndarray:
        """Level-``level`` codes of the given leaf codes (default: of every row)."""
        leaves = self.row_codes if leaf_codes is None else leaf_codes
        return self.hierarchy.level_codes[level][leaves]

    @cached_property
    def _maps(self) -> dict[tuple[int, int], np.ndarray]:
        return {}

    def code_map(self, lo: int, hi: int) -> np.ndarray:
        """Level-``lo`` code → level-``hi`` code (cached)."""
        key = (lo, hi)
        maps = self._maps
        if key not in maps:
            maps[key] = self.hierarchy.code_map(lo, hi)
        return maps[key]


@dataclass(frozen=True)
class EncodedSensitive:
    """One sensitive attribute: a code per row and the value each code stands for."""

    name: str
    row_codes: np.ndarray
    labels: np.ndarray

    @cached_property
    def global_counts(self) -> np.ndarray:
        return np.bincount(self.row_codes, minlength=len(self.labels))


@dataclass(frozen=True)
class Cells:
    """Distinct (QI codes, sensitive codes) combinations with their multiplicity.

    ``columns`` has one row per QI (codes at ``levels``) followed by one row per
    sensitive attribute; ``weights`` counts the records in each cell.
    """

    levels: tuple[int, ...]
    columns: np.ndarray
    weights: np.ndarray

    @property
    def size(self) -> int:
        return int(self.weights.shape[0])


@dataclass(frozen=True)
class EncodedTable:
    """A table ready for anonymisation search."""

    qis: list[EncodedQI]
    sensitive: list[EncodedSensitive]
    n_rows: int

    @classmethod
    def encode(
        cls,
        df: pd.DataFrame,
        hierarchies: dict[str, Hierarchy],
        sensitive: list[str],
    ) -> EncodedTable:
        qis = [
            EncodedQI(column, hierarchy, hierarchy.leaf_indices(df[column]))
            for column, hierarchy in hierarchies.items()
        ]
        encoded_sensitive = []
        for column in sensitive:
            codes, labels = pd.factorize(df[column].astype(str), sort=True)
            encoded_sensitive.append(
                EncodedSensitive(column, codes.astype(np.int64), np.asarray(labels, dtype=object))
            )
        return cls(qis, encoded_sensitive, len(df))

    @property
    def dimensions(self) -> int:
        return len(self.qis)

    def cardinalities_at(self, levels: tuple[int, ...]) -> list[int]:
        """Code-space sizes of every column of a :class:`Cells` at ``levels``."""
        qi = [q.cardinalities[lvl] for q, lvl in zip(self.qis, levels, strict=True)]
        return qi + [len(s.labels) for s in self.sensitive]

    def row_columns(self, levels: tuple[int, ...]) -> list[np.ndarray]:
        """Per-row codes at ``levels`` for every QI, then every sensitive attribute."""
        qi = [q.codes_at(lvl) for q, lvl in zip(self.qis, levels, strict=True)]
        return qi + [s.row_codes for s in self.sensitive]

    @cached_property
    def base_cells(self) -> Cells:
        """Cells of the untransformed table (the root every roll-up can start from)."""
        levels = tuple(0 for _ in self.qis)
        return collapse(self.row_columns(levels), self.cardinalities_at(levels), None, levels)


def collapse(
    columns: list[np.ndarray],
    cardinalities: list[int],
    weights: np.ndarray | None,
    levels: tuple[int, ...],
) -> Cells:
    """Group identical code tuples into weighted cells."""
    ids, n_cells = factorize(combine_keys(columns, cardinalities))
    first = first_index(ids, n_cells)
    stacked = np.stack([np.asarray(c)[first] for c in columns])
    return Cells(levels, stacked, group_sums(ids, n_cells, weights))
