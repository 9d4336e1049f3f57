"""`pulsecrm notices|consent|tokens …` as a privacy officer or front desk would run them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text
from typer.testing import CliRunner

from pulsecrm.cli.main import app as cli
from pulsecrm.consent.receipts import verify_bundle
from pulsecrm.store.append_only import create_statements, drop_statements
from tests.consent.conftest import NOTICE_ZH, add_person, officer
from tests.helpers import audit_rows

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


def _publish(app, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    officer(app)
    path = tmp_path / "notice.zh-CN.yaml"
    path.write_text(yaml.safe_dump(NOTICE_ZH, allow_unicode=True), encoding="utf-8")
    code, out = _run("notices", "publish", str(path), "--user", "test.officer")
    assert code == 0, out
    return out.strip().splitlines()[-1]


@pytest.mark.req("A1", "A3")
def test_notices_publish_prints_the_hash_and_refuses_an_incomplete_notice(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    digest = _publish(app, tmp_path)
    assert len(digest) == 64
    broken = {**NOTICE_ZH, "handler": {"name": "", "contact": "x"}}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken, ensure_ascii=False), encoding="utf-8")
    code, out = _run("notices", "publish", str(path), "--user", "test.officer")
    assert code == 2 and "handler.name" in out and "notice_incomplete" in out
    code, out = _run("notices", "publish", str(path))  # local operator is no privacy officer
    assert code == 2


@pytest.mark.req("B9", "B3", "B1")
def test_cli_withdrawal_hides_the_phone_from_people_find_and_is_audited(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _publish(app, tmp_path)
    person = add_person(app, "13600136000")
    find = (
        "people",
        "find",
        "--phone",
        "136 0013 6000",
        "--purpose",
        "marketing.sms",
        "--channel",
        "sms",
        "--json",
    )
    code, out = _run(*find)
    assert code == 0 and json.loads(out)[0]["denied"]["phone"] == "consent"
    code, out = _run(
        "consent",
        "grant",
        person,
        "--purpose",
        "marketing.sms",
        "--channel",
        "sms",
        "--method",
        "staff_call",
        "--evidence",
        "call-0001",
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)[0]["kind"] == "grant"
    code, out = _run(*find)
    assert json.loads(out)[0]["phone"].endswith("6000")
    code, out = _run(
        "consent",
        "withdraw",
        person,
        "--purpose",
        "marketing.sms",
        "--channel",
        "sms",
        "--method",
        "staff_call",
        "--evidence",
        "call-0002",
    )
    assert code == 0, out
    code, out = _run(*find)
    [found] = json.loads(out)
    assert "phone" not in found and found["denied"]["phone"] == "consent"
    denied = audit_rows(app, purpose="marketing.sms", outcome="denied")
    assert denied and denied[-1]["subject"] == person
    code, out = _run("consent", "status", person, "--json")
    status = json.loads(out)
    assert status["consents"][0]["status"] == "withdrawn" and not status["marketing_eligible"]


@pytest.mark.req("B8")
def test_cli_minor_needs_guardian_name_and_relationship(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    _publish(app, tmp_path)
    child = add_person(app, "13600136001", born=date(date.today().year - 13, 1, 1))
    base = (
        "consent",
        "grant",
        child,
        "--purpose",
        "marketing.sms",
        "--channel",
        "sms",
        "--method",
        "paper_scan",
    )
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 signed by guardian")
    code, out = _run(*base, "--evidence", str(scan))
    assert code == 2 and "minor_needs_guardian" in out
    code, out = _run(
        *base,
        "--evidence",
        str(scan),
        "--guardian-name",
        "王大明",
        "--guardian-relationship",
        "父亲",
        "--json",
    )
    assert code == 0, out
    code, out = _run("consent", "status", child, "--json")
    assert json.loads(out)["sensitive_minor"] is True
    assert json.loads(out)["consents"][0]["by_guardian"] is True


@pytest.mark.req("B3")
def test_cli_proof_verifies_offline_and_verify_catches_a_tampered_row(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    _publish(app, tmp_path)
    person = add_person(app, "13600136002")
    for kind in ("grant", "withdraw"):
        code, out = _run(
            "consent",
            kind,
            person,
            "--purpose",
            "marketing.sms",
            "--channel",
            "sms",
            "--method",
            "staff_call",
            "--evidence",
            f"call-{kind}",
        )
        assert code == 0, out
    out_file = tmp_path / "proof.json"
    code, out = _run("consent", "proof", person, "--out", str(out_file))
    assert code == 2  # the front desk may not export proofs
    code, out = _run("consent", "proof", person, "--out", str(out_file), "--user", "test.officer")
    assert code == 0, out
    bundle = json.loads(out_file.read_text(encoding="utf-8"))
    code, key = _run("audit", "public-key")
    import base64

    assert verify_bundle(bundle, base64.b64decode(key.strip())) == []
    code, out = _run("consent", "verify", "--json")
    assert code == 0 and json.loads(out)["events"] == 2
    dialect = app.engine.dialect.name
    with app.engine.begin() as conn:
        for s in drop_statements(dialect, "consent_event"):
            conn.execute(text(s))
        conn.execute(text("UPDATE consent_event SET ts_us = ts_us + 1 WHERE seq = 1"))
        for s in create_statements(dialect, "consent_event"):
            conn.execute(text(s))
    code, out = _run("consent", "verify", "--json")
    report = json.loads(out)
    assert code == 1 and report["first_bad_event"] == 1


@pytest.mark.req("B9")
def test_tokens_create_and_revoke(app) -> None:  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from pulsecrm.api.app import create_app

    officer(app)
    code, out = _run("tokens", "create", "test.officer", "--expires-days", "2", "--json")
    assert code == 0, out
    issued = json.loads(out)
    with TestClient(create_app(app.settings, kernel=app)) as client:
        headers = {"Authorization": f"Bearer {issued['token']}"}
        assert client.get("/api/v1/consents/abc", headers=headers).status_code == 404
        assert _run("tokens", "revoke", issued["id"])[0] == 0
        assert client.get("/api/v1/consents/abc", headers=headers).status_code == 401
    assert _run("tokens", "revoke", issued["id"])[0] == 2
