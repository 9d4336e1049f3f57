"""Re-identification risk of a released table under the classic attacker models.

All figures are computed over the *released* records: suppressed records carry
no quasi-identifier information, so they are excluded (as ARX does for its risk
estimates of the output).

* **Prosecutor** — the attacker knows the target is in the release: a record's
  risk is ``1 / size of its class``.  We report the maximum and the average over
  records (= classes / records).
* **Journalist** — the attacker links against a population table: a record's
  risk is ``1 / size of the matching population class``.  Without a population
  table it equals the prosecutor risk (the sample is its own population).
* **Marketer** — the expected fraction of records an attacker re-identifies when
  linking everyone: ``classes / records`` without a population, else
  ``(1/n) Σ_class f / F``.
* **Sample uniques** — fraction of released records alone in their class.
* **Records at risk** — fraction whose prosecutor risk exceeds ``threshold``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

DEFAULT_RISK_THRESHOLD = 0.2


def class_sizes(released: pd.DataFrame, quasi_identifiers: list[str]) -> np.ndarray:
    """Size of the class of every released record (records in input order)."""
    if released.empty:
        return np.zeros(0, dtype=np.int64)
    keys = released[quasi_identifiers].astype(str)
    return (
        keys.groupby(quasi_identifiers, sort=False, dropna=False)[quasi_identifiers[0]]
        .transform("size")
        .to_numpy(dtype=np.int64)
    )


def assess_risk(
    data: pd.DataFrame,
    quasi_identifiers: list[str],
    suppressed: np.ndarray | None = None,
    population: pd.DataFrame | None = None,
    threshold: float = DEFAULT_RISK_THRESHOLD,
) -> dict[str, float]:
    """Risk figures of ``data`` (already generalised); ``population`` must be generalised alike."""
    mask = np.zeros(len(data), dtype=bool) if suppressed is None else np.asarray(suppressed)
    released = data.loc[~mask, quasi_identifiers]
    n = len(released)
    if n == 0:
        return {
            "prosecutor_max": 0.0,
            "prosecutor_avg": 0.0,
            "journalist_max": 0.0,
            "journalist_avg": 0.0,
            "marketer": 0.0,
            "sample_uniques": 0.0,
            "records_at_risk": 0.0,
            "risk_threshold": threshold,
        }
    sizes = class_sizes(released, quasi_identifiers)
    record_risk = 1.0 / sizes
    classes = float(record_risk.sum())  # Σ over records of 1/size = number of classes
    result = {
        "prosecutor_max": float(record_risk.max()),
        "prosecutor_avg": classes / n,
        "sample_uniques": float((sizes == 1).mean()),
        "records_at_risk": float((record_risk > threshold).mean()),
        "risk_threshold": threshold,
    }
    if population is None:
        result.update(
            journalist_max=result["prosecutor_max"],
            journalist_avg=result["prosecutor_avg"],
            marketer=classes / n,
        )
        return result
    pop_keys = population[quasi_identifiers].astype(str)
    pop_sizes = pop_keys.value_counts(sort=False)
    rel_keys = pd.MultiIndex.from_frame(released.astype(str))
    matched = pop_sizes.reindex(rel_keys).to_numpy(dtype=np.float64)
    # A released record always belongs to the population it was drawn from.
    population_size = np.maximum(np.nan_to_num(matched, nan=0.0), sizes)
    journalist = 1.0 / population_size
    result.update(
        journalist_max=float(journalist.max()),
        journalist_avg=float(journalist.mean()),
        marketer=float(journalist.mean()),
    )
    return result
