"""Optimal full-domain generalisation: an exact search of the generalisation lattice.

A *node* assigns one hierarchy level to every quasi-identifier; the lattice is
all such assignments.  We return the node with minimal utility loss among those
whose release satisfies every privacy model after suppressing the failing
classes, with at most ``suppression_limit × n`` suppressed records — the same
optimum ARX's Flash algorithm returns.

How the search stays fast without a per-row loop:

* **Lower bounds, then branch and bound.**  Every metric here has a cheap lower
  bound that depends on the levels only (for Loss: the loss if nothing were
  suppressed; for the precomputed entropy: the exact value).  Nodes whose bound
  is not below the best score found so far are never evaluated.
* **Predictive tagging (Flash's idea).**  When every model is monotone for the
  configuration (see :mod:`pulsecrm.deid.privacy_models`), a node that fails
  makes all its predecessors fail and a node that passes makes all its
  successors pass.  We always check the *highest* undecided candidate first, so
  one failure rules out a whole down-set at once.  Without monotonicity we check
  candidates exactly, in bound order — slower, still optimal.
* **Pairwise outlier floors.**  A class at a node is contained in its
  projection onto any two QIs, so records in projected classes smaller than
  ``k`` must be suppressed.  These floors (one bincount per QI pair and level
  pair, computed once) reject most failing nodes without grouping and tighten
  the Loss and discernibility bounds.
* **Roll-up.**  A node's equivalence classes are computed from the cached cells
  (distinct QI/sensitive code tuples with counts) of the smallest cached
  predecessor by mapping codes level-to-level and re-grouping, not from the
  rows.  Because tagging walks the lattice top-down, the meet of the next few
  candidates is cached as a shared predecessor ("hub") for them.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from pulsecrm.deid.grouping import combine_keys, factorize, first_index
from pulsecrm.deid.metrics import (
    ClassSummary,
    aecs,
    discernibility,
    domain_sizes,
    entropy_table,
    geometric_mean_aggregate,
    loss,
    loss_lower_bound_raw,
    normalise_loss,
)
from pulsecrm.deid.privacy_models import (
    ClassView,
    KAnonymity,
    PrivacyModel,
    SensitiveCells,
    classes_ok,
)
from pulsecrm.deid.qi_encoding import Cells, EncodedTable, collapse

MetricName = Literal["loss", "discernibility", "aecs", "entropy"]

_TOLERANCE = 1e-12
_HUB_WINDOW = 16


class NoSolutionError(RuntimeError):
    """No transformation satisfies the privacy models within the suppression limit."""


def max_suppressed_rows(suppression_limit: float, n_rows: int) -> int:
    """Rows that may be suppressed: ``floor(limit × n)``, as ARX computes it."""
    return math.floor(suppression_limit * n_rows + 1e-9)


@dataclass(frozen=True)
class NodeClasses:
    """Equivalence classes of the table at one lattice node."""

    levels: tuple[int, ...]
    view: ClassView
    representatives: np.ndarray  # QI codes (attributes × classes) at ``levels``
    released: np.ndarray

    @property
    def suppressed_rows(self) -> int:
        return int(self.view.sizes[~self.released].sum())


class ClassComputer:
    """Computes a node's classes by rolling up cached cells of a predecessor."""

    def __init__(self, table: EncodedTable, models: list[PrivacyModel], cache_size: int = 128):
        self.table = table
        self.models = models
        self._cache_size = cache_size
        base = table.base_cells
        self._cached: list[Cells] = [base]
        self._cached_levels = np.array([base.levels], dtype=np.int64)
        self._cached_sizes = np.array([base.size], dtype=np.int64)
        self._hubs: set[tuple[int, ...]] = set()

    def _nearest_predecessor(self, levels: tuple[int, ...]) -> Cells:
        below = np.all(self._cached_levels <= np.asarray(levels), axis=1)
        sizes = np.where(below, self._cached_sizes, np.iinfo(np.int64).max)
        return self._cached[int(np.argmin(sizes))]

    def _remember(self, cells: Cells) -> None:
        if len(self._cached) >= self._cache_size:  # keep the base, drop the oldest other
            del self._cached[1]
            self._cached_levels = np.delete(self._cached_levels, 1, axis=0)
            self._cached_sizes = np.delete(self._cached_sizes, 1)
        self._cached.append(cells)
        self._cached_levels = np.vstack([self._cached_levels, np.asarray(cells.levels)])
        self._cached_sizes = np.append(self._cached_sizes, cells.size)

    def prepare_hub(self, meet: tuple[int, ...]) -> None:
        """Cache the cells of ``meet`` (a predecessor of every remaining candidate).

        The search walks the lattice top-down, so the nodes it has already
        evaluated are rarely predecessors of the next one and roll-up would
        always start from the full base table.  The meet of the remaining
        candidates is a predecessor of all of them, usually far smaller than
        the base, and changes only a few times per search.
        """
        if any(meet) and meet not in self._hubs:
            self._hubs.add(meet)
            self.cells(meet)

    def cells(self, levels: tuple[int, ...]) -> Cells:
        source = self._nearest_predecessor(levels)
        if source.levels == levels:
            return source
        columns = []
        for d, qi in enumerate(self.table.qis):
            lo, hi = source.levels[d], levels[d]
            col = source.columns[d]
            columns.append(col if lo == hi else qi.code_map(lo, hi)[col])
        columns.extend(source.columns[self.table.dimensions :])
        cells = collapse(columns, self.table.cardinalities_at(levels), source.weights, levels)
        self._remember(cells)
        return cells

    def classes(self, levels: tuple[int, ...]) -> NodeClasses:
        cells = self.cells(levels)
        return classes_from_cells(self.table, cells, self.models)


def classes_from_cells(
    table: EncodedTable, cells: Cells, models: list[PrivacyModel]
) -> NodeClasses:
    """Group cells into equivalence classes and apply the privacy models."""
    d = table.dimensions
    if not table.sensitive:
        view = ClassView(sizes=cells.weights)
        reps = cells.columns[:d]
    else:
        cards = table.cardinalities_at(cells.levels)[:d]
        class_ids, n_classes = factorize(combine_keys(list(cells.columns[:d]), cards))
        sizes = np.bincount(class_ids, weights=cells.weights, minlength=n_classes).astype(np.int64)
        reps = cells.columns[:d, first_index(class_ids, n_classes)]
        sensitive = {}
        for j, attr in enumerate(table.sensitive):
            codes = cells.columns[d + j]
            counts = cells.weights
            ids = class_ids
            if len(table.sensitive) > 1:
                pair_ids, n_pairs = factorize(class_ids * len(attr.labels) + codes)
                first = first_index(pair_ids, n_pairs)
                counts = np.bincount(pair_ids, weights=counts, minlength=n_pairs).astype(np.int64)
                ids, codes = class_ids[first], codes[first]
            sensitive[attr.name] = SensitiveCells(
                class_ids=ids,
                codes=codes,
                counts=counts,
                labels=attr.labels,
                global_counts=attr.global_counts,
            )
        view = ClassView(sizes=sizes, sensitive=sensitive)
    released = classes_ok(models, view)
    return NodeClasses(cells.levels, view, reps, released)


def class_summary(table: EncodedTable, classes: NodeClasses) -> ClassSummary:
    """Per-class domain shares for the utility metrics."""
    shares = np.stack(
        [
            qi.hierarchy.domain_shares[level][classes.representatives[d]]
            for d, (qi, level) in enumerate(zip(table.qis, classes.levels, strict=True))
        ]
    )
    return ClassSummary(sizes=classes.view.sizes, released=classes.released, shares=shares)


class PairwiseOutlierBound:
    """A grouping-free test that a node must fail k-anonymity's suppression limit.

    Classes at a node refine the classes of its projection onto any two
    quasi-identifiers, so every record in a projected class smaller than ``k``
    is in a class smaller than ``k`` at the node and must be suppressed.  The
    largest such count over all QI pairs is therefore a lower bound on the
    node's suppressed records; when it exceeds the limit the node fails without
    being grouped.  Per (pair, levels) the count is computed once with a bincount.
    """

    def __init__(self, table: EncodedTable, k: int) -> None:
        self.table = table
        self.k = k
        self._rare: dict[tuple[int, int, int, int], int] = {}
        self._joint: dict[tuple[int, int], np.ndarray] = {}
        self._pairs = list(itertools.combinations(range(table.dimensions), 2))

    def _joint_leaf_counts(self, d1: int, d2: int) -> np.ndarray:
        """Rows per (leaf of QI d1, leaf of QI d2): one pass over the data per pair."""
        key = (d1, d2)
        joint = self._joint.get(key)
        if joint is None:
            q1, q2 = self.table.qis[d1], self.table.qis[d2]
            n1, n2 = len(q1.hierarchy), len(q2.hierarchy)
            flat = np.bincount(q1.row_codes * n2 + q2.row_codes, minlength=n1 * n2)
            joint = flat.reshape(n1, n2)
            self._joint[key] = joint
        return joint

    def _rare_rows(self, d1: int, l1: int, d2: int, l2: int) -> int:
        key = (d1, l1, d2, l2)
        cached = self._rare.get(key)
        if cached is None:
            q1, q2 = self.table.qis[d1], self.table.qis[d2]
            joint = self._joint_leaf_counts(d1, d2)
            codes1 = q1.hierarchy.level_codes[l1]
            codes2 = q2.hierarchy.level_codes[l2]
            cells = codes1[:, np.newaxis] * q2.cardinalities[l2] + codes2[np.newaxis, :]
            counts = np.bincount(cells.ravel(), weights=joint.ravel())
            cached = int(counts[counts < self.k].sum())
            self._rare[key] = cached
        return cached

    def node_floors(self, nodes: np.ndarray) -> np.ndarray:
        """Lower bound on suppressed records for every node (rows of ``nodes``)."""
        floors = np.zeros(len(nodes), dtype=np.int64)
        if self.k <= 1:
            return floors
        for d1, d2 in self._pairs:
            levels1 = range(self.table.qis[d1].levels)
            levels2 = range(self.table.qis[d2].levels)
            grid = np.array([[self._rare_rows(d1, a, d2, b) for b in levels2] for a in levels1])
            np.maximum(floors, grid[nodes[:, d1], nodes[:, d2]], out=floors)
        return floors


@dataclass
class SearchStatistics:
    nodes: int = 0
    checked: int = 0
    pruned_by_pairs: int = 0
    pruned_by_bound: int = 0
    tagged: int = 0
    seconds: float = 0.0


@dataclass
class SearchOutcome:
    levels: tuple[int, ...]
    score: float
    classes: NodeClasses
    statistics: SearchStatistics = field(default_factory=SearchStatistics)


class OptimalSearch:
    """Exact minimum of ``metric`` over the lattice, subject to the privacy models."""

    def __init__(
        self,
        table: EncodedTable,
        models: list[PrivacyModel],
        suppression_limit: float,
        metric: MetricName = "loss",
    ) -> None:
        self.table = table
        self.models = models
        self.metric = metric
        self.max_suppressed = max_suppressed_rows(suppression_limit, table.n_rows)
        self.computer = ClassComputer(table, models)
        self.nodes = np.array(
            list(itertools.product(*[range(q.levels) for q in table.qis])), dtype=np.int64
        )
        self._domains = domain_sizes(table)
        self._entropy = entropy_table(table)
        if suppression_limit > 0:
            monotone = all(m.monotonic_with_suppression for m in models)
        else:
            monotone = all(m.monotonic_with_generalization for m in models)
        self.monotone = monotone
        k = max([m.k for m in models if isinstance(m, KAnonymity)] + [1])
        self._pair_bound = PairwiseOutlierBound(table, k)

    # -------------------------------------------------------------- scoring
    def lower_bounds(self, outlier_floor: np.ndarray) -> np.ndarray:
        """Per node, a lower bound of the metric that needs no grouping.

        ``outlier_floor`` is a per-node lower bound on suppressed records (see
        :class:`PairwiseOutlierBound`).  For Loss, a suppressed record costs
        ``1 − share`` more than if it were released, and its share is at most the
        largest share at that level; for discernibility, released classes have at
        least ``k`` records, so ``DM ≥ k·n + (n − k)·suppressed``.
        """
        n = self.table.n_rows
        if self.metric == "loss":
            raw, max_share = loss_lower_bound_raw(self.table)
            per_attr = np.stack(
                [
                    raw[d][self.nodes[:, d]]
                    + outlier_floor * (1.0 - max_share[d][self.nodes[:, d]])
                    for d in range(self.nodes.shape[1])
                ],
                axis=1,
            )
            normalised = normalise_loss(per_attr, n, self._domains[np.newaxis, :])
            return np.asarray(geometric_mean_aggregate(normalised))
        if self.metric == "entropy":
            return self.entropy_of_nodes()
        if self.metric == "discernibility":
            k = float(self._pair_bound.k)
            return k * n + (n - k) * outlier_floor
        return np.zeros(len(self.nodes))

    def entropy_of_nodes(self) -> np.ndarray:
        return np.sum(
            [self._entropy[d][self.nodes[:, d]] for d in range(self.nodes.shape[1])], axis=0
        )

    def score(self, classes: NodeClasses) -> float:
        if self.metric == "entropy":
            return float(sum(self._entropy[d][lvl] for d, lvl in enumerate(classes.levels)))
        summary = class_summary(self.table, classes)
        if self.metric == "loss":
            return loss(summary, self.table.n_rows, self._domains)
        if self.metric == "discernibility":
            return discernibility(summary, self.table.n_rows)
        return aecs(summary)

    # -------------------------------------------------------------- search
    def run(self) -> SearchOutcome:
        started = time.perf_counter()
        stats = SearchStatistics(nodes=len(self.nodes))
        floor = self._pair_bound.node_floors(self.nodes)
        bounds_all = self.lower_bounds(floor.astype(np.float64))
        heights_all = self.nodes.sum(axis=1)
        # Nodes whose outlier floor already exceeds the limit fail without grouping.
        viable = floor <= self.max_suppressed
        stats.pruned_by_pairs = int((~viable).sum())
        # The working set holds only nodes still in play (bound below the best score,
        # not known to fail, not yet scored), pre-sorted so that index 0 is the next
        # pick: highest first when tagging is sound, else lowest bound first.
        if self.monotone:
            order = np.lexsort((bounds_all, -heights_all))
        else:
            order = np.lexsort((heights_all, bounds_all))
        order = order[viable[order]]
        nodes = self.nodes[order].astype(np.int8)
        bounds = bounds_all[order]
        heights = heights_all[order]
        status = np.zeros(len(order), dtype=np.int8)  # 0 unknown, 1 known to pass
        best_score = math.inf
        best: NodeClasses | None = None
        best_height = 0

        while len(nodes):
            undecided = status == 0
            if self.monotone and undecided.any():
                pick = int(np.argmax(undecided))
            else:
                pick = int(np.argmin(bounds))
            levels = tuple(int(v) for v in nodes[pick])
            keep = np.ones(len(nodes), dtype=bool)
            keep[pick] = False
            upcoming = np.flatnonzero(undecided)[:_HUB_WINDOW] if self.monotone else None
            if upcoming is not None and len(upcoming) > 1:
                self.computer.prepare_hub(tuple(int(v) for v in nodes[upcoming].min(axis=0)))
            classes = self.computer.classes(levels)
            stats.checked += 1
            if classes.suppressed_rows > self.max_suppressed:
                if self.monotone:
                    below = np.all(nodes <= nodes[pick], axis=1)
                    stats.tagged += int(below.sum()) - 1
                    keep &= ~below
            else:
                if self.monotone:
                    above = np.all(nodes >= nodes[pick], axis=1)
                    status[above] = 1
                score = self.score(classes)
                height = int(heights[pick])
                better = score < best_score - _TOLERANCE
                tie = best is not None and abs(score - best_score) <= _TOLERANCE
                if better or (tie and height < best_height):
                    best_score, best, best_height = score, classes, height
                    in_play = bounds < best_score - _TOLERANCE
                    stats.pruned_by_bound += int((keep & ~in_play).sum())
                    keep &= in_play
            nodes, bounds, heights, status = nodes[keep], bounds[keep], heights[keep], status[keep]
        stats.seconds = time.perf_counter() - started
        if best is None:
            raise NoSolutionError(
                f"no generalisation satisfies {[m.name for m in self.models]} with at most "
                f"{self.max_suppressed} suppressed rows (of {self.table.n_rows}); raise the "
                "suppression limit, add hierarchy levels, or relax the model"
            )
        return SearchOutcome(best.levels, best_score, best, stats)


@dataclass(frozen=True)
class NodeReport:
    """A single lattice node, evaluated: does it pass, and what does it cost?"""

    levels: tuple[int, ...]
    passes: bool
    suppressed_rows: int
    metrics: dict[str, float]


def evaluate_node(
    table: EncodedTable,
    models: list[PrivacyModel],
    levels: tuple[int, ...],
    suppression_limit: float,
) -> NodeReport:
    """Evaluate one transformation exactly as the search would (for reports and tests)."""
    if len(levels) != table.dimensions:
        raise ValueError(f"node {levels} has {len(levels)} levels, expected {table.dimensions}")
    for qi, level in zip(table.qis, levels, strict=True):
        if not 0 <= level < qi.levels:
            raise ValueError(f"level {level} is outside 0..{qi.levels - 1} for {qi.name!r}")
    classes = ClassComputer(table, models).classes(tuple(levels))
    summary = class_summary(table, classes)
    entropy = entropy_table(table)
    metrics = {
        "loss": loss(summary, table.n_rows, domain_sizes(table)),
        "discernibility": discernibility(summary, table.n_rows),
        "aecs": aecs(summary),
        "non_uniform_entropy": float(sum(entropy[d][lvl] for d, lvl in enumerate(levels))),
        "classes": float(summary.released_classes),
        "suppressed_rows": float(summary.suppressed_rows),
    }
    passes = summary.suppressed_rows <= max_suppressed_rows(suppression_limit, table.n_rows)
    return NodeReport(tuple(levels), passes, summary.suppressed_rows, metrics)
