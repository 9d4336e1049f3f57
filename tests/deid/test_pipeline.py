"""The pipeline end to end in memory: engine integration, verification, Polars API, DP."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
import pytest

from pulsecrm.deid.config import config_from_mapping
from pulsecrm.deid.frames import deidentify
from pulsecrm.deid.lattice import NoSolutionError
from pulsecrm.deid.pipeline import deidentify_frame, equivalence_class_sizes


@pytest.fixture
def toy(shared_dir: Path) -> pd.DataFrame:
    frame = pd.read_csv(shared_dir / "data/toy-medical/test2.csv", sep=";", dtype=str)
    return frame.assign(phone=[f"1380000000{i}" for i in range(len(frame))])


@pytest.fixture(autouse=True)
def recipient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSECRM_TEST_KEY", "pipeline-test-key-0123456789")


def toy_config(shared_dir: Path, **privacy: Any) -> dict[str, Any]:
    hierarchies = shared_dir / "data/toy-medical"
    return {
        "goal": "toy extract",
        "columns": {
            "phone": {"role": "identifying", "operator": "pseudonym", "level": 4},
            "ZIPCode": {
                "role": "quasi",
                "hierarchy": {"file": str(hierarchies / "test2_hierarchy_ZIPCode.csv")},
            },
            "Age": {
                "role": "quasi",
                "hierarchy": {"file": str(hierarchies / "test2_hierarchy_Age.csv")},
            },
            "Salary": {"role": "insensitive"},
            "Disease": {"role": "sensitive", "level": 3},
        },
        "privacy": {"k": 3, **privacy},
        "recipient": {"name": "partner-a", "key_env": "PULSECRM_TEST_KEY"},
    }


@pytest.mark.req("E3")
def test_release_is_k_anonymous_over_the_quasi_identifiers(
    toy: pd.DataFrame, shared_dir: Path
) -> None:
    outcome = deidentify_frame(toy, config_from_mapping(toy_config(shared_dir)))
    released = outcome.data
    sizes = released.groupby(["ZIPCode", "Age"]).size()
    assert sizes.min() >= 3
    assert outcome.summary["k"] >= 3 and outcome.summary["verified"] is True
    assert released["phone"].str.fullmatch(r"P-[A-Z2-7]{26}").all()
    assert not set(toy["phone"]) & set(released["phone"])
    assert outcome.summary["levels"] is not None
    assert set(outcome.summary["levels"]) == {"ZIPCode", "Age"}
    assert outcome.summary["rows_out"] == len(toy) - outcome.summary["suppressed"]


@pytest.mark.req("E3")
def test_suppressed_records_leave_nothing(toy: pd.DataFrame, shared_dir: Path) -> None:
    config = config_from_mapping(toy_config(shared_dir, k=4, suppression_limit=0.5))
    outcome = deidentify_frame(toy, config)
    assert outcome.summary["rows_out"] == len(outcome.data)
    assert not (outcome.data[["ZIPCode", "Age"]] == "*").all(axis=1).any() or (
        outcome.summary["suppressed"] == 0
    )
    assert equivalence_class_sizes(outcome.data, ["ZIPCode", "Age"]).min() >= 4


def test_l_diversity_and_mondrian_are_passed_to_the_engine(
    toy: pd.DataFrame, shared_dir: Path
) -> None:
    data = toy_config(shared_dir, k=2, algorithm="mondrian")
    data["privacy"]["l_diversity"] = [{"attribute": "Disease", "l": 2}]
    outcome = deidentify_frame(toy, config_from_mapping(data))
    assert outcome.summary["levels"] is None  # Mondrian has no lattice levels
    for _, group in outcome.data.groupby(["ZIPCode", "Age"]):
        assert group["Disease"].nunique() >= 2
    assert "distinct-l-diversity" in " ".join(
        outcome.summary["process_record"]["verification"]["privacy_models"]
    )


def test_no_solution_propagates(toy: pd.DataFrame, shared_dir: Path, tmp_path: Path) -> None:
    partial = tmp_path / "age.csv"  # a hierarchy with no fully suppressed top level
    partial.write_text("\n".join(f"{a};{'young' if int(a) < 40 else 'old'}" for a in toy["Age"]))
    data = toy_config(shared_dir, k=9, suppression_limit=0.0)
    data["columns"]["Age"]["hierarchy"] = {"file": str(partial)}
    data["columns"]["ZIPCode"]["hierarchy"]["file"] = str(
        shared_dir / "data/toy-medical/test2_hierarchy_ZIPCode.csv"
    )
    with pytest.raises(NoSolutionError):
        deidentify_frame(toy, config_from_mapping(data))


def test_deidentify_returns_the_callers_frame_type(toy: pd.DataFrame, shared_dir: Path) -> None:
    config = toy_config(shared_dir)
    released_pd, summary_pd = deidentify(toy, config)
    released_pl, summary_pl = deidentify(pl.from_pandas(toy), config)
    assert isinstance(released_pd, pd.DataFrame) and isinstance(released_pl, pl.DataFrame)
    assert released_pl.rows() == [tuple(row) for row in released_pd.itertuples(index=False)]
    assert summary_pd["k"] == summary_pl["k"]
    with pytest.raises(TypeError, match="pandas or Polars"):
        deidentify([1, 2], config)  # type: ignore[arg-type]


def test_dp_aggregates_run_on_the_input_within_the_budget(
    toy: pd.DataFrame, shared_dir: Path
) -> None:
    data = toy_config(shared_dir)
    data["dp"] = {
        "epsilon": 2.0,
        "queries": [
            {"name": "patients", "kind": "count"},
            {"name": "salary_total", "kind": "sum", "column": "Salary", "bounds": [0, 20]},
        ],
    }
    outcome = deidentify_frame(toy, config_from_mapping(data))
    dp = outcome.summary["dp"]
    assert dp["epsilon_spent"] <= 2.0 + 1e-9
    assert [r["name"] for r in dp["releases"]] == ["patients", "salary_total"]
    assert "pure" in dp["accounting"]
    assert outcome.summary["process_record"]["dp_releases"] == dp["releases"]
