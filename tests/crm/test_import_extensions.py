"""`pulsecrm import people` extensions: XLSX, header mapping and zh/en aliases, dry run,
create mode, an errors CSV, and resuming an interrupted import without doubling anyone."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from pulsecrm.cli.main import app
from pulsecrm.crm.people_import import PeopleFile, import_people
from pulsecrm.crm.person_rows import HEADER_ALIASES
from pulsecrm.crm.synthetic import synthetic_people
from pulsecrm.crm.tables import person, person_identity
from pulsecrm.kernel.runtime import Kernel, build_kernel
from pulsecrm.kernel.tables import blind_index
from tests.helpers import ctx

runner = CliRunner()
ZH = ["姓名", "手机号", "邮箱", "身份证号", "性别", "出生日期", "城市", "来源"]
EN = ["name", "phone", "email", "id_number", "gender", "birth_date", "city", "source"]


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _cells(p: dict[str, str]) -> list[str]:
    return [p[c] for c in EN]


def _counts(settings: object) -> tuple[int, int, int]:
    kernel = build_kernel(settings)
    try:
        with kernel.engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in (person, person_identity, blind_index)
            )
    finally:
        kernel.close()


def _find(phone: str) -> list[dict[str, object]]:
    code, out = _run(
        "people", "find", "--phone", phone, "--purpose", "service.appointment", "--reveal", "--json"
    )
    assert code == 0, out
    found: list[dict[str, object]] = json.loads(out)
    return found


def test_xlsx_with_chinese_headers_numeric_phones_and_date_cells(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(3, seed=21))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(ZH)
    for p in people:
        y, m, d = (int(x) for x in p["birth_date"].split("-"))
        # Excel stores a phone typed as a number as a float and a date as a date.
        sheet.append(
            [
                p["name"],
                float(p["phone"]),
                p["email"],
                p["id_number"],
                p["gender"],
                date(y, m, d),
                p["city"],
                p["source"],
            ]
        )
    sheet.append([None] * 8)  # an empty row is skipped, not an error
    path = tmp_path / "people.xlsx"
    book.save(path)
    code, out = _run("import", "people", str(path), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report == {"created": 3, "updated": 0, "skipped": 0, "errors": []}
    [found] = _find(people[1]["phone"])
    assert found["name"] == people[1]["name"] and found["id_number"] == people[1]["id_number"]


def test_aliases_cover_the_documented_zh_and_en_headers() -> None:
    expected = {
        "phone": ["手机号", "手机", "电话", "联系电话", "phone", "Phone"],
        "name": ["姓名", "名字", "name"],
        "email": ["邮箱", "电子邮件", "email", "EMAIL"],
        "id_number": ["身份证号", "身份证", "证件号码", "id_number"],
        "gender": ["性别", "gender"],
        "birth_date": ["出生日期", "生日", "birth_date"],
        "city": ["城市", "所在城市", "city"],
        "source": ["来源", "渠道", "source"],
    }
    for column, headers in expected.items():
        for header in headers:
            assert HEADER_ALIASES[header.casefold()] == column, header
    # `mobile` stays an unknown column (the CLI contract); it can be mapped explicitly.
    assert "mobile" not in HEADER_ALIASES


@pytest.mark.req("D1")
def test_map_options_and_map_file_and_unknown_headers_are_named(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(4, seed=22))
    header = ["客户", "mobile", "备注", "email"]
    rows = [[p["name"], p["phone"], "VIP 老客户", p["email"]] for p in people]
    path = _csv(tmp_path / "p.csv", header, rows)
    code, out = _run("import", "people", str(path))
    assert code == 2 and "客户" in out and "--map" in out  # first unknown column named
    code, out = _run("import", "people", str(path), "--map", "客户=name", "--map", "mobile=phone")
    assert code == 2 and "备注" in out  # still unknown: never silently stored (D1)
    assert _counts(installed)[0] == 0
    code, out = _run("import", "people", str(path), "--map", "mobile=wechat")
    assert code == 2 and "wechat" in out
    code, out = _run(
        "import",
        "people",
        str(path),
        "--map",
        "客户=name",
        "--map",
        "mobile=phone",
        "--map",
        "备注=-",
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)["created"] == 4
    [found] = _find(people[0]["phone"])
    assert found["name"] == people[0]["name"]
    assert "VIP" not in json.dumps(found, ensure_ascii=False)  # the ignored column
    yaml_map = tmp_path / "map.yaml"
    yaml_map.write_text("客户: name\nmobile: phone\n备注: '-'\n", encoding="utf-8")
    json_map = tmp_path / "map.json"
    json_map.write_text(
        json.dumps({"客户": "name", "mobile": "phone", "备注": "-"}), encoding="utf-8"
    )
    for mapping in (yaml_map, json_map):
        code, out = _run("import", "people", str(path), "--map-file", str(mapping), "--json")
        assert code == 0, out
        assert json.loads(out)["updated"] == 4 and json.loads(out)["created"] == 0
    bad_map = tmp_path / "bad.yaml"
    bad_map.write_text("- just\n- a list\n", encoding="utf-8")
    code, out = _run("import", "people", str(path), "--map-file", str(bad_map))
    assert code == 2 and "map-file" in out
    two = _csv(tmp_path / "two.csv", ["手机号", "phone"], [["13800000000", "13800000001"]])
    code, out = _run("import", "people", str(two))
    assert code == 2 and "手机号" in out and "phone" in out


def test_dry_run_validates_and_dedupes_and_writes_nothing(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(6, seed=23))
    first = _csv(tmp_path / "first.csv", EN, [_cells(p) for p in people[:2]])
    assert _run("import", "people", str(first))[0] == 0
    before = _counts(installed)
    rows = [_cells(p) for p in people]  # 2 already stored, 4 new
    rows.append(_cells({**people[5], "city": "苏州"}))  # in-file duplicate of a new one
    rows.append(_cells({**people[4], "phone": "12", "email": "", "id_number": ""}))  # bad
    path = _csv(tmp_path / "all.csv", ZH, rows)
    code, out = _run("import", "people", str(path), "--dry-run", "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["dry_run"] is True
    assert (report["created"], report["updated"], report["skipped"]) == (4, 3, 1)
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(9, "手机号")]
    assert _counts(installed) == before
    assert _find(people[3]["phone"]) == []
    # Two rows per batch: deduping across batches must not rely on anything written.
    kernel = build_kernel(installed)
    try:
        dry = import_people(
            kernel,
            ctx(kernel),
            PeopleFile(path).rows(),
            dry_run=True,
            batch_size=2,
        )
    finally:
        kernel.close()
    assert (dry.created, dry.updated, dry.skipped) == (4, 3, 1)
    assert _counts(installed) == before
    code, out = _run("import", "people", str(path), "--json")
    real = json.loads(out)
    assert (real["created"], real["updated"], real["skipped"]) == (4, 3, 1)
    assert _counts(installed)[0] == before[0] + 4


def test_create_mode_reports_existing_people_and_does_not_merge(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(3, seed=24))
    assert _run("import", "people", str(_csv(tmp_path / "a.csv", EN, [_cells(people[0])])))[0] == 0
    rows = [_cells({**people[0], "city": "拉萨"}), _cells(people[1]), _cells(people[2])]
    path = _csv(tmp_path / "b.csv", ZH, rows)
    errors = tmp_path / "errors.csv"
    code, out = _run(
        "import", "people", str(path), "--mode", "create", "--errors", str(errors), "--json"
    )
    assert code == 0, out
    report = json.loads(out)
    assert (report["created"], report["updated"], report["skipped"]) == (2, 0, 1)
    [error] = report["errors"]
    assert error["row"] == 2 and error["reason"] == "already exists"
    assert error["column"] in ("手机号", "邮箱", "身份证号")
    [found] = _find(people[0]["phone"])
    assert found["city"] != "拉萨"  # not merged
    with errors.open(encoding="utf-8-sig", newline="") as handle:
        assert list(csv.reader(handle)) == [
            ["row", "column", "reason"],
            ["2", error["column"], "already exists"],
        ]
    code, out = _run("import", "people", str(path), "--mode", "bogus")
    assert code == 2 and "create" in out


def test_errors_file_lists_every_bad_row_with_the_users_column_names(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(3, seed=25))
    rows = [
        _cells({**people[0], "phone": "138-abc", "email": "", "id_number": ""}),
        _cells(people[1]),
        _cells({**people[2], "birth_date": "1990-02-30"}),
    ]
    path = _csv(tmp_path / "bad.csv", ZH, rows)
    errors = tmp_path / "out" / "errors.csv"
    errors.parent.mkdir()
    code, out = _run("import", "people", str(path), "--errors", str(errors))
    assert code == 0, out
    with errors.open(encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert [(r["row"], r["column"]) for r in lines] == [("2", "手机号"), ("4", "出生日期")]
    assert all(r["reason"] for r in lines)


def test_rerun_after_a_crash_mid_import_never_doubles_anyone(app: Kernel, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Each batch is one transaction; the blind index finds what an earlier run stored."""
    people = list(synthetic_people(7, seed=26))
    path = _csv(tmp_path / "p.csv", EN, [_cells(p) for p in people])

    class Crash(RuntimeError):
        pass

    def crash_after_first_batch(_n: int) -> None:
        raise Crash("killed")

    with pytest.raises(Crash):
        import_people(
            app, ctx(app), PeopleFile(path).rows(), batch_size=3, progress=crash_after_first_batch
        )

    def stored() -> int:
        with app.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(person)).scalar_one())

    assert stored() == 3  # the first batch committed, nothing of the rest
    for mode, expected in (("update", (4, 3)), ("skip", (0, 0)), ("create", (0, 0))):
        report = import_people(app, ctx(app), PeopleFile(path).rows(), mode=mode, batch_size=3)
        assert (report.created, report.updated) == expected, mode
        assert stored() == 7, mode
    assert len(report.errors) == 7 and {e.reason for e in report.errors} == {"already exists"}
