"""`pulsecrm segment preview FILE.json` as a user would run it: count, masked sample, and a
clear one-line error (no stack trace) for a bad tree, a bad file or the wrong role."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulsecrm.cli.main import app
from tests.crm.conftest import Clinic
from tests.helpers import ctx
from tests.marketing.population import grant, person, publish

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.req("C4")
def test_preview_prints_count_and_masked_sample(clinic: Clinic, tmp_path: Path) -> None:
    k = clinic.kernel
    notice = publish(k)
    a = person(k, city="上海", phone="13912345678")
    person(k, city="上海")
    grant(k, notice, a, ("marketing.sms", "sms"))
    ctx(k, "marketing_manager", actor="li.marketing")
    tree = tmp_path / "seg.json"
    tree.write_text(
        json.dumps({"purpose": "marketing.sms", "definition": {"filter": "city", "in": ["上海"]}}),
        encoding="utf-8",
    )
    code, out = _run("segment", "preview", str(tree), "--as", "li.marketing", "--json")
    assert code == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    assert result["count"] == 2
    [row] = result["sample"]
    assert row["person_id"] == a and row["phone"] != "13912345678" and "*" in row["phone"]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"all": [{"filter": "nope"}]}', "definition.all[0].filter"),
        ("{not json", "not JSON"),
    ],
)
def test_bad_files_fail_with_one_line(
    clinic: Clinic, tmp_path: Path, content: str, expected: str
) -> None:
    ctx(clinic.kernel, "marketing_manager", actor="li.marketing")
    tree = tmp_path / "seg.json"
    tree.write_text(content, encoding="utf-8")
    code, out = _run("segment", "preview", str(tree), "--as", "li.marketing")
    assert code == 2 and expected in out and "Traceback" not in out


def test_other_roles_are_refused(clinic: Clinic, tmp_path: Path) -> None:
    ctx(clinic.kernel, "consultant", actor="amy.consultant")
    tree = tmp_path / "seg.json"
    tree.write_text('{"all": []}', encoding="utf-8")
    code, out = _run("segment", "preview", str(tree), "--as", "amy.consultant")
    assert code == 2 and "may not" in out
