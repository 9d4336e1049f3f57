"""`pulsecrm deid export-people`: a k-anonymous extract of the CRM's people, read
through the kernel, audited, and free of identifiers — on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from pulsecrm.cli.main import app
from pulsecrm.crm.tables import person
from pulsecrm.deid.config import ConfigError
from pulsecrm.deid.people_export import PURPOSE, ExportFiles, ExportRefused, export_people
from pulsecrm.kernel.errors import AccessDenied
from pulsecrm.kernel.runtime import Kernel, build_kernel
from tests.conftest import REPO_ROOT
from tests.helpers import audit_rows, ctx, import_synthetic

EXAMPLE = REPO_ROOT / "docs" / "examples" / "export-people.yaml"
QIS = ["gender", "birth_year", "city", "source_channel"]
READ_ACTIONS = ("read", "reveal")


@pytest.fixture
def crm(kernel: Kernel) -> tuple[list[dict[str, str]], list[str]]:
    """400 imported people, an analyst account; returns (imported rows, subject ids)."""
    report, people = import_synthetic(kernel, 400)
    assert report.created == 400
    ctx(kernel, "analyst", PURPOSE)  # creates test.analyst
    with kernel.engine.connect() as conn:
        ids = [str(r[0]) for r in conn.execute(select(person.c.id))]
    return people, ids


def example_config(tmp_path: Path, name: str = "export.yaml", **changes: Any) -> Path:
    """The shipped example, changed, written beside absolute hierarchy paths."""
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    for column in ("city", "source_channel"):
        hierarchy = data["columns"][column]["hierarchy"]
        hierarchy["file"] = str(EXAMPLE.parent / hierarchy["file"])
    columns = changes.pop("columns", {})
    data["columns"].update(columns)
    data["columns"] = {k: v for k, v in data["columns"].items() if v is not None}
    data.update(changes)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def reads(kernel: Kernel) -> list[dict[str, object]]:
    return [r for r in audit_rows(kernel, purpose=PURPOSE) if r["action"] in READ_ACTIONS]


def exports(kernel: Kernel) -> list[dict[str, object]]:
    return audit_rows(kernel, action="export")


def detail(row: dict[str, object]) -> dict[str, Any]:
    return dict(json.loads(str(row["detail"])))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoke(*args: str | Path) -> Any:
    return CliRunner().invoke(app, [str(a) for a in args])


def forbidden_strings(people: list[dict[str, str]], ids: list[str]) -> set[str]:
    """Every identifier of every imported person, in the spellings an extract could carry."""
    found: set[str] = set(ids)
    for p in people:
        found |= {p["name"], p["phone"], "+86" + p["phone"], p["email"], p["id_number"]}
        found.add(p["birth_date"])
    return found


@pytest.mark.req("E3", "D2", "H6")
def test_export_is_k_anonymous_identifier_free_and_audited(  # type: ignore[no-untyped-def]
    kernel, installed, crm, tmp_path
) -> None:
    people, ids = crm
    kernel.close()
    output = tmp_path / "out" / "people.csv"
    result = invoke("deid", "export-people", EXAMPLE, output, "--user", "test.analyst", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)

    # k-anonymous at the configured k, re-checked here on the file itself.
    extract = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(extract.columns) == QIS  # no id column of any kind
    assert int(extract.groupby(QIS).size().min()) >= 5
    assert summary["k"] >= 5 and summary["verified"] is True
    assert len(extract) == summary["rows_out"] >= 0.95 * 400  # suppression limit 5 %

    # No identifier or internal subject id in anything written.
    record_file = output.with_name("people.csv.process-record.json")
    written = [
        output,
        record_file,
        output.with_name("people.csv.summary.json"),
        output.with_name("people.csv.report.html"),
    ]
    forbidden = forbidden_strings(people, ids)
    for path in written:
        text = path.read_bytes().decode("utf-8")
        leaked = sorted(s for s in forbidden if s in text)
        assert not leaked, f"{path.name} holds {leaked[:3]}"

    again = build_kernel(installed)
    try:
        # One vault read entry per exported person, nothing else read for this purpose.
        read_rows = reads(again)
        assert sorted(str(r["subject"]) for r in read_rows) == sorted(ids)
        assert {(r["actor"], r["outcome"]) for r in read_rows} == {("test.analyst", "allowed")}
        assert {r["fields"] for r in read_rows} == {",".join(sorted(QIS))}
        # One export entry vouching for the extract and the process record.
        [entry] = exports(again)
        assert (entry["actor"], entry["outcome"], entry["subject"]) == (
            "test.analyst",
            "allowed",
            None,
        )
        facts = detail(entry)
        assert facts["output_sha256"] == sha256(output)
        assert facts["process_record_sha256"] == sha256(record_file)
        assert facts["rows"] == len(extract) and facts["k"] == summary["k"]
        assert facts["config_sha256"] == summary["process_record"]["config_sha256"]
        assert summary["export"]["audit_seq"] == entry["seq"]
    finally:
        again.close()
    assert json.loads(record_file.read_text(encoding="utf-8")) == summary["process_record"]
    verified = invoke("audit", "verify")
    assert verified.exit_code == 0 and verified.stdout.startswith("OK"), verified.output


@pytest.mark.req("D2", "H6")
def test_consultant_is_denied_and_the_denial_audited(  # type: ignore[no-untyped-def]
    kernel, installed, crm, tmp_path
) -> None:
    kernel.close()
    output = tmp_path / "out" / "people.csv"
    result = invoke("deid", "export-people", EXAMPLE, output)  # the local operator: consultant
    assert result.exit_code == 2
    assert "access denied" in result.output and "gender" in result.output
    assert "Traceback" not in result.output
    assert not output.parent.exists()
    again = build_kernel(installed)
    try:
        assert reads(again) == []
        [entry] = exports(again)
        assert (entry["role"], entry["outcome"], entry["purpose"]) == (
            "consultant",
            "denied",
            PURPOSE,
        )
    finally:
        again.close()


@pytest.mark.req("D2", "E3")
def test_config_naming_phone_is_refused_before_any_read(  # type: ignore[no-untyped-def]
    kernel, installed, crm, tmp_path
) -> None:
    config = example_config(tmp_path, columns={"phone": {"role": "identifying", "level": 4}})
    kernel.close()
    output = tmp_path / "people.csv"
    result = invoke("deid", "export-people", config, output, "--user", "test.analyst")
    assert result.exit_code == 2, result.output
    assert "columns.phone" in result.output and "identifier" in result.output
    assert not output.exists()
    again = build_kernel(installed)
    try:
        assert reads(again) == []
        [entry] = exports(again)
        assert entry["outcome"] == "denied" and detail(entry)["key"] == "columns.phone"
    finally:
        again.close()


@pytest.mark.req("D2", "E3")
def test_other_refusals_name_the_field_and_read_nothing(  # type: ignore[no-untyped-def]
    kernel, crm, tmp_path
) -> None:
    analyst = ctx(kernel, "analyst", PURPOSE)
    files = ExportFiles(tmp_path / "x.csv")
    refused: list[tuple[dict[str, Any], str]] = [
        ({"columns": {"birth_date": {"role": "identifying"}}}, "columns.birth_date"),
        ({"columns": {"wechat_openid": {"role": "identifying"}}}, "columns.wechat_openid"),
        ({"columns": {"age": {"role": "insensitive"}}}, "columns.age"),
        ({"columns": {"city": {"role": "insensitive"}}}, "columns.city.role"),
        ({"columns": {"person_id": {"role": "insensitive"}}}, "columns.person_id"),
        (
            {
                "privacy": {"l_diversity": [{"attribute": "source_channel", "l": 2}]},
                "columns": {"source_channel": {"role": "sensitive", "level": 2}},
            },
            "privacy.k",
        ),
    ]
    for changes, key in refused:
        config = example_config(tmp_path, **changes)
        with pytest.raises(ExportRefused) as caught:
            export_people(kernel, analyst, config, files)
        assert caught.value.key_path == key, caught.value
    # Roles without the analytics grant are refused at the first field they may not read.
    for role in ("auditor", "marketing_manager"):
        with pytest.raises(AccessDenied, match=f"role {role} may not read field 'gender'"):
            export_people(kernel, ctx(kernel, role, PURPOSE), example_config(tmp_path), files)
    # Bulk export (above the threshold) without a recorded approval.
    pending = example_config(tmp_path, approval={})
    with pytest.raises(ExportRefused, match="approval"):
        export_people(kernel, analyst, pending, files, approval_threshold=100)
    assert reads(kernel) == []
    assert not list(tmp_path.glob("x.csv*"))
    denied = exports(kernel)
    assert len(denied) == len(refused) + 3
    assert {r["outcome"] for r in denied} == {"denied"}


@pytest.mark.req("E3")
def test_person_pseudonyms_are_per_recipient_and_erased_people_are_left_out(  # type: ignore[no-untyped-def]
    kernel, crm, tmp_path, monkeypatch
) -> None:
    _, ids = crm
    officer = ctx(kernel, "privacy_officer", "compliance.dsr")
    erased = sorted(ids)[0]
    with kernel.engine.begin() as conn:
        kernel.vault.shred(conn, officer, [erased])
    analyst = ctx(kernel, "analyst", PURPOSE)
    tokens = []
    for recipient in ("agency-a", "agency-b"):
        monkeypatch.setenv("PULSECRM_TEST_EXPORT_KEY", f"{recipient}-secret-0123456789")
        config = example_config(
            tmp_path,
            f"{recipient}.yaml",
            columns={
                "person_id": {"role": "identifying", "operator": "pseudonym", "level": 4},
            },
            recipient={"name": recipient, "key_env": "PULSECRM_TEST_EXPORT_KEY"},
        )
        output = tmp_path / f"{recipient}.parquet"
        result = export_people(kernel, analyst, config, ExportFiles(output))
        extract = pd.read_parquet(output)
        assert list(extract.columns) == [*QIS, "person_id"]
        assert extract["person_id"].str.startswith("P-").all()
        assert extract["person_id"].is_unique
        assert not set(extract["person_id"]) & set(ids)
        raw = output.read_bytes()
        assert not any(subject.encode() in raw for subject in ids)
        assert result.summary["export"]["people"] == 399
        tokens.append(set(extract["person_id"]))
    assert not tokens[0] & tokens[1]  # two recipients cannot join their extracts (D4)
    read_subjects = [str(r["subject"]) for r in reads(kernel)]
    assert erased not in read_subjects and len(read_subjects) == 2 * 399


@pytest.mark.req("E3", "H6")
def test_a_run_failing_after_the_reads_writes_nothing_and_is_audited(  # type: ignore[no-untyped-def]
    kernel, crm, tmp_path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    short = work / "city.csv"
    short.write_text("北京;北京市;华北;*\n", encoding="utf-8")
    config = example_config(
        work, columns={"city": {"role": "quasi", "level": 2, "hierarchy": {"file": str(short)}}}
    )
    analyst = ctx(kernel, "analyst", PURPOSE)
    with pytest.raises(ConfigError, match="city"):
        export_people(kernel, analyst, config, ExportFiles(work / "o.csv"))
    assert sorted(p.name for p in work.iterdir()) == ["city.csv", "export.yaml"]
    assert len(reads(kernel)) == 400
    [entry] = exports(kernel)
    facts = detail(entry)
    assert entry["outcome"] == "failed" and facts["key"] == "columns.city.hierarchy"
    assert "北京" not in str(entry["detail"])  # the audit log never quotes values
