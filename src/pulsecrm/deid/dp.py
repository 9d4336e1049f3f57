"""Differentially private counts, sums and means, with a per-report budget.

Noise comes from OpenDP measurements — discrete Laplace for integer results,
Laplace for real ones — built from OpenDP transformations (clamp, count,
sum), with the noise scale calibrated by OpenDP's own privacy map. Nothing
here draws random numbers.

Accounting is **pure ε-DP with basic sequential composition**: a report's
releases together cost the sum of their ε (δ = 0). That is the simplest rule
a privacy officer can check by hand and it is exact for Laplace mechanisms;
zCDP would only pay off for many Gaussian queries. The privacy unit is one
row: each person contributes at most one row to the table the aggregates are
computed on (symmetric distance 1). Tables with several rows per person must
be reduced to one row per person first.

A :class:`PrivacyBudget` is charged *before* a measurement runs and refuses
any query that would take the total past the report's ε, so a release that
would overspend never exists.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import opendp.prelude as dp
import pandas as pd

dp.enable_features("contrib")

ACCOUNTING = "pure ε-DP, basic sequential composition (ε adds up, δ = 0)"
_TOLERANCE = 1e-9


class DPError(ValueError):
    """A DP query is malformed (unknown column, bad bounds, non-numeric data)."""


class BudgetExhaustedError(DPError):
    """The query would spend more ε than the report has left; nothing was released."""


@dataclass(frozen=True)
class BudgetCharge:
    """One entry of the budget ledger."""

    query: str
    epsilon: float


@dataclass
class PrivacyBudget:
    """The ε a report may spend, and the ledger of what it spent."""

    epsilon: float
    charges: list[BudgetCharge] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.epsilon > 0:
            raise DPError(f"privacy budget epsilon must be > 0, got {self.epsilon}")

    @property
    def spent(self) -> float:
        """ε already spent (sum of the charges, basic composition)."""
        return float(sum(c.epsilon for c in self.charges))

    @property
    def remaining(self) -> float:
        """ε still available."""
        return max(self.epsilon - self.spent, 0.0)

    def charge(self, query: str, epsilon: float) -> None:
        """Record ``epsilon`` for ``query``, or refuse if the budget cannot cover it."""
        if not epsilon > 0:
            raise DPError(f"DP query {query!r}: epsilon must be > 0, got {epsilon}")
        if self.spent + epsilon > self.epsilon + _TOLERANCE:
            raise BudgetExhaustedError(
                f"DP query {query!r} needs epsilon={epsilon:g} but only "
                f"{self.remaining:g} of the report's {self.epsilon:g} is left"
            )
        self.charges.append(BudgetCharge(query=query, epsilon=epsilon))


QueryKind = Literal["count", "sum", "mean"]


@dataclass(frozen=True)
class DPRelease:
    """One released aggregate and what it cost.

    ``accuracy_95`` is the half-width of a 95 % interval around the true value
    due to the noise alone (from OpenDP's scale-to-accuracy conversion), so
    readers know how far to trust small numbers.
    """

    name: str
    kind: QueryKind
    column: str | None
    value: float
    epsilon: float
    mechanism: str
    scale: float
    accuracy_95: float | None
    bounds: tuple[float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (bounds as a list)."""
        data = asdict(self)
        data["bounds"] = list(self.bounds) if self.bounds is not None else None
        return data


_SPACE_INT = (dp.vector_domain(dp.atom_domain(T=int)), dp.symmetric_distance())
_SPACE_FLOAT = (dp.vector_domain(dp.atom_domain(T=float, nan=False)), dp.symmetric_distance())


def _calibrated(chain: Any, epsilon: float) -> tuple[Any, float]:
    """Attach Laplace noise to ``chain`` with the smallest scale meeting ``epsilon``."""
    scale = float(dp.binary_search_param(lambda s: chain >> dp.m.then_laplace(s), 1, epsilon))
    return chain >> dp.m.then_laplace(scale), scale


@functools.lru_cache(maxsize=256)
def _count_measurement(epsilon: float) -> tuple[Any, float]:
    """Noisy count for ``epsilon`` (cached: the binary search costs ~30 ms)."""
    return _calibrated(_SPACE_INT >> dp.t.then_count(), epsilon)


@functools.lru_cache(maxsize=256)
def _sum_measurement(low: float, high: float, integral: bool, epsilon: float) -> tuple[Any, float]:
    """Noisy clamped sum for ``epsilon`` (cached like the count)."""
    if integral:
        chain = _SPACE_INT >> dp.t.then_clamp(bounds=(int(low), int(high))) >> dp.t.then_sum()
    else:
        chain = _SPACE_FLOAT >> dp.t.then_clamp(bounds=(float(low), float(high))) >> dp.t.then_sum()
    return _calibrated(chain, epsilon)


class DPAggregator:
    """Answers DP queries over one table, charging each to one :class:`PrivacyBudget`.

    ``frame`` must hold one row per person (the privacy unit). The aggregator
    never returns a value without first charging the budget.
    """

    def __init__(self, frame: pd.DataFrame, budget: PrivacyBudget) -> None:
        self._frame = frame
        self.budget = budget
        self.releases: list[DPRelease] = []

    def count(self, name: str, *, epsilon: float, where: dict[str, Any] | None = None) -> DPRelease:
        """Noisy number of rows (optionally of rows matching ``where`` equalities)."""
        rows = self._rows(name, where)
        measurement, scale = _count_measurement(epsilon)
        self._charge(name, measurement)
        value = float(measurement(np.ones(int(rows.sum()), dtype=np.int64).tolist()))
        accuracy = float(dp.discrete_laplacian_scale_to_accuracy(scale, 0.05))
        release = DPRelease(
            name, "count", None, value, epsilon, "discrete Laplace", scale, accuracy
        )
        return self._record(release)

    def sum(
        self,
        name: str,
        *,
        column: str,
        bounds: tuple[float, float],
        epsilon: float,
        where: dict[str, Any] | None = None,
    ) -> DPRelease:
        """Noisy sum of ``column`` with each value clamped into ``bounds``."""
        value, scale, mechanism = self._noisy_sum(name, column, bounds, epsilon, where)
        accuracy = _accuracy(mechanism, scale)
        return self._record(
            DPRelease(name, "sum", column, value, epsilon, mechanism, scale, accuracy, bounds)
        )

    def mean(
        self,
        name: str,
        *,
        column: str,
        bounds: tuple[float, float],
        epsilon: float,
        where: dict[str, Any] | None = None,
    ) -> DPRelease:
        """Noisy mean as noisy clamped sum / noisy count, ε split evenly between them.

        The ratio is post-processing, so it costs nothing extra; it is clamped
        into ``bounds`` because a tiny noisy denominator can throw it far out.
        The row count is not treated as public, which is why it is noised too.
        """
        half = epsilon / 2
        total, sum_scale, mechanism = self._noisy_sum(name, column, bounds, half, where)
        rows = self._rows(name, where) & self._numbers(name, column).notna().to_numpy()
        counter, count_scale = _count_measurement(half)
        self._charge(f"{name} (count)", counter)
        count = float(counter(np.ones(int(rows.sum()), dtype=np.int64).tolist()))
        low, high = bounds
        value = float(np.clip(total / count, low, high)) if count >= 1 else (low + high) / 2
        release = DPRelease(
            name=name,
            kind="mean",
            column=column,
            value=value,
            epsilon=epsilon,
            mechanism=f"{mechanism} sum / discrete Laplace count",
            scale=max(sum_scale, count_scale),
            accuracy_95=None,
            bounds=bounds,
        )
        return self._record(release)

    # -- internals -------------------------------------------------------------------------

    def _noisy_sum(
        self,
        name: str,
        column: str,
        bounds: tuple[float, float],
        epsilon: float,
        where: dict[str, Any] | None,
    ) -> tuple[float, float, str]:
        low, high = bounds
        if not low < high:
            raise DPError(f"DP query {name!r}: bounds must satisfy low < high, got {bounds}")
        numbers = self._numbers(name, column)[self._rows(name, where)].dropna()
        integral = bool(float(low).is_integer() and float(high).is_integer()) and bool(
            (numbers == np.floor(numbers)).all()
        )
        if integral:
            data: list[Any] = numbers.astype(np.int64).tolist()
            mechanism = "discrete Laplace"
        else:
            data = numbers.astype(float).tolist()
            mechanism = "Laplace"
        measurement, scale = _sum_measurement(float(low), float(high), integral, epsilon)
        label = f"{name} (sum)" if name else column
        self._charge(label, measurement)
        return float(measurement(data)), scale, mechanism

    def _charge(self, query: str, measurement: Any) -> None:
        """Charge the ε OpenDP's privacy map reports for one row of difference."""
        self.budget.charge(query, float(measurement.map(1)))

    def _rows(self, name: str, where: dict[str, Any] | None) -> np.ndarray:
        mask = np.ones(len(self._frame), dtype=bool)
        for column, wanted in (where or {}).items():
            if column not in self._frame.columns:
                raise DPError(f"DP query {name!r}: where-column {column!r} is not in the data")
            mask &= (self._frame[column].astype("string") == str(wanted)).fillna(False).to_numpy()
        return mask

    def _numbers(self, name: str, column: str) -> pd.Series:
        if column not in self._frame.columns:
            raise DPError(f"DP query {name!r}: column {column!r} is not in the data")
        values = self._frame[column]
        numbers = pd.to_numeric(values, errors="coerce")
        if (numbers.isna() & values.notna()).any():
            bad = values[numbers.isna() & values.notna()].iloc[0]
            raise DPError(f"DP query {name!r}: column {column!r} holds non-number {bad!r}")
        return numbers

    def _record(self, release: DPRelease) -> DPRelease:
        self.releases.append(release)
        return release


def _accuracy(mechanism: str, scale: float) -> float:
    if mechanism == "discrete Laplace":
        return float(dp.discrete_laplacian_scale_to_accuracy(scale, 0.05))
    return float(dp.laplacian_scale_to_accuracy(scale, 0.05))
