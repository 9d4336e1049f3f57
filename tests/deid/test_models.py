"""Privacy models on hand-made classes whose answers are known, and config validation."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from pulsecrm.deid.engine import AnonymizationSpec, DeidConfigError, anonymize
from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.privacy_models import (
    ClassView,
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    HierarchicalDistanceTCloseness,
    KAnonymity,
    RecursiveCLDiversity,
    SensitiveCells,
)
from pulsecrm.deid.verify import hierarchical_emd
from tests.deid.arx_reference_data import toy_medical


def view_of(classes: list[list[str]], reference: list[str] | None = None) -> ClassView:
    """A ClassView for classes given as lists of sensitive values (attribute ``s``)."""
    everything = [v for cls in classes for v in cls] if reference is None else reference
    labels = np.array(sorted(set(everything) | {v for c in classes for v in c}), dtype=object)
    code = {v: i for i, v in enumerate(labels)}
    class_ids, codes, counts = [], [], []
    for i, cls in enumerate(classes):
        values, value_counts = np.unique([code[v] for v in cls], return_counts=True)
        class_ids += [i] * len(values)
        codes += values.tolist()
        counts += value_counts.tolist()
    cells = SensitiveCells(
        class_ids=np.array(class_ids),
        codes=np.array(codes),
        counts=np.array(counts),
        labels=labels,
        global_counts=np.bincount([code[v] for v in everything], minlength=len(labels)),
    )
    return ClassView(sizes=np.array([len(c) for c in classes]), sensitive={"s": cells})


def test_k_anonymity_accepts_classes_of_at_least_k():
    view = view_of([["a", "b"], ["a"] * 5, ["c"]])
    assert KAnonymity(2).class_ok(view).tolist() == [True, True, False]


def test_distinct_l_diversity_counts_distinct_values():
    view = view_of([["a", "a", "b"], ["a", "b", "c"]])
    assert DistinctLDiversity("s", 3).class_ok(view).tolist() == [False, True]


def test_entropy_l_diversity_compares_entropy_with_log_l():
    view = view_of([["a", "b"], ["a", "a", "a", "b"], ["a", "b", "c", "d"]])
    # Entropies: ln 2, 0.562 (< ln 2), ln 4.
    assert EntropyLDiversity("s", 2).class_ok(view).tolist() == [True, False, True]
    assert EntropyLDiversity("s", 4).class_ok(view).tolist() == [False, False, True]


def test_recursive_c_l_diversity_follows_machanavajjhala():
    # Frequencies 3, 2, 1: r1 < c·(r_l + … + r_m).
    view = view_of([["a"] * 3 + ["b"] * 2 + ["c"]])
    assert RecursiveCLDiversity("s", c=2, l=2).class_ok(view).tolist() == [True]  # 3 < 2·3
    assert RecursiveCLDiversity("s", c=1, l=2).class_ok(view).tolist() == [False]  # 3 < 1·3
    assert RecursiveCLDiversity("s", c=4, l=3).class_ok(view).tolist() == [True]  # 3 < 4·1
    assert RecursiveCLDiversity("s", c=3, l=3).class_ok(view).tolist() == [False]  # 3 < 3·1
    assert RecursiveCLDiversity("s", c=9, l=4).class_ok(view).tolist() == [False]  # no r4


def test_equal_distance_t_closeness_is_total_variation():
    # Global: a 1/2, b 1/2.  Class 1 = global (0); class 2 all "a" (distance 1/2).
    view = view_of([["a", "b"], ["a", "a"]], reference=["a", "b", "a", "b"])
    assert EqualDistanceTCloseness("s", 0.49).class_ok(view).tolist() == [True, False]
    assert EqualDistanceTCloseness("s", 0.5).class_ok(view).tolist() == [True, True]


def test_hierarchical_t_closeness_on_the_disease_hierarchy(shared_dir):
    df, hierarchies = toy_medical(shared_dir)
    disease = hierarchies["Disease"]
    everything = df["Disease"].tolist()
    # Li et al.'s class {gastric ulcer, stomach cancer, pneumonia} against the table:
    # level 1 moves 2/9 inside "stomach disease" and 2/9 inside "respiratory
    # infection" (each at cost 1/3), level 3 moves 1/9 across the root (cost 1):
    # 2/27 + 2/27 + 3/27 = 7/27.
    classes = [["gastric ulcer", "stomach cancer", "pneumonia"], ["gastritis", "flu", "bronchitis"]]
    view = view_of(classes, reference=everything)
    model = HierarchicalDistanceTCloseness("s", 0.26, disease)
    emd = model.emd(view)
    assert emd[0] == pytest.approx(7 / 27)
    assert model.class_ok(view).tolist() == [True, False]
    # The verifier's independent tree walk agrees with the vectorised version.
    q = pd.Series(everything).value_counts(normalize=True).to_dict()
    for i, cls in enumerate(classes):
        p = pd.Series(cls).value_counts(normalize=True).to_dict()
        assert hierarchical_emd(p, q, disease) == pytest.approx(emd[i])
    # A class with the global distribution is at distance 0.
    assert model.emd(view_of([everything], reference=everything))[0] == pytest.approx(0.0)


def test_models_reject_nonsense_parameters():
    with pytest.raises(ValueError, match="k must be a positive integer"):
        KAnonymity(0)
    with pytest.raises(ValueError, match=r"t must be in \[0, 1\]"):
        EqualDistanceTCloseness("s", 1.5)
    with pytest.raises(ValueError, match="l must be >= 1"):
        EntropyLDiversity("s", 0.5)


def test_describe_names_the_parameters():
    assert DistinctLDiversity("diagnosis", 3).describe() == {
        "model": "distinct-l-diversity",
        "attribute": "diagnosis",
        "l": 3,
    }
    assert math.isclose(RecursiveCLDiversity("d", 2.5, 3).describe()["c"], 2.5)


# ---------------------------------------------------------------------- config errors
@pytest.fixture
def small():
    df = pd.DataFrame({"age": ["30", "31", "40", "41"], "dx": ["a", "b", "a", "b"]})
    age = Hierarchy.from_rows(
        "age",
        [["30", "30-39", "*"], ["31", "30-39", "*"], ["40", "40-49", "*"], ["41", "40-49", "*"]],
    )
    return df, age


def _fails_before_search(monkeypatch):
    """Make any search attempt blow up, so a DeidConfigError proves validation came first."""

    def boom(*args, **kwargs):
        raise AssertionError("search started before validation")

    monkeypatch.setattr("pulsecrm.deid.engine.OptimalSearch", boom)
    monkeypatch.setattr("pulsecrm.deid.engine.EncodedTable.encode", boom)


def test_unknown_column_is_named(small, monkeypatch):
    df, age = small
    _fails_before_search(monkeypatch)
    with pytest.raises(DeidConfigError, match="unknown quasi-identifier column 'agee'"):
        anonymize(df, AnonymizationSpec({"agee": age}, [KAnonymity(2)]))
    with pytest.raises(DeidConfigError, match="unknown sensitive column 'diagnosis'"):
        anonymize(df, AnonymizationSpec({"age": age}, [DistinctLDiversity("diagnosis", 2)]))


def test_hierarchy_missing_a_value_is_named(small, monkeypatch):
    df, age = small
    df = df.assign(age=["30", "31", "40", "57"])
    _fails_before_search(monkeypatch)
    with pytest.raises(DeidConfigError, match=r"column 'age'.*'57'"):
        anonymize(df, AnonymizationSpec({"age": age}, [KAnonymity(2)]))


def test_k_larger_than_the_table_is_refused(small, monkeypatch):
    df, age = small
    _fails_before_search(monkeypatch)
    with pytest.raises(DeidConfigError, match=r"at least 5 rows but the table has only 4"):
        anonymize(df, AnonymizationSpec({"age": age}, [KAnonymity(5)]))


@pytest.mark.parametrize("limit", [-0.1, 1.5])
def test_suppression_limit_outside_unit_interval_is_refused(small, monkeypatch, limit):
    df, age = small
    _fails_before_search(monkeypatch)
    with pytest.raises(DeidConfigError, match=r"suppression limit .* outside \[0, 1\]"):
        anonymize(df, AnonymizationSpec({"age": age}, [KAnonymity(2)], suppression_limit=limit))


def test_l_above_distinct_values_and_qi_as_sensitive_are_refused(small, monkeypatch):
    df, age = small
    _fails_before_search(monkeypatch)
    with pytest.raises(
        DeidConfigError, match=r"'dx' has only 2 distinct value\(s\), fewer than l=3"
    ):
        anonymize(df, AnonymizationSpec({"age": age}, [DistinctLDiversity("dx", 3)]))
    with pytest.raises(DeidConfigError, match="'age' is both a quasi-identifier and sensitive"):
        anonymize(df, AnonymizationSpec({"age": age}, [DistinctLDiversity("age", 2)]))


def test_no_model_means_k_equals_one(small):
    df, age = small
    result = anonymize(df, AnonymizationSpec({"age": age}, []))
    assert result.levels == (0,)
    assert result.data["age"].tolist() == df["age"].tolist()


def test_oversized_lattice_is_refused_before_search(monkeypatch):
    columns = {f"q{i}": ["a", "b"] for i in range(22)}
    df = pd.DataFrame(columns)
    deep = Hierarchy.from_rows("q", [["a", "x", "*"], ["b", "x", "*"]])
    _fails_before_search(monkeypatch)
    spec = AnonymizationSpec({c: deep for c in columns}, [KAnonymity(2)])
    with pytest.raises(DeidConfigError, match=r"31,381,059,609 nodes.*mondrian"):
        anonymize(df, spec)
