"""`pulsecrm import people` and `pulsecrm people find` as a user would run them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulsecrm.cli.main import app
from pulsecrm.crm.synthetic import synthetic_people
from tests.helpers import audit_rows, ctx

runner = CliRunner()
HEADER = ["name", "phone", "email", "id_number", "gender", "birth_date", "city", "source"]


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.req("D1", "H6")
def test_import_reports_bad_rows_merges_duplicates_and_never_doubles(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(9, seed=3))
    rows = [dict(p) for p in people[:6]]
    rows.append(
        {
            **people[0],
            "phone": "+86 "
            + people[0]["phone"][:3]
            + " "
            + people[0]["phone"][3:7]
            + " "
            + people[0]["phone"][7:],
            "city": "杭州",
        }
    )  # the same person, other spelling → merged
    rows.append({**people[6], "phone": "138-abc", "email": "", "id_number": ""})  # bad phone
    rows.append(
        {
            **people[7],
            "id_number": people[7]["id_number"][:-1] + "0"
            if people[7]["id_number"][-1] != "0"
            else people[7]["id_number"][:-1] + "1",
            "phone": "",
            "email": "",
        }
    )  # bad check digit
    rows.append({**people[8], "birth_date": "1990-02-30"})  # not a real date
    csv_file = _write(tmp_path / "people.csv", rows)
    code, out = _run("import", "people", str(csv_file), "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["created"] == 6 and report["updated"] == 1
    errors = {(e["row"], e["column"]) for e in report["errors"]}
    assert errors == {(9, "phone"), (10, "id_number"), (11, "birth_date")}
    assert all(e["reason"] for e in report["errors"])
    # Row 11 (people[8]) was bad: nothing of it is stored.
    code, out = _run(
        "people",
        "find",
        "--phone",
        people[8]["phone"],
        "--purpose",
        "service.appointment",
        "--json",
    )
    assert json.loads(out) == []
    # Re-running the same file never doubles anyone.
    code, out = _run("import", "people", str(csv_file), "--json")
    again = json.loads(out)
    assert again["created"] == 0 and again["updated"] == 7
    code, out = _run(
        "people",
        "find",
        "--email",
        people[0]["email"].upper(),
        "--purpose",
        "service.appointment",
        "--json",
    )
    found = json.loads(out)
    assert len(found) == 1 and found[0]["city"] == "杭州"


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(3, seed=5))
    rows = [dict(p) for p in people] + [
        {**people[0], "email": "nope", "phone": "", "id_number": ""}
    ]
    _code, out = _run(
        "import", "people", str(_write(tmp_path / "p.csv", rows)), "--json", "--all-or-nothing"
    )
    report = json.loads(out)
    assert report["created"] == 0 and report["errors"][0]["column"] == "email"
    _code, out = _run(
        "people",
        "find",
        "--phone",
        people[1]["phone"],
        "--purpose",
        "service.appointment",
        "--json",
    )
    assert json.loads(out) == []


def test_unknown_column_is_named(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("name,mobile\n张三,13812345678\n", encoding="utf-8")
    code, out = _run("import", "people", str(bad))
    assert code == 2 and "mobile" in out and "Traceback" not in out


@pytest.mark.req("D2", "H6")
def test_find_masks_unless_revealed_and_denies_roles_without_grant(
    installed, kernel, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(2, seed=11))
    _write(tmp_path / "p.csv", people)
    ctx(kernel, "auditor")  # creates account test.auditor
    kernel.close()
    assert _run("import", "people", str(tmp_path / "p.csv"))[0] == 0
    phone = people[0]["phone"]
    code, out = _run(
        "people",
        "find",
        "--phone",
        f"{phone[:3]} {phone[3:7]} {phone[7:]}",
        "--purpose",
        "service.appointment",
        "--json",
    )
    [masked] = json.loads(out)
    assert masked["phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert masked["name"] != people[0]["name"]
    code, out = _run(
        "people", "find", "--phone", phone, "--purpose", "service.appointment", "--reveal", "--json"
    )
    [shown] = json.loads(out)
    assert shown["phone"] == "+86" + phone and shown["name"] == people[0]["name"]
    assert shown["id_number"] == people[0]["id_number"]
    code, out = _run(
        "people",
        "find",
        "--phone",
        phone,
        "--purpose",
        "service.appointment",
        "--user",
        "test.auditor",
        "--json",
    )
    assert code == 2 and "denied" in out
    code, out = _run("people", "find", "--phone", phone, "--purpose", "no.such.purpose", "--json")
    assert code == 2
    from pulsecrm.kernel.runtime import build_kernel

    again = build_kernel(installed)
    try:
        assert audit_rows(again, actor="test.auditor", outcome="denied")
        assert audit_rows(again, action="reveal", outcome="allowed")
        assert audit_rows(again, purpose="no.such.purpose", outcome="denied")
    finally:
        again.close()


def test_init_is_idempotent(installed) -> None:  # type: ignore[no-untyped-def]
    assert _run("init")[0] == 0
    assert _run("init")[0] == 0
    _code, out = _run("keys", "status", "--json")
    assert json.loads(out)["active_version"] == 1


def test_gb18030_csv_from_chinese_excel_imports_and_binary_is_refused(installed, tmp_path) -> None:  # type: ignore[no-untyped-def]
    people = list(synthetic_people(3, seed=21))
    text = "姓名,手机号,城市\n" + "".join(f"{p['name']},{p['phone']},{p['city']}\n" for p in people)
    gbk = tmp_path / "excel.csv"
    gbk.write_bytes(text.encode("gb18030"))
    code, out = _run("import", "people", str(gbk), "--json")
    assert code == 0, out
    assert json.loads(out)["created"] == 3
    code, out = _run("people", "find", "--phone", people[0]["phone"], "--purpose",
                     "service.appointment", "--reveal", "--json")
    assert json.loads(out)[0]["name"] == people[0]["name"]
    binary = tmp_path / "photo.csv"
    binary.write_bytes(bytes(range(128, 256)) * 4)
    code, out = _run("import", "people", str(binary))
    assert code == 2 and "GB18030" in out and "Traceback" not in out
