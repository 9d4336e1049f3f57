"""The independent re-check agrees with pycanon and catches tampered releases.

pycanon computes every figure over the table it is given, so we hand it the
released (non-suppressed) rows and point our verifier's t-closeness reference at
the same rows.  pycanon's recursive (c,l) sorts frequencies ascending, contrary to
Machanavajjhala et al.'s definition, so that model is checked by hand instead.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pycanon.anonymity as pycanon
import pytest

from pulsecrm.deid.engine import AnonymizationSpec, anonymize
from pulsecrm.deid.privacy_models import (
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    HierarchicalDistanceTCloseness,
    KAnonymity,
    RecursiveCLDiversity,
)
from pulsecrm.deid.verify import verify_release
from tests.deid.arx_reference_data import adult, toy_medical


def released(result, columns):
    return result.data.loc[~result.suppressed, columns].reset_index(drop=True)


@pytest.fixture(scope="module")
def adult_l_diverse(shared_dir):
    df, hierarchies = adult(shared_dir)
    qis = {c: h for c, h in hierarchies.items() if c != "occupation"}
    models = [KAnonymity(50), DistinctLDiversity("occupation", 3)]
    result = anonymize(df, AnonymizationSpec(qis, models, suppression_limit=0.05))
    return result, list(qis)


@pytest.mark.req("E3")
def test_verifier_agrees_with_pycanon_on_adult(adult_l_diverse):
    result, qis = adult_l_diverse
    release = released(result, [*qis, "occupation"])
    models = [
        KAnonymity(50),
        DistinctLDiversity("occupation", 3),
        EntropyLDiversity("occupation", 1.5),
        EqualDistanceTCloseness("occupation", 1.0),
    ]
    report = verify_release(release, qis, models, reference=release)
    assert report.ok, report.failures
    assert report.k == pycanon.k_anonymity(release, qis)
    assert report.measured["distinct_l[occupation]"] == pycanon.l_diversity(
        release, qis, ["occupation"]
    )
    assert math.floor(report.measured["entropy_l[occupation]"]) == pycanon.entropy_l_diversity(
        release, qis, ["occupation"]
    )
    assert report.measured["t[occupation]"] == pytest.approx(
        pycanon.t_closeness(release, qis, ["occupation"]), abs=1e-12
    )


@pytest.mark.req("E3")
def test_verifier_agrees_with_pycanon_on_adult_k5(shared_dir):
    df, hierarchies = adult(shared_dir)
    result = anonymize(df, AnonymizationSpec(hierarchies, [KAnonymity(5)], 0.05))
    release = released(result, list(hierarchies))
    report = verify_release(release, list(hierarchies), [KAnonymity(5)])
    assert report.ok and result.verified
    assert report.k == pycanon.k_anonymity(release, list(hierarchies)) == 5


@pytest.fixture(scope="module")
def toy(shared_dir):
    return toy_medical(shared_dir)


@pytest.mark.req("E3")
@pytest.mark.parametrize(
    "models",
    [
        [KAnonymity(3)],
        [DistinctLDiversity("Disease", 2)],
        [EntropyLDiversity("Disease", 2)],
        [EqualDistanceTCloseness("Disease", 0.4)],
    ],
    ids=["k3", "distinct-l2", "entropy-l2", "t0.4"],
)
def test_verifier_agrees_with_pycanon_on_toy_medical(toy, models):
    df, hierarchies = toy
    qis = {"ZIPCode": hierarchies["ZIPCode"], "Age": hierarchies["Age"]}
    result = anonymize(df, AnonymizationSpec(qis, models))
    assert result.verified
    release = released(result, ["ZIPCode", "Age", "Disease"])
    qi_names = list(qis)
    report = verify_release(release, qi_names, models, reference=release)
    assert report.ok
    assert report.k == pycanon.k_anonymity(release, qi_names)
    model = models[0]
    if isinstance(model, DistinctLDiversity):
        assert report.measured["distinct_l[Disease]"] == pycanon.l_diversity(
            release, qi_names, ["Disease"]
        )
    if isinstance(model, EntropyLDiversity):
        assert math.floor(report.measured["entropy_l[Disease]"]) == (
            pycanon.entropy_l_diversity(release, qi_names, ["Disease"])
        )
    if isinstance(model, EqualDistanceTCloseness):
        assert report.measured["t[Disease]"] == pytest.approx(
            pycanon.t_closeness(release, qi_names, ["Disease"]), abs=1e-12
        )


def test_hierarchical_t_closeness_release_is_verified(toy):
    df, hierarchies = toy
    qis = {"ZIPCode": hierarchies["ZIPCode"], "Age": hierarchies["Age"]}
    model = HierarchicalDistanceTCloseness("Disease", 0.3, hierarchies["Disease"])
    result = anonymize(df, AnonymizationSpec(qis, [model]))
    assert result.verified
    assert result.verification["measured"]["t[Disease]"] <= 0.3


def test_recursive_cl_is_checked_by_definition():
    data = pd.DataFrame(
        {"q": ["x"] * 6 + ["y"] * 4, "s": ["a", "a", "a", "b", "b", "c", "a", "b", "c", "d"]}
    )
    # Class x: 3 < 2·(2+1) passes (c=2, l=2); class y: 1 < 2·(1+1+1) passes.
    assert verify_release(data, ["q"], [RecursiveCLDiversity("s", 2, 2)]).ok
    # c=1: class x fails (3 < 3 is false).
    report = verify_release(data, ["q"], [RecursiveCLDiversity("s", 1, 2)])
    assert not report.ok and "1 class(es) fail" in report.failures[0]


@pytest.mark.req("E3")
def test_tampered_release_fails_verification(adult_l_diverse):
    result, qis = adult_l_diverse
    tampered = result.data.copy()
    first_released = int(np.flatnonzero(~result.suppressed)[0])
    tampered.loc[first_released, "age"] = "a-unique-age"
    report = verify_release(
        tampered, qis, [KAnonymity(50), DistinctLDiversity("occupation", 3)], result.suppressed
    )
    assert not report.ok
    assert any("k-anonymity" in f for f in report.failures)
    assert any("distinct-l-diversity(occupation)" in f for f in report.failures)


def test_suppressed_rows_are_detected_from_stars():
    data = pd.DataFrame({"a": ["*", "x", "x"], "b": ["*", "y", "y"]})
    report = verify_release(data, ["a", "b"], [KAnonymity(2)])
    assert report.ok and report.released_rows == 2
