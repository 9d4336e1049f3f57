"""Utility metrics match ARX's definitions (checked against ARX's golden values); risk figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulsecrm.deid.engine import AnonymizationSpec, anonymize
from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.lattice import evaluate_node
from pulsecrm.deid.metrics import ClassSummary, aecs, discernibility, loss
from pulsecrm.deid.privacy_models import KAnonymity
from pulsecrm.deid.qi_encoding import EncodedTable
from pulsecrm.deid.risk import assess_risk
from tests.deid.arx_reference_data import adult


@pytest.fixture(scope="module")
def adult_table(shared_dir):
    df, hierarchies = adult(shared_dir)
    return EncodedTable.encode(df, hierarchies, [])


@pytest.mark.req("E3")
def test_loss_at_arx_golden_node(adult_table):
    """ARX TestAnonymizationKAnonymity/Loss: k=5, 100 % suppression → 0.22041."""
    report = evaluate_node(adult_table, [KAnonymity(5)], (0, 3, 0, 0, 2, 1, 1, 1, 0), 1.0)
    assert report.passes
    assert report.metrics["loss"] == pytest.approx(0.22041, abs=5e-6)


@pytest.mark.req("E3")
@pytest.mark.parametrize(
    ("levels", "expected"),
    [
        ((1, 0, 1, 1, 3, 2, 2, 0, 1), 255559.85455731067),  # ARX: k=5, 4 % suppression
        ((1, 2, 1, 1, 3, 2, 2, 1, 1), 407289.5388925293),  # ARX: k=5, 0 % suppression
        ((1, 1, 1, 1, 3, 2, 2, 1, 1), 379417.3460570988),  # ARX: k=100, 4 % suppression
    ],
)
def test_non_uniform_entropy_at_arx_golden_nodes(adult_table, levels, expected):
    report = evaluate_node(adult_table, [KAnonymity(5)], levels, 0.04)
    assert report.metrics["non_uniform_entropy"] == pytest.approx(expected, rel=1e-12)


def test_loss_is_zero_untouched_and_one_fully_suppressed(adult_table):
    bottom = evaluate_node(adult_table, [KAnonymity(1)], (0,) * 9, 0.0)
    assert bottom.metrics["loss"] == 0.0
    top_levels = tuple(q.levels - 1 for q in adult_table.qis)
    top = evaluate_node(adult_table, [KAnonymity(1)], top_levels, 0.0)
    assert top.metrics["loss"] == pytest.approx(1.0)
    everything_suppressed = evaluate_node(adult_table, [KAnonymity(40_000)], (0,) * 9, 1.0)
    assert everything_suppressed.metrics["loss"] == pytest.approx(1.0)


def test_suppressed_records_cost_one_per_attribute():
    # Two attributes, domain size 4 each; 4 rows; one released class of 3 rows at a
    # value covering 2 of 4 leaves (share 1/2) and one suppressed row.
    summary = ClassSummary(
        sizes=np.array([3, 1]),
        released=np.array([True, False]),
        shares=np.array([[0.5, 0.25], [0.5, 0.25]]),
    )
    # raw = 3·0.5 + 1 = 2.5; normalised (2.5 − 1)/(4 − 1) = 0.5 per attribute.
    assert loss(summary, 4, np.array([4.0, 4.0])) == pytest.approx(0.5)
    # Discernibility: 3² + n·1 = 13.  AECS counts released records only: 3 / 1.
    assert discernibility(summary, 4) == 13.0
    assert aecs(summary) == 3.0


def test_geometric_mean_aggregation_of_attributes():
    summary = ClassSummary(
        sizes=np.array([4]), released=np.array([True]), shares=np.array([[1.0], [0.25]])
    )
    # Attribute 1 fully generalised (1.0), attribute 2 untouched (0.0): (2·1)^(1/2) − 1.
    assert loss(summary, 4, np.array([4.0, 4.0])) == pytest.approx(np.sqrt(2) - 1)


def test_evaluate_node_rejects_bad_levels():
    df = pd.DataFrame({"a": ["x", "y"]})
    table = EncodedTable.encode(df, {"a": Hierarchy.from_rows("a", [["x", "*"], ["y", "*"]])}, [])
    with pytest.raises(ValueError, match=r"outside 0\.\.1"):
        evaluate_node(table, [KAnonymity(1)], (2,), 0.0)


# ---------------------------------------------------------------------- risk
def _release() -> pd.DataFrame:
    # Classes of sizes 1, 2 and 3 (plus one suppressed record, ignored).
    return pd.DataFrame(
        {
            "age": ["20-29", "30-39", "30-39", "40-49", "40-49", "40-49", "*"],
            "sex": ["F", "M", "M", "F", "F", "F", "*"],
        }
    )


@pytest.mark.req("E3")
def test_prosecutor_and_marketer_risk_without_population():
    suppressed = np.array([False] * 6 + [True])
    risk = assess_risk(_release(), ["age", "sex"], suppressed, threshold=0.4)
    assert risk["prosecutor_max"] == 1.0
    assert risk["prosecutor_avg"] == pytest.approx(3 / 6)  # classes / records
    assert risk["marketer"] == pytest.approx(3 / 6)
    assert risk["journalist_max"] == risk["prosecutor_max"]
    assert risk["sample_uniques"] == pytest.approx(1 / 6)
    assert risk["records_at_risk"] == pytest.approx(3 / 6)  # risks 1 and 1/2 exceed 0.4


@pytest.mark.req("E3")
def test_journalist_risk_uses_the_population_class_sizes():
    suppressed = np.array([False] * 6 + [True])
    population = pd.DataFrame(
        {
            "age": ["20-29"] * 4 + ["30-39"] * 2 + ["40-49"] * 6,
            "sex": ["F"] * 4 + ["M"] * 2 + ["F"] * 6,
        }
    )
    risk = assess_risk(_release(), ["age", "sex"], suppressed, population=population)
    assert risk["journalist_max"] == pytest.approx(1 / 2)
    assert risk["journalist_avg"] == pytest.approx((1 / 4 + 2 / 2 + 3 / 6) / 6)
    assert risk["prosecutor_max"] == 1.0


def test_engine_generalises_the_population_for_journalist_risk(shared_dir):
    df, hierarchies = adult(shared_dir)
    sample = df.sample(n=3000, random_state=1).reset_index(drop=True)
    spec = AnonymizationSpec(hierarchies, [KAnonymity(5)], suppression_limit=0.05)
    result = anonymize(sample, spec, population=df)
    assert result.verified
    assert result.risk["prosecutor_max"] <= 1 / 5
    assert result.risk["journalist_max"] <= result.risk["prosecutor_max"]
    assert result.risk["journalist_avg"] < result.risk["prosecutor_avg"]
