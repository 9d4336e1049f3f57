"""Independent re-check of a released table against its privacy models.

The search decides what to release from integer codes and roll-ups; this module
trusts none of that.  It regroups the *released strings* with pandas and
recomputes every guarantee from scratch, with deliberately different code (plain
per-class arithmetic, a recursive tree walk for hierarchical EMD), so a bug in
the fast path cannot certify its own output.

Suppressed records (every QI ``*``, or the rows flagged in ``suppressed``) are
excluded from the classes: they are released without quasi-identifiers.  The
t-closeness reference distribution is the sensitive column over *all* rows,
suppressed ones included, because that is the distribution the attacker's prior
is drawn from and what ARX uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.privacy_models import (
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    HierarchicalDistanceTCloseness,
    KAnonymity,
    PrivacyModel,
    RecursiveCLDiversity,
)

_EPS = 1e-9


@dataclass
class VerificationReport:
    """Outcome of the re-check: ``ok`` only if every model holds on every class."""

    ok: bool
    released_rows: int
    classes: int
    k: int
    measured: dict[str, float] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "released_rows": self.released_rows,
            "classes": self.classes,
            "k": self.k,
            "measured": dict(self.measured),
            "failures": list(self.failures),
        }


def suppressed_rows(data: pd.DataFrame, quasi_identifiers: list[str]) -> np.ndarray:
    """Rows whose every quasi-identifier is ``*`` (ARX's representation of a suppressed record)."""
    return np.asarray((data[quasi_identifiers].astype(str) == "*").all(axis=1))


def _distribution(values: pd.Series) -> dict[str, float]:
    counts = values.astype(str).value_counts()
    return {str(k): float(v) / float(counts.sum()) for k, v in counts.items()}


def hierarchical_emd(p: dict[str, float], q: dict[str, float], hierarchy: Hierarchy) -> float:
    """Li et al.'s hierarchical EMD by walking the tree level by level with dicts."""
    rows = hierarchy.to_rows()
    height = hierarchy.levels - 1
    parents = [{row[lvl]: row[lvl + 1] for row in rows} for lvl in range(height)]
    extra = {value: p.get(value, 0.0) - q.get(value, 0.0) for value in set(p) | set(q)}
    cost = 0.0
    for level in range(1, height + 1):
        positive: dict[str, float] = {}
        negative: dict[str, float] = {}
        for node, amount in extra.items():
            parent = parents[level - 1][node]
            if amount > 0:
                positive[parent] = positive.get(parent, 0.0) + amount
            else:
                negative[parent] = negative.get(parent, 0.0) - amount
        extra = {}
        for parent in set(positive) | set(negative):
            pos, neg = positive.get(parent, 0.0), negative.get(parent, 0.0)
            cost += level / height * min(pos, neg)
            extra[parent] = pos - neg
    return cost


def verify_release(
    data: pd.DataFrame,
    quasi_identifiers: list[str],
    models: list[PrivacyModel],
    suppressed: np.ndarray | None = None,
    reference: pd.DataFrame | None = None,
) -> VerificationReport:
    """Recompute every model on ``data`` and report whether all hold."""
    mask = (
        suppressed_rows(data, quasi_identifiers) if suppressed is None else np.asarray(suppressed)
    )
    released = data.loc[~mask]
    reference = data if reference is None else reference
    if released.empty:
        return VerificationReport(True, 0, 0, 0, {}, [])
    keys = released[quasi_identifiers].astype(str)
    groups = released.groupby([keys[c] for c in quasi_identifiers], sort=False, dropna=False)
    sizes = groups.size()
    k = int(sizes.min())
    report = VerificationReport(True, len(released), len(sizes), k)
    report.measured["k"] = float(k)
    for model in models:
        _check(model, groups, reference, report)
    report.ok = not report.failures
    return report


def _check(
    model: PrivacyModel, groups: Any, reference: pd.DataFrame, report: VerificationReport
) -> None:
    if isinstance(model, KAnonymity):
        if report.k < model.k:
            report.failures.append(f"k-anonymity: smallest class has {report.k} < k={model.k}")
        return
    attribute = model.sensitive_attribute
    assert attribute is not None
    column = groups[attribute]
    if isinstance(model, DistinctLDiversity):
        measured = int(column.nunique().min())
        report.measured[f"distinct_l[{attribute}]"] = float(measured)
        if measured < model.l:
            report.failures.append(
                f"distinct-l-diversity({attribute}): a class has {measured} < l={model.l} values"
            )
    elif isinstance(model, EntropyLDiversity):
        entropies = column.apply(lambda s: _entropy(s.astype(str).value_counts().to_numpy()))
        measured_l = float(math.exp(entropies.min()))
        report.measured[f"entropy_l[{attribute}]"] = measured_l
        if entropies.min() < math.log(model.l) - _EPS:
            report.failures.append(
                f"entropy-l-diversity({attribute}): a class has entropy-l {measured_l:.4f} "
                f"< l={model.l}"
            )
    elif isinstance(model, RecursiveCLDiversity):
        failing = 0
        for _, values in column:
            freq = np.sort(values.astype(str).value_counts().to_numpy())[::-1]
            tail = freq[model.l - 1 :].sum() if len(freq) >= model.l else 0
            if not freq[0] < model.c * tail:
                failing += 1
        report.measured[f"recursive_cl_failing_classes[{attribute}]"] = float(failing)
        if failing:
            report.failures.append(
                f"recursive-(c={model.c},l={model.l})-diversity({attribute}): "
                f"{failing} class(es) fail"
            )
    elif isinstance(model, EqualDistanceTCloseness | HierarchicalDistanceTCloseness):
        q = _distribution(reference[attribute])
        worst = 0.0
        for _, values in column:
            p = _distribution(values)
            if isinstance(model, HierarchicalDistanceTCloseness):
                distance = hierarchical_emd(p, q, model.hierarchy)
            else:
                distance = 0.5 * sum(abs(p.get(v, 0.0) - q.get(v, 0.0)) for v in set(p) | set(q))
            worst = max(worst, distance)
        report.measured[f"t[{attribute}]"] = worst
        if worst > model.t + _EPS:
            report.failures.append(
                f"{model.name}({attribute}): a class is at EMD {worst:.4f} > t={model.t}"
            )
    else:
        report.failures.append(f"no independent check implemented for {model.name}")


def _entropy(counts: np.ndarray) -> float:
    probabilities = counts / counts.sum()
    return float(-(probabilities * np.log(probabilities)).sum())
