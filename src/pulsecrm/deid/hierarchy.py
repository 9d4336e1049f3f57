"""Generalisation hierarchies: the value → coarser value tables that drive recoding.

A hierarchy is a rectangular table of strings: column 0 holds every original
value of one quasi-identifier, column ``i`` what that value becomes at
generalisation level ``i``.  The last column is normally ``*`` (the value fully
suppressed).  This is exactly ARX's CSV hierarchy format, so hierarchies built in
the ARX GUI can be reused unchanged and our utility figures are comparable with
ARX's.

Everything the search needs is derived once, here, as integer arrays (codes per
level, code maps between levels, domain shares) so that the hot path never
touches strings.

Builders for the common shapes (intervals, dates, masked codes, PRC
administrative regions) live in :mod:`pulsecrm.deid.hierarchy_builders` and are
re-exported from this module.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "Hierarchy",
    "HierarchyError",
    "china_region_hierarchy",
    "date_hierarchy",
    "interval_hierarchy",
    "masking_hierarchy",
]

_MAX_NAMED_MISSING = 10


class HierarchyError(ValueError):
    """A hierarchy is malformed or does not cover a value it is asked to generalise."""


def _as_strings(values: pd.Series | np.ndarray | Iterable[object]) -> np.ndarray:
    """Normalise input values to an object array of ``str`` (how hierarchies store them)."""
    if isinstance(values, pd.Series):
        arr = values.to_numpy()
    else:
        arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values)
    if arr.dtype.kind in "US" or arr.dtype == object:
        return np.array([v if isinstance(v, str) else str(v) for v in arr], dtype=object)
    return arr.astype(str).astype(object)


class Hierarchy:
    """A value → generalisation table for one attribute; level 0 is the original value."""

    def __init__(self, name: str, table: np.ndarray) -> None:
        if table.ndim != 2 or table.shape[0] == 0 or table.shape[1] == 0:
            raise HierarchyError(f"hierarchy {name!r} is empty")
        self.name = name
        self._table = table.astype(object)
        leaves = pd.Index(self._table[:, 0])
        if not leaves.is_unique:
            dupes = sorted(set(leaves[leaves.duplicated()].tolist()))[:_MAX_NAMED_MISSING]
            raise HierarchyError(f"hierarchy {name!r} lists values more than once: {dupes}")
        self._index = leaves

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_rows(cls, name: str, rows: Sequence[Sequence[str]]) -> Hierarchy:
        """Build from rows ``[value, level1, level2, ...]``; rows must all have the same length."""
        if not rows:
            raise HierarchyError(f"hierarchy {name!r} has no rows")
        width = len(rows[0])
        for i, row in enumerate(rows):
            if len(row) != width:
                raise HierarchyError(
                    f"hierarchy {name!r}: row {i} ({row[0] if row else ''!r}) has {len(row)} "
                    f"columns, expected {width}"
                )
        table = np.empty((len(rows), width), dtype=object)
        for i, row in enumerate(rows):
            table[i, :] = [str(v) for v in row]
        return cls(name, table)

    @classmethod
    def from_arx_csv(cls, path: Path | str, name: str | None = None, sep: str = ";") -> Hierarchy:
        """Load an ARX hierarchy CSV: no header, column 0 the value, then one column per level."""
        path = Path(path)
        if name is None:
            stem = path.stem
            name = stem.split("_hierarchy_", 1)[1] if "_hierarchy_" in stem else stem
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [row for row in csv.reader(fh, delimiter=sep) if row]
        return cls.from_rows(name, rows)

    # ------------------------------------------------------------------ queries
    @property
    def levels(self) -> int:
        """Number of levels including level 0 (the original values)."""
        return int(self._table.shape[1])

    @property
    def values(self) -> list[str]:
        """The original (leaf) values this hierarchy covers, in file order."""
        return [str(v) for v in self._table[:, 0]]

    def __len__(self) -> int:
        return int(self._table.shape[0])

    def __repr__(self) -> str:
        return f"Hierarchy({self.name!r}, values={len(self)}, levels={self.levels})"

    def to_rows(self) -> list[list[str]]:
        """The table as rows of strings (round-trips through :meth:`from_rows`)."""
        return [[str(v) for v in row] for row in self._table]

    def _lookup(
        self, values: pd.Series | np.ndarray | Iterable[object]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row index per distinct value, code of each input value, the distinct values).

        Values are factorised first so strings are converted and looked up once per
        distinct value, not once per row.
        """
        if not isinstance(values, pd.Series | np.ndarray):
            values = np.asarray(list(values), dtype=object)
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        distinct = _as_strings(np.asarray(uniques, dtype=object))
        return self._index.get_indexer(distinct), codes, distinct

    def missing_values(self, values: Iterable[str]) -> list[str]:
        """Distinct values (in first-seen order) that the hierarchy does not cover."""
        rows, _, distinct = self._lookup(values)
        return [str(v) for v in distinct[rows < 0]]

    def leaf_indices(self, values: pd.Series | np.ndarray | Iterable[object]) -> np.ndarray:
        """Row index of each value in the table; raises naming the uncovered values."""
        rows, codes, distinct = self._lookup(values)
        if (rows < 0).any():
            missing = [str(v) for v in distinct[rows < 0]]
            shown = ", ".join(repr(v) for v in missing[:_MAX_NAMED_MISSING])
            more = f" and {len(missing) - _MAX_NAMED_MISSING} more" if len(missing) > 10 else ""
            raise HierarchyError(f"hierarchy {self.name!r} has no entry for value(s) {shown}{more}")
        return rows.astype(np.int64)[codes]

    def generalize(self, values: pd.Series | np.ndarray, level: int) -> np.ndarray:
        """Vectorised recoding of ``values`` to ``level`` (0 returns the values as strings)."""
        self._check_level(level)
        return self._table[self.leaf_indices(values), level]

    def _check_level(self, level: int) -> None:
        if not 0 <= level < self.levels:
            raise HierarchyError(
                f"hierarchy {self.name!r} has levels 0..{self.levels - 1}, not {level}"
            )

    # ------------------------------------------------------------------ integer views
    @cached_property
    def level_codes(self) -> list[np.ndarray]:
        """Per level, an int code for each table row (equal codes = same generalised value)."""
        return [pd.factorize(self._table[:, lvl])[0].astype(np.int64) for lvl in range(self.levels)]

    @cached_property
    def level_labels(self) -> list[np.ndarray]:
        """Per level, the label of each code from :attr:`level_codes`."""
        return [np.asarray(pd.factorize(self._table[:, lvl])[1]) for lvl in range(self.levels)]

    def label(self, level: int, code: int) -> str:
        """The generalised string that ``code`` stands for at ``level``."""
        return str(self.level_labels[level][code])

    @cached_property
    def domain_shares(self) -> list[np.ndarray]:
        """Per level and code, the fraction of the hierarchy's values the code covers.

        This is ARX's ``DomainShareMaterialized``: the share of a generalised value
        is the number of leaf rows mapped to it divided by the number of rows in
        the hierarchy (all rows, not only the values occurring in the data).
        """
        size = float(len(self))
        return [np.bincount(codes) / size for codes in self.level_codes]

    @cached_property
    def is_functional(self) -> bool:
        """True if every value at a level maps to exactly one value at each higher level.

        Roll-up (computing a node's classes from a lower node's classes) is only
        sound for such hierarchies; every ARX hierarchy we know of is functional.
        """
        codes = self.level_codes
        for lo in range(self.levels - 1):
            for hi in range(lo + 1, self.levels):
                pairs = pd.MultiIndex.from_arrays([codes[lo], codes[hi]]).unique()
                if len(pairs) != codes[lo].max() + 1:
                    return False
        return True

    def code_map(self, lo: int, hi: int) -> np.ndarray:
        """Array mapping a level-``lo`` code to its level-``hi`` code (needs a functional table)."""
        codes = self.level_codes
        out = np.empty(int(codes[lo].max()) + 1, dtype=np.int64)
        out[codes[lo]] = codes[hi]
        return out

    def suppressed_label(self) -> str:
        """The label of the top level when it is a single value (usually ``*``)."""
        top = self.level_labels[-1]
        return str(top[0]) if len(top) == 1 else "*"


from pulsecrm.deid.hierarchy_builders import (  # noqa: E402  (re-export after Hierarchy exists)
    china_region_hierarchy,
    date_hierarchy,
    interval_hierarchy,
    masking_hierarchy,
)
