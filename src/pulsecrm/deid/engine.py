"""Public entry point of tabular de-identification: ``anonymize(df, spec)``.

One call validates the whole configuration *before* any work (so a typo never
costs a long search), encodes the table once, runs the chosen algorithm, writes
the release ARX-style (quasi-identifiers generalised; suppressed records keep
their other columns but every QI becomes ``*``), measures utility and
re-identification risk, and finally re-verifies the released strings
independently (:mod:`pulsecrm.deid.verify`).  ``verified`` is False only if that
independent check disagrees with the search — a bug, never a user error.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from pulsecrm.deid.grouping import combine_keys, factorize
from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.lattice import (
    NoSolutionError,
    OptimalSearch,
    class_summary,
    classes_from_cells,
)
from pulsecrm.deid.metrics import ClassSummary, domain_sizes, non_uniform_entropy, summarize
from pulsecrm.deid.mondrian import MondrianPartitioner
from pulsecrm.deid.privacy_models import (
    HierarchicalDistanceTCloseness,
    KAnonymity,
    PrivacyModel,
)
from pulsecrm.deid.qi_encoding import EncodedTable, collapse
from pulsecrm.deid.risk import assess_risk
from pulsecrm.deid.verify import verify_release

__all__ = [
    "AnonymizationResult",
    "AnonymizationSpec",
    "DeidConfigError",
    "NoSolutionError",
    "anonymize",
]

SUPPRESSED = "*"
# The optimal search keeps per-node state in arrays; beyond this the lattice is
# too large to enumerate and Mondrian is the right tool.
MAX_LATTICE_NODES = 2_000_000


class DeidConfigError(ValueError):
    """The de-identification configuration cannot work on this table (raised before any search)."""


@dataclass
class AnonymizationSpec:
    """What to protect and how.

    ``quasi_identifiers`` maps each QI column to its hierarchy; the dict order is
    the lattice dimension order (and the order of ``levels`` in the result).
    ``numeric_quasi_identifiers`` only matters for Mondrian (which QIs to cut and
    release as numeric ranges); by default it is guessed from the hierarchy.
    Mondrian never suppresses records, so it ignores ``suppression_limit`` and
    ``metric``.
    """

    quasi_identifiers: dict[str, Hierarchy]
    models: list[PrivacyModel]
    suppression_limit: float = 0.0
    algorithm: Literal["optimal", "mondrian"] = "optimal"
    metric: Literal["loss", "discernibility", "aecs", "entropy"] = "loss"
    sensitive: list[str] = field(default_factory=list)
    numeric_quasi_identifiers: list[str] | None = None

    def effective_models(self) -> list[PrivacyModel]:
        """The models, with k=1 implied when none is given."""
        return list(self.models) if self.models else [KAnonymity(1)]

    def sensitive_columns(self) -> list[str]:
        """Sensitive columns: those listed plus those any model reads, in a stable order."""
        columns = list(self.sensitive)
        for model in self.effective_models():
            attribute = model.sensitive_attribute
            if attribute is not None and attribute not in columns:
                columns.append(attribute)
        return columns


@dataclass
class AnonymizationResult:
    """The release and everything a reviewer needs to judge it."""

    data: pd.DataFrame
    suppressed: np.ndarray
    levels: tuple[int, ...] | None
    metrics: dict[str, float]
    risk: dict[str, float]
    verified: bool
    verification: dict[str, object] = field(default_factory=dict)


# ---------------------------------------------------------------------- validation
def validate(df: pd.DataFrame, spec: AnonymizationSpec) -> None:
    """Raise :class:`DeidConfigError` naming the first problem; do no anonymisation work."""
    if spec.algorithm not in ("optimal", "mondrian"):
        raise DeidConfigError(f"unknown algorithm {spec.algorithm!r} (use 'optimal' or 'mondrian')")
    if spec.metric not in ("loss", "discernibility", "aecs", "entropy"):
        raise DeidConfigError(
            f"unknown metric {spec.metric!r} (use 'loss', 'discernibility', 'aecs' or 'entropy')"
        )
    if not 0.0 <= spec.suppression_limit <= 1.0:
        raise DeidConfigError(
            f"suppression limit {spec.suppression_limit!r} is outside [0, 1] "
            "(it is a fraction of rows)"
        )
    if not spec.quasi_identifiers:
        raise DeidConfigError("no quasi-identifiers given: there is nothing to generalise")
    if len(df) == 0:
        raise DeidConfigError("the table is empty")
    columns = set(map(str, df.columns))
    for column in spec.quasi_identifiers:
        if column not in columns:
            raise DeidConfigError(
                f"unknown quasi-identifier column {column!r}; table has {sorted(columns)}"
            )
    sensitive = spec.sensitive_columns()
    for column in sensitive:
        if column not in columns:
            raise DeidConfigError(
                f"unknown sensitive column {column!r}; table has {sorted(columns)}"
            )
        if column in spec.quasi_identifiers:
            raise DeidConfigError(
                f"column {column!r} is both a quasi-identifier and sensitive; pick one"
            )
    for column, hierarchy in spec.quasi_identifiers.items():
        missing = hierarchy.missing_values(df[column])
        if missing:
            shown = ", ".join(repr(v) for v in missing[:10])
            raise DeidConfigError(
                f"hierarchy {hierarchy.name!r} for column {column!r} has no entry for "
                f"{len(missing)} value(s): {shown}"
            )
        if not hierarchy.is_functional:
            raise DeidConfigError(
                f"hierarchy {hierarchy.name!r} for column {column!r} maps a value to two "
                "different parents; each level must refine the next"
            )
    if spec.algorithm == "optimal":
        nodes = math.prod(h.levels for h in spec.quasi_identifiers.values())
        if nodes > MAX_LATTICE_NODES:
            raise DeidConfigError(
                f"the generalisation lattice has {nodes:,} nodes (more than "
                f"{MAX_LATTICE_NODES:,}); use algorithm='mondrian', fewer quasi-identifiers "
                "or hierarchies with fewer levels"
            )
    n = len(df)
    for model in spec.effective_models():
        if model.minimal_class_size > n:
            raise DeidConfigError(
                f"{model!r} needs classes of at least {model.minimal_class_size} rows but the "
                f"table has only {n}"
            )
        attribute = model.sensitive_attribute
        if attribute is None:
            continue
        distinct = df[attribute].astype(str).nunique()
        needed = getattr(model, "l", None)
        if needed is not None and distinct < needed:
            raise DeidConfigError(
                f"{model!r}: column {attribute!r} has only {distinct} distinct value(s), "
                f"fewer than l={needed}"
            )
        if isinstance(model, HierarchicalDistanceTCloseness):
            missing = model.hierarchy.missing_values(df[attribute])
            if missing:
                raise DeidConfigError(
                    f"t-closeness hierarchy {model.hierarchy.name!r} for column {attribute!r} "
                    f"has no entry for value(s): {', '.join(repr(v) for v in missing[:10])}"
                )


# ---------------------------------------------------------------------- entry point
def anonymize(
    df: pd.DataFrame,
    spec: AnonymizationSpec,
    *,
    population: pd.DataFrame | None = None,
) -> AnonymizationResult:
    """De-identify ``df`` according to ``spec``; see the module docstring for the steps."""
    validate(df, spec)
    if population is not None:
        for column, hierarchy in spec.quasi_identifiers.items():
            if column not in population.columns:
                raise DeidConfigError(f"population table lacks quasi-identifier column {column!r}")
            missing = hierarchy.missing_values(population[column])
            if missing:
                raise DeidConfigError(
                    f"hierarchy {hierarchy.name!r} has no entry for population value(s) "
                    f"{', '.join(repr(v) for v in missing[:10])} in column {column!r}"
                )
    started = time.perf_counter()
    models = spec.effective_models()
    table = EncodedTable.encode(df, spec.quasi_identifiers, spec.sensitive_columns())
    qis = list(spec.quasi_identifiers)
    released = df.copy()
    extra: dict[str, float] = {}
    generalised_population: pd.DataFrame | None = None

    if spec.algorithm == "optimal":
        search = OptimalSearch(table, models, spec.suppression_limit, spec.metric)
        outcome = search.run()
        levels = outcome.levels
        suppressed, summary = _rows_at_node(table, models, levels)
        for column, level in zip(qis, levels, strict=True):
            generalized = spec.quasi_identifiers[column].generalize(df[column], level)
            released[column] = np.where(suppressed, SUPPRESSED, generalized)
        extra["non_uniform_entropy"] = non_uniform_entropy(table, levels)
        extra["search_nodes"] = float(outcome.statistics.nodes)
        extra["search_checked"] = float(outcome.statistics.checked)
        extra["search_seconds"] = outcome.statistics.seconds
        if population is not None:
            generalised_population = population.copy()
            for column, level in zip(qis, levels, strict=True):
                generalised_population[column] = spec.quasi_identifiers[column].generalize(
                    population[column], level
                )
        result_levels: tuple[int, ...] | None = levels
    else:
        numeric = set(spec.numeric_quasi_identifiers) if spec.numeric_quasi_identifiers else None
        partitioner = MondrianPartitioner(table, models, numeric)
        parts = partitioner.partition()
        if parts is None:
            raise NoSolutionError(
                f"the whole table does not satisfy {[m.name for m in models]}; Mondrian cannot "
                "produce any release"
            )
        labels, shares = partitioner.labels_and_shares(parts)
        for column, column_labels in zip(qis, labels, strict=True):
            released[column] = column_labels[parts.partition_of_row]
        suppressed = np.zeros(len(df), dtype=bool)
        summary = _summary_of_partitions(labels, shares, parts.partition_of_row)
        extra["partitions"] = float(parts.count)
        result_levels = None

    metrics = summarize(summary, table.n_rows, domain_sizes(table))
    metrics.update(extra)
    metrics["seconds"] = time.perf_counter() - started
    risk = assess_risk(released, qis, suppressed, generalised_population)
    report = verify_release(released, qis, models, suppressed=suppressed, reference=df)
    return AnonymizationResult(
        data=released,
        suppressed=suppressed,
        levels=result_levels,
        metrics=metrics,
        risk=risk,
        verified=report.ok,
        verification=report.as_dict(),
    )


def _rows_at_node(
    table: EncodedTable, models: list[PrivacyModel], levels: tuple[int, ...]
) -> tuple[np.ndarray, ClassSummary]:
    """Recompute the chosen node from the rows: suppressed-row mask and class summary."""
    d = table.dimensions
    columns = table.row_columns(levels)
    cards = table.cardinalities_at(levels)
    classes = classes_from_cells(table, collapse(columns, cards, None, levels), models)
    # Key class representatives and rows together so the keys are comparable.
    n_classes = classes.view.n_classes
    joint = [np.concatenate([classes.representatives[i], columns[i]]) for i in range(d)]
    keys = combine_keys(joint, cards[:d])
    row_class = pd.Index(keys[:n_classes]).get_indexer(keys[n_classes:])
    suppressed = ~classes.released[row_class]
    return suppressed, class_summary(table, classes)


def _summary_of_partitions(
    labels: list[np.ndarray], shares: np.ndarray, partition_of_row: np.ndarray
) -> ClassSummary:
    """Classes of a Mondrian release: partitions with identical labels are one class."""
    codes = [pd.factorize(column)[0] for column in labels]
    cards = [int(c.max()) + 1 for c in codes]
    class_of_partition, n_classes = factorize(combine_keys(codes, cards))
    partition_sizes = np.bincount(partition_of_row, minlength=len(class_of_partition))
    sizes = np.bincount(class_of_partition, weights=partition_sizes, minlength=n_classes)
    first = np.empty(n_classes, dtype=np.int64)
    first[class_of_partition[::-1]] = np.arange(len(class_of_partition))[::-1]
    return ClassSummary(
        sizes=sizes.astype(np.int64),
        released=np.ones(n_classes, dtype=bool),
        shares=shares[:, first],
    )
