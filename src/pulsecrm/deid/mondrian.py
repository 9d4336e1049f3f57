"""Mondrian: multidimensional local recoding for tables too large for a lattice search.

LeFevre, DeWitt & Ramakrishnan (2006), strict partitioning: recursively split the
records at the median of the quasi-identifier with the widest normalised range,
as long as both halves still satisfy every privacy model.  Each final partition
becomes one equivalence class.

Every QI needs a hierarchy, which fixes both the order Mondrian cuts along and
how a partition is written out:

* *numeric* QIs (e.g. age) are ordered by value and released as the partition's
  range ``"lo-hi"`` (or the single value);
* *categorical* QIs (diagnosis, region, sex) are ordered so that each subtree of
  the hierarchy is contiguous, and released as the lowest common ancestor of the
  partition's values — so a partition of ``440106`` and ``440104`` reads
  ``440100``, never an arbitrary range of codes.

A QI is numeric when every hierarchy value parses as a number and the values are
not fixed-width codes (ages yes; zip codes and region codes no), unless the
caller says otherwise.

Only rows are split, never suppressed: Mondrian ignores the suppression limit.
The work per level of recursion is vectorised numpy on the rows of each
partition, so the cost is ``O(n log n)`` array work plus a small constant per
partition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.privacy_models import (
    ClassView,
    KAnonymity,
    PrivacyModel,
    SensitiveCells,
    classes_ok,
)
from pulsecrm.deid.qi_encoding import EncodedTable


def looks_numeric(hierarchy: Hierarchy) -> bool:
    """Numbers of varying width (ages, counts), as opposed to fixed-width codes."""
    values = hierarchy.values
    try:
        [float(v) for v in values]
    except ValueError:
        return False
    widths = {len(v) for v in values}
    return not (len(widths) == 1 and next(iter(widths)) >= 4)


@dataclass(frozen=True)
class OrderedQI:
    """A QI as Mondrian sees it: a rank per hierarchy leaf and the inverse order."""

    name: str
    hierarchy: Hierarchy
    numeric: bool
    rank_of_leaf: np.ndarray
    leaf_of_rank: np.ndarray

    @classmethod
    def build(cls, name: str, hierarchy: Hierarchy, numeric: bool) -> OrderedQI:
        if numeric:
            keys = np.array([float(v) for v in hierarchy.values])
            order = np.argsort(keys, kind="stable")
        else:
            codes = hierarchy.level_codes
            order = np.lexsort(tuple(codes))  # top level is the primary key
        rank = np.empty(len(order), dtype=np.int64)
        rank[order] = np.arange(len(order))
        return cls(name, hierarchy, numeric, rank, order)


@dataclass(frozen=True)
class MondrianPartitions:
    """Final partitions: the partition of every row and each partition's rank box."""

    partition_of_row: np.ndarray
    low: np.ndarray  # partitions × QIs, smallest rank
    high: np.ndarray  # partitions × QIs, largest rank

    @property
    def count(self) -> int:
        return int(self.low.shape[0])


class MondrianPartitioner:
    """Strict median-cut Mondrian over the encoded table."""

    def __init__(
        self,
        table: EncodedTable,
        models: list[PrivacyModel],
        numeric: set[str] | None = None,
    ) -> None:
        self.table = table
        self.models = models
        self.only_k = all(isinstance(m, KAnonymity) for m in models)
        self.k = max([m.minimal_class_size for m in models] + [1])
        self.qis = [
            OrderedQI.build(
                q.name,
                q.hierarchy,
                (q.name in numeric) if numeric is not None else looks_numeric(q.hierarchy),
            )
            for q in table.qis
        ]
        self.ranks = np.stack(
            [oq.rank_of_leaf[q.row_codes] for oq, q in zip(self.qis, table.qis, strict=True)],
            axis=1,
        ).astype(np.int32)

    def _acceptable(self, rows: np.ndarray) -> bool:
        if len(rows) < self.k:
            return False
        if self.only_k:
            return True
        sensitive = {}
        for attr in self.table.sensitive:
            codes, counts = np.unique(attr.row_codes[rows], return_counts=True)
            sensitive[attr.name] = SensitiveCells(
                class_ids=np.zeros(len(codes), dtype=np.int64),
                codes=codes,
                counts=counts,
                labels=attr.labels,
                global_counts=attr.global_counts,
            )
        view = ClassView(sizes=np.array([len(rows)], dtype=np.int64), sensitive=sensitive)
        return bool(classes_ok(self.models, view)[0])

    def partition(self) -> MondrianPartitions | None:
        """Partition all rows; ``None`` if even the whole table fails the models."""
        n = self.table.n_rows
        everything = np.arange(n, dtype=np.int64)
        if not self._acceptable(everything):
            return None
        ranks = self.ranks
        spread = np.maximum(ranks.max(axis=0) - ranks.min(axis=0), 1).astype(np.float64)
        partition_of_row = np.empty(n, dtype=np.int64)
        lows: list[np.ndarray] = []
        highs: list[np.ndarray] = []
        stack = [everything]
        k = self.k
        while stack:
            rows = stack.pop()
            box = ranks[rows]
            low = box.min(axis=0)
            high = box.max(axis=0)
            split = None
            if len(rows) >= 2 * k:
                widths = (high - low) / spread
                for dim in np.argsort(-widths, kind="stable"):
                    if widths[dim] <= 0:
                        break
                    split = self._split(rows, box[:, dim])
                    if split is not None:
                        break
            if split is None:
                partition_of_row[rows] = len(lows)
                lows.append(low)
                highs.append(high)
            else:
                stack.extend(split)
        return MondrianPartitions(partition_of_row, np.array(lows), np.array(highs))

    def _split(self, rows: np.ndarray, column: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        m = len(column)
        median = np.partition(column, m // 2)[m // 2]
        left = column < median
        n_left = int(left.sum())
        if n_left < self.k:
            left = column <= median
            n_left = int(left.sum())
        if n_left < self.k or m - n_left < self.k:
            return None
        left_rows, right_rows = rows[left], rows[~left]
        if not (self._acceptable(left_rows) and self._acceptable(right_rows)):
            return None
        return left_rows, right_rows

    # ------------------------------------------------------------------ release
    def labels_and_shares(self, parts: MondrianPartitions) -> tuple[list[np.ndarray], np.ndarray]:
        """Per QI, the released label of every partition; and the (QIs × partitions) shares."""
        labels: list[np.ndarray] = []
        shares = np.empty((len(self.qis), parts.count))
        for d, oq in enumerate(self.qis):
            lo_leaf = oq.leaf_of_rank[parts.low[:, d]]
            hi_leaf = oq.leaf_of_rank[parts.high[:, d]]
            h = oq.hierarchy
            if oq.numeric:
                values = np.asarray(h.values, dtype=object)
                lo_txt, hi_txt = values[lo_leaf], values[hi_leaf]
                same = lo_leaf == hi_leaf
                ranged = np.char.add(np.char.add(lo_txt.astype(str), "-"), hi_txt.astype(str))
                labels.append(np.where(same, lo_txt, ranged.astype(object)))
                covered = parts.high[:, d] - parts.low[:, d] + 1
                shares[d] = covered / float(len(h))
                continue
            level = np.full(parts.count, h.levels - 1, dtype=np.int64)
            for lvl in range(h.levels - 1, -1, -1):
                codes = h.level_codes[lvl]
                level = np.where(codes[lo_leaf] == codes[hi_leaf], lvl, level)
            out = np.empty(parts.count, dtype=object)
            for lvl in np.unique(level):
                sel = level == lvl
                code = h.level_codes[lvl][lo_leaf[sel]]
                out[sel] = h.level_labels[lvl][code]
                shares[d, sel] = h.domain_shares[lvl][code]
            labels.append(out)
        return labels, shares
