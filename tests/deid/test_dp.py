"""DP aggregates: OpenDP noise, calibrated ε, and a budget that refuses overspending."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulsecrm.deid.dp import BudgetExhaustedError, DPAggregator, DPError, PrivacyBudget

RNG = np.random.default_rng(7)
LEADS = pd.DataFrame(
    {
        "age": RNG.integers(18, 80, 500),
        "spend": RNG.uniform(0, 1000, 500).round(2),
        "stage": RNG.choice(["lead", "deal"], 500),
    }
)


def test_budget_refuses_a_query_once_epsilon_is_spent() -> None:
    aggregator = DPAggregator(LEADS, PrivacyBudget(1.0))
    aggregator.count("n", epsilon=0.5)
    aggregator.sum("total", column="spend", bounds=(0, 1000), epsilon=0.5)
    assert aggregator.budget.spent == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(BudgetExhaustedError, match=r"'again' needs epsilon=0\.1"):
        aggregator.count("again", epsilon=0.1)
    assert [r.name for r in aggregator.releases] == ["n", "total"]  # nothing released


def test_budget_charges_what_opendp_reports_and_refuses_a_too_large_first_query() -> None:
    budget = PrivacyBudget(0.3)
    with pytest.raises(BudgetExhaustedError):
        DPAggregator(LEADS, budget).mean("m", column="age", bounds=(0, 120), epsilon=0.5)
    budget = PrivacyBudget(0.5)
    DPAggregator(LEADS, budget).mean("m", column="age", bounds=(0, 120), epsilon=0.5)
    assert [c.query for c in budget.charges] == ["m (sum)", "m (count)"]
    assert budget.spent <= 0.5 + 1e-9


def test_noisy_count_is_near_the_truth_but_noisy() -> None:
    """ε = 1 discrete Laplace on a count has scale 1: 200 draws stay within ±15 of the
    truth (the chance of one draw outside is ~1e-6), average within ±0.5, and vary."""
    truth = len(LEADS)
    aggregator = DPAggregator(LEADS, PrivacyBudget(200.0))
    values = np.array([aggregator.count(f"n{i}", epsilon=1.0).value for i in range(200)])
    assert np.all(np.abs(values - truth) <= 15)
    assert abs(values.mean() - truth) < 0.5
    assert values.std() > 0.5  # noise is really added
    assert set(np.unique(values)) != {truth}


def test_sum_clamps_to_bounds_and_mean_stays_within_bounds() -> None:
    aggregator = DPAggregator(LEADS, PrivacyBudget(10.0))
    total = aggregator.sum("s", column="spend", bounds=(0, 100), epsilon=5.0)
    # every spend above 100 counts as 100, so the sum is near 100 * (share above 100) ...
    clamped_truth = LEADS["spend"].clip(0, 100).sum()
    assert abs(total.value - clamped_truth) < 10 * total.scale
    mean = aggregator.mean("m", column="age", bounds=(18, 80), epsilon=4.0, where={"stage": "deal"})
    assert 18 <= mean.value <= 80
    assert abs(mean.value - LEADS.loc[LEADS.stage == "deal", "age"].mean()) < 5


def test_malformed_queries_name_the_problem() -> None:
    aggregator = DPAggregator(LEADS, PrivacyBudget(1.0))
    with pytest.raises(DPError, match="column 'salary' is not in the data"):
        aggregator.sum("s", column="salary", bounds=(0, 1), epsilon=0.1)
    with pytest.raises(DPError, match="holds non-number 'lead'"):
        aggregator.sum("s", column="stage", bounds=(0, 1), epsilon=0.1)
    with pytest.raises(DPError, match="low < high"):
        aggregator.sum("s", column="age", bounds=(5, 5), epsilon=0.1)
    with pytest.raises(DPError, match="epsilon must be > 0"):
        PrivacyBudget(0.0)
