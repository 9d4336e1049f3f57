"""Config validation: every bad config fails before any work, naming file, key and rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from pulsecrm.deid.config import ConfigError, config_from_mapping, load_config
from pulsecrm.deid.run_plan import plan_run

TOY = pd.DataFrame(
    {
        "phone": ["13800000001", "13800000002", "13800000003", "13800000004"],
        "age": ["29", "22", "27", "43"],
        "zip": ["47677", "47602", "47678", "47905"],
        "disease": ["flu", "gastritis", "flu", "cancer"],
    }
)
AGE_ROWS = [["29", "20-29", "*"], ["22", "20-29", "*"], ["27", "20-29", "*"], ["43", "40-49", "*"]]


def write_yaml(tmp_path: Path, data: dict[str, Any], name: str = "run.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def good_config(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "hier").mkdir(exist_ok=True)
    (tmp_path / "hier" / "age.csv").write_text("\n".join(";".join(r) for r in AGE_ROWS))
    return {
        "goal": "test extract",
        "columns": {
            "phone": {"role": "identifying", "operator": "pseudonym", "level": 4},
            "age": {"role": "quasi", "hierarchy": {"file": "hier/age.csv"}},
            "zip": {"role": "quasi", "hierarchy": {"builder": "masking"}},
            "disease": {"role": "sensitive", "level": 3},
        },
        "privacy": {"k": 2, "suppression_limit": 0.5},
        "recipient": {"name": "partner-a", "key_env": "PULSECRM_TEST_KEY"},
    }


@pytest.fixture(autouse=True)
def recipient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSECRM_TEST_KEY", "a-test-key-of-enough-length-0123")


def test_a_good_config_plans_with_relative_hierarchy_paths(tmp_path: Path) -> None:
    config = load_config(write_yaml(tmp_path, good_config(tmp_path)))
    plan = plan_run(config, TOY)
    assert list(plan.quasi_identifiers) == ["age", "zip"]
    assert plan.quasi_identifiers["age"].levels == 3
    assert plan.recipient_key == b"a-test-key-of-enough-length-0123"


def test_yaml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("goal: x\ncolumns:\n  a: {role: quasi\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


def test_schema_errors_name_the_key_path(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    data["columns"]["age"]["level"] = 7
    with pytest.raises(ConfigError) as info:
        load_config(write_yaml(tmp_path, data))
    assert info.value.key_path == "columns.age.level"
    assert "less than or equal to 5" in info.value.rule
    assert str(tmp_path / "run.yaml") in str(info.value)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["columns"]["age"].pop("hierarchy"), "quasi-identifier needs a 'hierarchy'"),
        (lambda d: d["columns"]["age"].update(role="boss"), "Input should be"),
        (lambda d: d["privacy"].update(algorithm="greedy"), "'optimal' or 'mondrian'"),
        (
            lambda d: d["privacy"].update(l_diversity=[{"attribute": "age", "l": 2}]),
            "attribute 'age' must be a column with role 'sensitive'",
        ),
        (lambda d: d["recipient"].update(key="hunter2"), "inline keys are not allowed"),
        (lambda d: d.pop("recipient"), "use keyed operators; add a 'recipient'"),
        (lambda d: d.pop("goal"), "goal"),
        (
            lambda d: d.update(dp={"epsilon": 1, "queries": [{"name": "s", "kind": "sum"}]}),
            "a sum needs 'column' and 'bounds'",
        ),
    ],
)
def test_invalid_configs_are_refused_with_the_rule(
    tmp_path: Path, change: Any, message: str
) -> None:
    data = good_config(tmp_path)
    change(data)
    with pytest.raises(ConfigError, match=message):
        load_config(write_yaml(tmp_path, data))


def test_unknown_column_is_named(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    data["columns"]["blood_type"] = {"role": "insensitive"}
    with pytest.raises(ConfigError, match="'blood_type' not in the input") as info:
        plan_run(load_config(write_yaml(tmp_path, data)), TOY)
    assert info.value.key_path == "columns.blood_type"


def test_undeclared_input_columns_are_refused_unless_dropped(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    frame = TOY.assign(notes="x")
    with pytest.raises(ConfigError, match="'notes' have no entry"):
        plan_run(load_config(write_yaml(tmp_path, data)), frame)
    data["undeclared_columns"] = "drop"
    assert plan_run(load_config(write_yaml(tmp_path, data)), frame).undeclared_dropped == ["notes"]


def test_hierarchy_missing_a_value_is_named_before_any_work(tmp_path: Path) -> None:
    config = load_config(write_yaml(tmp_path, good_config(tmp_path)))
    with pytest.raises(ConfigError, match="no entry for '61'") as info:
        plan_run(config, TOY.assign(age=["29", "22", "27", "61"]))
    assert info.value.key_path == "columns.age.hierarchy"


def test_missing_hierarchy_file_is_named(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    data["columns"]["age"]["hierarchy"] = {"file": "nowhere/age.csv"}
    with pytest.raises(ConfigError, match=r"hierarchy file .*nowhere/age\.csv.* does not exist"):
        plan_run(load_config(write_yaml(tmp_path, data)), TOY)


def test_k_larger_than_the_data_is_refused(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    data["privacy"]["k"] = 50
    with pytest.raises(ConfigError, match=r"k=50 is larger than the input \(4 rows\)") as info:
        plan_run(load_config(write_yaml(tmp_path, data)), TOY)
    assert info.value.key_path == "privacy.k"


def test_level_5_column_not_suppressed_is_refused(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    data["columns"]["disease"]["level"] = 5
    with pytest.raises(ConfigError, match="'disease' is GB/T 39725 level 5"):
        plan_run(load_config(write_yaml(tmp_path, data)), TOY)


def test_identifying_column_must_not_leave_readable(tmp_path: Path) -> None:
    data = good_config(tmp_path)
    data["columns"]["phone"] = {
        "role": "identifying",
        "operator": "mask",
        "params": {"keep_first": 3, "keep_last": 4},
    }
    with pytest.raises(ConfigError, match="identifying and must be removed"):
        plan_run(load_config(write_yaml(tmp_path, data)), TOY)


def test_recipient_key_comes_from_env_or_file_never_inline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = good_config(tmp_path)
    monkeypatch.delenv("PULSECRM_TEST_KEY")
    with pytest.raises(ConfigError, match=r"'PULSECRM_TEST_KEY'.*is not set"):
        load_config(write_yaml(tmp_path, data)).recipient_key()
    (tmp_path / "partner.key").write_text("file-key-file-key-file-key\n")
    data["recipient"] = {"name": "partner-a", "key_file": "partner.key"}
    assert load_config(write_yaml(tmp_path, data)).recipient_key() == b"file-key-file-key-file-key"
    (tmp_path / "short.key").write_text("short")
    data["recipient"] = {"name": "partner-a", "key_file": "short.key"}
    with pytest.raises(ConfigError, match="shorter than 16 bytes"):
        load_config(write_yaml(tmp_path, data)).recipient_key()


def test_dp_epsilons_split_what_fixed_queries_leave() -> None:
    config = config_from_mapping(
        {
            "goal": "g",
            "columns": {"a": {"role": "insensitive"}},
            "dp": {
                "epsilon": 1.0,
                "queries": [
                    {"name": "n", "kind": "count", "epsilon": 0.5},
                    {"name": "m", "kind": "mean", "column": "a", "bounds": [0, 1]},
                    {"name": "c", "kind": "count"},
                ],
            },
        }
    )
    assert config.dp is not None and config.dp.epsilons() == [0.5, 0.25, 0.25]
