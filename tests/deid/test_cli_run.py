"""`pulsecrm deid run` end to end: files written, JSON shape, exit codes, Adult."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from pulsecrm.cli.main import app

ADULT_QIS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
]


@pytest.fixture(autouse=True)
def recipient_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PULSECRM_CLI_KEY", "cli-test-key-0123456789abcdef")


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, ["deid", "run", *map(str, args)])


@pytest.fixture
def small_run(tmp_path: Path) -> tuple[Path, Path]:
    """A lead table with identifiers, two QIs with builder hierarchies, and DP aggregates."""
    rows = 40
    frame = pd.DataFrame(
        {
            "name": [f"Person {i}" for i in range(rows)],
            "phone": [f"138{i:08d}" for i in range(rows)],
            "age": [str(20 + (i * 7) % 50) for i in range(rows)],
            "city_code": [["110101", "110102", "310101", "310104"][i % 4] for i in range(rows)],
            "treatment": [["implant", "whitening", "lasik", "checkup"][i % 4] for i in range(rows)],
            "spend": [str(100 + 13 * i) for i in range(rows)],
        }
    )
    input_path = tmp_path / "leads.csv"
    frame.to_csv(input_path, index=False)
    config = write_yaml(
        tmp_path / "leads.yaml",
        {
            "goal": "share treatment demand by age band and region with agency",
            "columns": {
                "name": {"role": "identifying", "level": 4},
                "phone": {"role": "identifying", "operator": "pseudonym", "level": 4},
                "age": {
                    "role": "quasi",
                    "level": 2,
                    "hierarchy": {"builder": "interval", "params": {"widths": [10, 20]}},
                },
                "city_code": {"role": "quasi", "level": 2, "hierarchy": {"builder": "masking"}},
                "treatment": {"role": "sensitive", "level": 3},
                "spend": {"role": "insensitive"},
            },
            "privacy": {"k": 4, "suppression_limit": 0.1},
            "recipient": {"name": "agency-x", "key_env": "PULSECRM_CLI_KEY"},
            "approval": {"approver": "DPO Li", "approved_at": "2024-06-01T09:00:00"},
            "dp": {
                "epsilon": 1.0,
                "queries": [
                    {"name": "leads", "kind": "count"},
                    {"name": "avg_spend", "kind": "mean", "column": "spend", "bounds": [0, 1000]},
                ],
            },
        },
    )
    return config, input_path


@pytest.mark.req("E3")
def test_run_writes_release_report_and_summary(small_run: tuple[Path, Path]) -> None:
    config, input_path = small_run
    output = input_path.with_name("release.csv")
    result = invoke(config, input_path, output, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    for key in (
        "rows_in",
        "rows_out",
        "suppressed",
        "k",
        "levels",
        "metrics",
        "risk",
        "verified",
        "profile",
        "process_record",
    ):
        assert key in summary, key
    assert summary["rows_in"] == 40 and summary["verified"] is True and summary["k"] >= 4
    assert summary["process_record"]["approval"]["status"] == "approved"
    assert json.loads(output.with_name("release.csv.summary.json").read_text()) == summary

    released = pd.read_csv(output, dtype=str)
    assert "name" not in released.columns
    assert released["phone"].str.fullmatch(r"P-[A-Z2-7]{26}").all()
    assert released.groupby(["age", "city_code"]).size().min() >= 4

    report = output.with_name("release.csv.report.html").read_text()
    image = re.search(r'src="data:image/png;base64,([^"]+)"', report)
    assert image and base64.b64decode(image.group(1)).startswith(b"\x89PNG")
    assert "GB/T 37964-2019" in report and "prosecutor_max" in report
    assert "loading config" in result.stderr  # progress goes to stderr, not stdout


def test_markdown_report_links_its_chart_and_parquet_output(
    small_run: tuple[Path, Path], tmp_path: Path
) -> None:
    config, input_path = small_run
    output = tmp_path / "out" / "release.data"
    report = tmp_path / "out" / "report.md"
    result = invoke(config, input_path, output, "--format", "parquet", "--report", report)
    assert result.exit_code == 0, result.output
    assert len(pd.read_parquet(output)) > 0
    text = report.read_text()
    assert "![Equivalence-class sizes](report.classes.png)" in text
    assert (tmp_path / "out" / "report.classes.png").read_bytes().startswith(b"\x89PNG")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["columns"].update(blood={"role": "insensitive"}), "'blood' not in the input"),
        (lambda d: d["privacy"].update(k=1000), "k=1000 is larger than the input"),
        (lambda d: d["columns"]["treatment"].update(level=5), "level 5"),
        (lambda d: d["recipient"].update(key_env="PULSECRM_NOT_SET"), "is not set"),
    ],
)
def test_bad_config_exits_2_with_the_reason_and_no_traceback(
    small_run: tuple[Path, Path], change: Any, message: str
) -> None:
    config, input_path = small_run
    data = yaml.safe_load(config.read_text())
    change(data)
    write_yaml(config, data)
    output = input_path.with_name("never.csv")
    result = invoke(config, input_path, output)
    assert result.exit_code == 2
    assert message in result.stderr and str(config) in result.stderr.replace("\n", "")
    assert "Traceback" not in result.output
    assert not output.exists()


def test_missing_input_and_unknown_extension_exit_2(small_run: tuple[Path, Path]) -> None:
    config, input_path = small_run
    missing = invoke(config, input_path.with_name("nope.csv"), input_path.with_name("o.csv"))
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    odd = invoke(config, input_path, input_path.with_name("out.xlsx"))
    assert odd.exit_code == 2 and "--format" in odd.stderr


def test_no_solution_exits_3(small_run: tuple[Path, Path], tmp_path: Path) -> None:
    config, input_path = small_run
    data = yaml.safe_load(config.read_text())
    ages = pd.read_csv(input_path, dtype=str)["age"].unique()
    bands = "\n".join(f"{a};{'young' if int(a) < 40 else 'old'}" for a in ages)
    (tmp_path / "age.csv").write_text(bands)  # no fully suppressed '*' level
    data["columns"]["age"]["hierarchy"] = {"file": "age.csv"}
    data["columns"]["city_code"] = {"role": "insensitive"}
    data["privacy"] = {"k": 40, "suppression_limit": 0.0}  # 40 rows, but two age bands
    write_yaml(config, data)
    result = invoke(config, input_path, tmp_path / "o.csv")
    assert result.exit_code == 3, result.output
    assert "no solution" in result.stderr


@pytest.mark.req("E3")
def test_adult_with_arx_hierarchies_is_5_anonymous(shared_dir: Path, tmp_path: Path) -> None:
    adult = shared_dir / "data" / "adult"
    columns: dict[str, Any] = {
        qi: {"role": "quasi", "hierarchy": {"file": str(adult / f"adult_hierarchy_{qi}.csv")}}
        for qi in ADULT_QIS
    }
    columns["salary-class"] = {"role": "sensitive", "level": 3}
    config = write_yaml(
        tmp_path / "adult.yaml",
        {
            "goal": "benchmark release of Adult",
            "input": {"sep": ";"},
            "columns": columns,
            "privacy": {"k": 5, "suppression_limit": 0.04},
        },
    )
    output = tmp_path / "adult.parquet"
    result = invoke(config, adult / "adult.csv", output, "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["rows_in"] == 30162
    assert summary["verified"] is True and summary["k"] >= 5
    assert summary["suppressed"] <= 0.04 * 30162
    released = pd.read_parquet(output)
    assert len(released) == summary["rows_out"]
    assert released.groupby(ADULT_QIS).size().min() >= 5
