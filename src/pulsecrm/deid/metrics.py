"""Utility (information-loss) metrics, defined exactly as ARX defines them.

We match ARX 3.x (``org.deidentifier.arx.metric.v2``) so our figures can be put
next to ARX's.  What we matched, and how it was checked:

**Loss** (``MetricMDNMLoss``, ARX's default ``Metric.createLossMetric()``,
gs-factor 0.5, geometric-mean aggregation).  For a quasi-identifier with
hierarchy ``H`` the *domain share* of a generalised value is the number of rows
of ``H`` (all rows of the hierarchy file, not only values present in the data)
that map to it, divided by ``len(H)``; a level-0 value has share ``1/len(H)``.
Per attribute, ``s = Σ_released-classes size·share + Σ_suppressed-classes size``
(a suppressed record costs 1 per attribute), normalised as
``(s − n/len(H)) / (n − n/len(H))`` clipped at 0, where ``n`` is the number of
records.  The attributes are combined with ARX's geometric mean
``Π(v_i + 1)^(1/d) − 1`` (equal weights).  This reproduces ARX's golden value
0.22041 for Adult, k=5, 100 % suppression at levels [0,3,0,0,2,1,1,1,0].

**Non-uniform entropy** (``MetricMDNUEntropyPrecomputed``, what
``Metric.createEntropyMetric(true)`` builds): per attribute
``−Σ_v count₀(v) · log2(count₀(v) / count_L(parent_L(v)))`` over original values
``v``, summed over attributes.  ARX's precomputed variant ignores suppression —
it depends only on the levels — and reproduces ARX's golden 255 559.855 (k=5, 4 %)
and 407 289.539 (k=5, 0 %) on Adult.

**Discernibility** (``MetricSDNMDiscernability``): ``Σ_released size² + n ·
suppressed_rows`` — every suppressed record is indistinguishable from all ``n``.

**AECS** (``MetricSDAECS`` as reported in ARX's result view): released records
divided by released classes.  Suppressed records are *not* counted; this is what
makes the issue's reference figures consistent (e.g. k=5/5 %:
(30 162 − 1 346) / 397 = 72.6).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pulsecrm.deid.qi_encoding import EncodedTable


@dataclass(frozen=True)
class ClassSummary:
    """What the utility metrics need to know about one candidate release.

    ``shares`` is (attributes × classes): the domain share of each class's
    generalised value per attribute; ``released`` flags classes that are kept.
    """

    sizes: np.ndarray
    released: np.ndarray
    shares: np.ndarray

    @property
    def suppressed_rows(self) -> int:
        return int(self.sizes[~self.released].sum())

    @property
    def released_rows(self) -> int:
        return int(self.sizes[self.released].sum())

    @property
    def released_classes(self) -> int:
        return int(self.released.sum())


def geometric_mean_aggregate(values: np.ndarray) -> np.ndarray | float:
    """ARX's geometric mean: ``Π(v+1)^(1/d) − 1`` over the last axis (tolerates zeros)."""
    d = values.shape[-1]
    return np.exp(np.log1p(values).sum(axis=-1) / d) - 1.0


def normalise_loss(raw: np.ndarray, n_rows: int, domain_sizes: np.ndarray) -> np.ndarray:
    """ARX's per-attribute normalisation of summed shares into [0, 1]."""
    minimum = n_rows / domain_sizes
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (raw - minimum) / (n_rows - minimum)
    out = np.where(domain_sizes > 1, out, 0.0)
    # ARX rounds every per-attribute value to 10 decimals (Metric.round) so that
    # floating-point noise never decides between two transformations.
    return np.round(np.clip(out, 0.0, None), 10)


def loss_per_attribute(summary: ClassSummary, n_rows: int, domain_sizes: np.ndarray) -> np.ndarray:
    """Normalised ARX Loss of each quasi-identifier."""
    released = summary.released
    raw = (summary.shares[:, released] * summary.sizes[released]).sum(axis=1)
    raw = raw + summary.suppressed_rows
    return normalise_loss(raw, n_rows, domain_sizes)


def loss(summary: ClassSummary, n_rows: int, domain_sizes: np.ndarray) -> float:
    """ARX Loss of a release (0 = untouched, 1 = everything suppressed)."""
    return float(geometric_mean_aggregate(loss_per_attribute(summary, n_rows, domain_sizes)))


def discernibility(summary: ClassSummary, n_rows: int) -> float:
    sizes = summary.sizes[summary.released].astype(np.float64)
    return float((sizes * sizes).sum() + float(n_rows) * summary.suppressed_rows)


def aecs(summary: ClassSummary) -> float:
    """Average released class size; ``inf`` when nothing is released."""
    classes = summary.released_classes
    return float(summary.released_rows / classes) if classes else float("inf")


def domain_sizes(table: EncodedTable) -> np.ndarray:
    return np.array([len(q.hierarchy) for q in table.qis], dtype=np.float64)


def loss_lower_bound_raw(table: EncodedTable) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per attribute and level: summed shares if nothing were suppressed, and the largest share.

    A suppressed record costs 1 ≥ its share, so the first table (normalised) is
    a lower bound on the attribute's Loss at any node using that level, monotone
    in the level; the second lets the search add the known minimum cost of
    suppressed records.
    """
    raw: list[np.ndarray] = []
    largest: list[np.ndarray] = []
    for qi in table.qis:
        sums, maxima = [], []
        for level in range(qi.levels):
            shares = qi.hierarchy.domain_shares[level]
            codes = qi.hierarchy.level_codes[level]
            sums.append(float((qi.leaf_counts * shares[codes]).sum()))
            maxima.append(float(shares.max()))
        raw.append(np.array(sums))
        largest.append(np.array(maxima))
    return raw, largest


def entropy_table(table: EncodedTable) -> list[np.ndarray]:
    """Per attribute and level, ARX's precomputed non-uniform entropy contribution."""
    out = []
    for qi in table.qis:
        counts = qi.leaf_counts.astype(np.float64)
        present = counts > 0
        per_level = []
        for level in range(qi.levels):
            codes = qi.hierarchy.level_codes[level]
            parent_counts = np.bincount(codes, weights=counts)[codes]
            value = -(counts[present] * np.log2(counts[present] / parent_counts[present])).sum()
            per_level.append(float(value) + 0.0)
        out.append(np.array(per_level))
    return out


def non_uniform_entropy(table: EncodedTable, levels: tuple[int, ...]) -> float:
    """ARX's (precomputed, suppression-independent) non-uniform entropy at ``levels``."""
    per = entropy_table(table)
    return float(sum(per[d][lvl] for d, lvl in enumerate(levels)))


def summarize(
    summary: ClassSummary,
    n_rows: int,
    sizes_of_domains: np.ndarray,
    entropy: float | None = None,
) -> dict[str, float]:
    """All utility figures of a release, for the result and the report."""
    metrics: dict[str, float] = {
        "loss": loss(summary, n_rows, sizes_of_domains),
        "discernibility": discernibility(summary, n_rows),
        "aecs": aecs(summary),
        "classes": float(summary.released_classes),
        "suppressed_rows": float(summary.suppressed_rows),
        "suppressed_fraction": summary.suppressed_rows / n_rows if n_rows else 0.0,
    }
    if entropy is not None:
        metrics["non_uniform_entropy"] = entropy
    return metrics
