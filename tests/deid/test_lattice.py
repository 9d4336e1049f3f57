"""The optimal search returns the true optimum: checked by brute force and against ARX."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pulsecrm.deid.engine import AnonymizationSpec, anonymize
from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.lattice import NoSolutionError, OptimalSearch, evaluate_node
from pulsecrm.deid.privacy_models import (
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    KAnonymity,
)
from pulsecrm.deid.qi_encoding import EncodedTable
from tests.deid.arx_reference_data import adult

SMALL_QIS = ["sex", "age", "race", "education"]


@pytest.fixture(scope="module")
def small_adult(shared_dir):
    """800 Adult rows, four QIs (80 lattice nodes): small enough to brute-force."""
    df, hierarchies = adult(shared_dir)
    sample = df.sample(n=800, random_state=7).reset_index(drop=True)
    return sample, {c: hierarchies[c] for c in SMALL_QIS}


def brute_force_passes(
    df: pd.DataFrame, hierarchies: dict[str, Hierarchy], levels, models, limit: float
) -> bool:
    """Independent pandas check of one node: suppress failing classes, count them."""
    released = pd.DataFrame(
        {
            c: h.generalize(df[c], lvl)
            for (c, h), lvl in zip(hierarchies.items(), levels, strict=True)
        }
    )
    key = released.groupby(list(released.columns), sort=False).ngroup().to_numpy()
    sizes = pd.Series(key).value_counts()
    ok = pd.Series(True, index=sizes.index)
    for model in models:
        if isinstance(model, KAnonymity):
            ok &= sizes >= model.k
            continue
        pairs = pd.DataFrame({"c": key, "v": df[model.attribute].to_numpy()})
        share = (
            pairs.groupby(["c", "v"]).size()
            / sizes.reindex(pairs.groupby(["c", "v"]).size().index.get_level_values("c")).to_numpy()
        )
        if isinstance(model, DistinctLDiversity):
            ok &= share.groupby(level="c").size() >= model.l
        elif isinstance(model, EntropyLDiversity):
            entropy = (-share * np.log(share)).groupby(level="c").sum()
            ok &= entropy >= math.log(model.l) - 1e-9
        elif isinstance(model, EqualDistanceTCloseness):
            q = df[model.attribute].value_counts(normalize=True)
            table = share.unstack(fill_value=0.0).reindex(columns=q.index, fill_value=0.0)
            distance = 0.5 * (table - q).abs().sum(axis=1)
            ok &= distance <= model.t + 1e-9
    suppressed = int(sizes[~ok].sum())
    return suppressed <= math.floor(limit * len(df) + 1e-9)


CASES = [
    ("k=3, 2 %", [KAnonymity(3)], 0.02, "loss", []),
    ("k=10, 0 %", [KAnonymity(10)], 0.0, "loss", []),
    (
        "k=2 + distinct-l=2",
        [KAnonymity(2), DistinctLDiversity("occupation", 2)],
        0.04,
        "loss",
        ["occupation"],
    ),
    (
        "entropy-l=2 (non-monotone with suppression)",
        [EntropyLDiversity("occupation", 2)],
        0.05,
        "loss",
        ["occupation"],
    ),
    (
        "t=0.3 equal distance",
        [EqualDistanceTCloseness("salary-class", 0.3)],
        0.03,
        "loss",
        ["salary-class"],
    ),
    ("k=4 discernibility", [KAnonymity(4)], 0.03, "discernibility", []),
    ("k=4 aecs", [KAnonymity(4)], 0.03, "aecs", []),
    ("k=4 entropy", [KAnonymity(4)], 0.03, "entropy", []),
]


@pytest.mark.req("E3")
@pytest.mark.parametrize(
    ("label", "models", "limit", "metric", "sensitive"), CASES, ids=[c[0] for c in CASES]
)
def test_search_finds_the_brute_force_optimum(small_adult, label, models, limit, metric, sensitive):
    df, hierarchies = small_adult
    table = EncodedTable.encode(df, hierarchies, sensitive)
    outcome = OptimalSearch(table, models, limit, metric).run()
    scores = {}
    for levels in itertools.product(*[range(h.levels) for h in hierarchies.values()]):
        if brute_force_passes(df, hierarchies, levels, models, limit):
            scores[levels] = evaluate_node(table, models, levels, limit).metrics[
                {"entropy": "non_uniform_entropy"}.get(metric, metric)
            ]
    assert scores, "the brute force found no passing node"
    best = min(scores.values())
    assert outcome.levels in scores, f"{label}: search returned a node that does not pass"
    assert outcome.score == pytest.approx(best, rel=1e-9, abs=1e-12)


def test_predictive_tagging_is_only_used_when_sound(small_adult):
    df, hierarchies = small_adult
    table = EncodedTable.encode(df, hierarchies, ["occupation"])
    assert OptimalSearch(table, [KAnonymity(2), DistinctLDiversity("occupation", 2)], 0.05).monotone
    assert not OptimalSearch(table, [EntropyLDiversity("occupation", 2)], 0.05).monotone
    assert OptimalSearch(table, [EntropyLDiversity("occupation", 2)], 0.0).monotone


def test_no_solution_is_reported():
    df = pd.DataFrame({"id": ["a", "b", "c"]})
    flat = Hierarchy.from_rows("id", [["a"], ["b"], ["c"]])  # cannot generalise at all
    table = EncodedTable.encode(df, {"id": flat}, [])
    with pytest.raises(NoSolutionError, match="at most 0 suppressed rows"):
        OptimalSearch(table, [KAnonymity(2)], 0.0).run()


@pytest.mark.req("E3")
def test_search_finds_arx_golden_entropy_node(shared_dir):
    """ARX: k=5, 4 % suppression, non-uniform entropy → [1,0,1,1,3,2,2,0,1], 255 559.855."""
    df, hierarchies = adult(shared_dir)
    table = EncodedTable.encode(df, hierarchies, [])
    outcome = OptimalSearch(table, [KAnonymity(5)], 0.04, "entropy").run()
    assert outcome.levels == (1, 0, 1, 1, 3, 2, 2, 0, 1)
    assert outcome.score == pytest.approx(255559.85455731067, rel=1e-12)


@pytest.mark.req("E3")
def test_search_finds_arx_golden_loss_node(shared_dir):
    """ARX: k=5, 100 % suppression, Loss → [0,3,0,0,2,1,1,1,0], 0.22041."""
    df, hierarchies = adult(shared_dir)
    table = EncodedTable.encode(df, hierarchies, [])
    outcome = OptimalSearch(table, [KAnonymity(5)], 1.0, "loss").run()
    assert outcome.levels == (0, 3, 0, 0, 2, 1, 1, 1, 0)
    assert outcome.score == pytest.approx(0.22041, abs=5e-6)


# ---------------------------------------------------------------------- properties
AGE = Hierarchy.from_rows(
    "age", [[str(a), f"{a // 10 * 10}-{a // 10 * 10 + 9}", "*"] for a in range(20, 60)]
)
ZIP = Hierarchy.from_rows(
    "zip", [[z, z[:4] + "*", "*"] for z in ("10001", "10002", "10011", "10012", "10021")]
)
SEX = Hierarchy.from_rows("sex", [["F", "*"], ["M", "*"]])


@st.composite
def small_tables(draw):
    n = draw(st.integers(min_value=12, max_value=60))
    rows = {
        "age": draw(st.lists(st.integers(20, 59), min_size=n, max_size=n)),
        "zip": draw(st.lists(st.sampled_from(ZIP.values), min_size=n, max_size=n)),
        "sex": draw(st.lists(st.sampled_from(["F", "M"]), min_size=n, max_size=n)),
        "dx": draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=n, max_size=n)),
    }
    df = pd.DataFrame(rows).astype(str)
    k = draw(st.integers(2, 4))
    limit = draw(st.sampled_from([0.0, 0.1, 0.3]))
    models = [KAnonymity(k)]
    if draw(st.booleans()) and df["dx"].nunique() >= 2:
        models.append(DistinctLDiversity("dx", 2))
    return df, models, limit


@pytest.mark.req("E3")
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables())
def test_random_tables_get_the_optimal_verified_release(case):
    df, models, limit = case
    hierarchies = {"age": AGE, "zip": ZIP, "sex": SEX}
    sensitive = ["dx"] if len(models) > 1 else []
    table = EncodedTable.encode(df, hierarchies, sensitive)
    passing = {
        levels: evaluate_node(table, models, levels, limit).metrics["loss"]
        for levels in itertools.product(range(3), range(3), range(2))
        if brute_force_passes(df, hierarchies, levels, models, limit)
    }
    spec = AnonymizationSpec(hierarchies, models, suppression_limit=limit)
    if not passing:
        with pytest.raises(NoSolutionError):
            anonymize(df, spec)
        return
    result = anonymize(df, spec)
    assert result.verified
    assert result.metrics["loss"] == pytest.approx(min(passing.values()), abs=1e-9)
    assert result.suppressed.sum() <= math.floor(limit * len(df) + 1e-9)
    released = result.data.loc[~result.suppressed, list(hierarchies)]
    if len(released):
        assert released.value_counts().min() >= models[0].k
