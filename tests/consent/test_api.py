"""The REST API as a client uses it: staff tokens, public capture, preferences, replies, GPC."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pulsecrm.access.tokens import create_token
from pulsecrm.api.app import create_app
from pulsecrm.consent.tables import consent_event, privacy_preference
from pulsecrm.consent.tokens import list_unsubscribe_headers, make_link_token, webhook_signature
from pulsecrm.kernel.runtime import Kernel
from tests.consent.conftest import add_person, officer, publish
from tests.helpers import audit_rows, ctx


@pytest.fixture
def client(app: Kernel, installed: object) -> Iterator[TestClient]:
    with TestClient(create_app(installed, kernel=app), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


def _token(kernel: Kernel, role: str = "consultant", user: str | None = None) -> dict[str, str]:
    who = ctx(kernel, role, actor=user)
    with kernel.engine.begin() as conn:
        issued = create_token(conn, username=who.actor)
    return {"Authorization": f"Bearer {issued.secret}"}


def _events(kernel: Kernel) -> int:
    with kernel.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(consent_event)).scalar_one())


def _sms_permitted(kernel: Kernel, person: str) -> bool:
    reader = ctx(kernel, "consultant", "marketing.sms", channel="sms")
    return bool(kernel.vault.read(reader, [person], ["phone"])[0].values.get("phone"))


@pytest.mark.req("B3", "B9")
def test_staff_records_consent_with_a_token_and_every_use_is_audited(app, client) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13700137000")
    body = {
        "person_id": person,
        "method": "staff_call",
        "notice_hash": notice,
        "decisions": [{"purpose": "marketing.sms", "channel": "sms", "decision": "grant"}],
        "evidence": {"ref": "call-2026-11-29-001", "ip": "198.51.100.4"},
    }
    assert client.post("/api/v1/consents", json=body).status_code == 401
    response = client.post("/api/v1/consents", json=body, headers=_token(app))
    assert response.status_code == 201, response.text
    assert response.json()[0]["kind"] == "grant" and _sms_permitted(app, person)
    assert audit_rows(app, action="login", outcome="allowed")
    assert audit_rows(app, action="login", outcome="denied")
    status = client.get(f"/api/v1/consents/{person}", headers=_token(app, user="test.second"))
    assert status.json()["consents"][0]["status"] == "granted"
    proof = client.get(f"/api/v1/consents/{person}/proof", headers=_token(app))
    assert proof.status_code == 403
    proof = client.get(
        f"/api/v1/consents/{person}/proof", headers=_token(app, "privacy_officer", "test.officer")
    )
    assert proof.status_code == 200 and proof.json()["receipts"]


@pytest.mark.req("B4", "B2")
def test_bad_input_gets_a_4xx_naming_field_and_rule_in_the_callers_language(app, client) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13700137001")
    token = make_link_token(app, app.tenant_id(), person)
    bundled = {
        "token": token,
        "notice_hash": notice,
        "decisions": [
            {"purpose": "marketing.sms", "channel": "sms", "granted": True},
            {"purpose": "marketing.personalized_health", "channel": "sms", "granted": True},
        ],
    }
    response = client.post(
        "/api/v1/public/consents", json=bundled, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["field"] == "decisions" and error["rule"] == "separate_consent_unbundled"
    assert "separate consent" in error["message"]
    zh = client.post("/api/v1/public/consents", json=bundled).json()["error"]
    assert "单独同意" in zh["message"]
    cases = [
        (
            {**bundled, "decisions": [{"purpose": "marketing.sms", "channel": "sms"}]},
            "decisions.0.granted",
            422,
        ),
        (
            {
                **bundled,
                "decisions": [{"purpose": "marketing.sms", "channel": "sms", "granted": "yes"}],
            },
            "decisions.0.granted",
            422,
        ),
        (
            {
                **bundled,
                "decisions": [
                    {
                        "purpose": "marketing.sms",
                        "channel": "sms",
                        "granted": True,
                        "preticked": True,
                    }
                ],
            },
            "decisions.0.preticked",
            422,
        ),
        ({**bundled, "method": "implied", "decisions": bundled["decisions"][:1]}, "method", 422),
        (
            {
                **bundled,
                "decisions": [{"purpose": "marketing.spam", "channel": "sms", "granted": True}],
            },
            "purpose",
            422,
        ),
        (
            {**bundled, "notice_hash": "f" * 64, "decisions": bundled["decisions"][:1]},
            "notice_hash",
            422,
        ),
        (
            {**bundled, "token": token[:-3] + "AAA", "decisions": bundled["decisions"][:1]},
            "token",
            403,
        ),
    ]
    for body, field, code in cases:
        got = client.post("/api/v1/public/consents", json=body, headers={"Accept-Language": "en"})
        assert got.status_code == code, (body, got.text)
        assert got.json()["error"]["field"] == field, got.text
    assert _events(app) == 0


@pytest.mark.req("B8")
def test_public_capture_for_a_minor_needs_the_guardian(app, client) -> None:  # type: ignore[no-untyped-def]
    from datetime import date

    notice = publish(app)
    child = add_person(app, "13700137002", born=date(date.today().year - 13, 3, 1))
    token = make_link_token(app, app.tenant_id(), child)
    body = {
        "token": token,
        "notice_hash": notice,
        "decisions": [{"purpose": "marketing.sms", "channel": "sms", "granted": True}],
    }
    refused = client.post("/api/v1/public/consents", json=body)
    assert refused.status_code == 422 and refused.json()["error"]["rule"] == "minor_needs_guardian"
    body["guardian"] = {"name": "王大明", "relationship": "父亲"}
    assert client.post("/api/v1/public/consents", json=body).status_code == 201
    assert _sms_permitted(app, child)


@pytest.mark.req("B9", "B6", "B2")
def test_preference_page_lists_consents_and_withdraws_in_one_click(app, client) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13700137003", email="p3@example.com")
    token = make_link_token(app, app.tenant_id(), person)
    page = client.get(f"/api/v1/preferences/{token}").json()
    assert page["consents"] == [] and any(p["purpose"] == "marketing.sms" for p in page["prompts"])
    grant = {
        "token": token,
        "notice_hash": notice,
        "decisions": [
            {"purpose": "marketing.sms", "channel": "sms", "granted": True},
            {"purpose": "marketing.email", "channel": "email", "granted": False},
        ],
    }
    assert client.post("/api/v1/public/consents", json=grant).status_code == 201
    page = client.get(f"/api/v1/preferences/{token}", headers={"Accept-Language": "en"}).json()
    sms = next(c for c in page["consents"] if c["purpose"] == "marketing.sms")
    assert sms["status"] == "granted" and sms["name"] == "SMS marketing"
    assert all(p["purpose"] != "marketing.email" for p in page["prompts"])  # refused: not asked
    one_click = sms["withdraw"]
    assert client.post(one_click["path"], json=one_click["body"]).status_code == 200
    assert not _sms_permitted(app, person)
    assert client.post(f"/api/v1/preferences/{token}/withdraw-all").status_code == 200


@pytest.mark.req("B9")
def test_expired_or_tampered_links_are_refused(app, client) -> None:  # type: ignore[no-untyped-def]
    person = add_person(app, "13700137004")
    expired = make_link_token(app, app.tenant_id(), person, ttl_days=1, now=0)
    assert client.get(f"/api/v1/preferences/{expired}").status_code == 403
    good = make_link_token(app, app.tenant_id(), person)
    payload, mac = good.split(".")
    import base64

    other = (
        base64.urlsafe_b64encode(
            json.dumps(
                [1, app.tenant_id(), "f" * 32, 4_000_000_000, "prefs"], separators=(",", ":")
            ).encode()
        )
        .rstrip(b"=")
        .decode()
    )
    for bad in (f"{other}.{mac}", f"{payload}.{mac[:-2]}xx", "garbage", f"{payload}"):
        response = client.get(f"/api/v1/preferences/{bad}")
        assert response.status_code == 403, bad
        assert response.json()["error"]["field"] == "token"
    unsub = make_link_token(app, app.tenant_id(), person, scope="unsub:marketing.email:email")
    assert client.get(f"/api/v1/preferences/{unsub}").status_code == 403  # wrong scope


@pytest.mark.req("C2", "B9")
def test_inbound_sms_td_withdraws_that_channel_immediately(app, client) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13700137005")
    token = make_link_token(app, app.tenant_id(), person)
    client.post(
        "/api/v1/public/consents",
        json={
            "token": token,
            "notice_hash": notice,
            "decisions": [{"purpose": "marketing.sms", "channel": "sms", "granted": True}],
        },
    )
    client.post(
        "/api/v1/public/consents",
        json={
            "token": token,
            "notice_hash": notice,
            "decisions": [
                {"purpose": "marketing.personalized_health", "channel": "sms", "granted": True}
            ],
        },
    )
    assert _sms_permitted(app, person)

    def send(text: str, sign: bool = True):  # type: ignore[no-untyped-def]
        raw = json.dumps(
            {"from": "+86 137 0013 7005", "text": text, "received_at": "2026-11-29T10:00:00Z"},
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json"}
        if sign:
            headers["X-PulseCRM-Signature"] = webhook_signature(app, app.tenant_id(), raw)
        return client.post("/api/v1/webhooks/sms/inbound", content=raw, headers=headers)

    assert send("TD", sign=False).status_code == 403
    assert send("好的谢谢").json() == {"unsubscribe": False, "events": 0}
    assert _sms_permitted(app, person)
    reply = send("请帮我退订谢谢")
    assert reply.status_code == 200 and reply.json() == {"unsubscribe": True, "events": 2}
    assert not _sms_permitted(app, person)
    health = ctx(app, "marketing_manager", "marketing.personalized_health", channel="sms")
    assert app.vault.read(health, [person], ["phone"])[0].denied == {"phone": "consent"}
    bad = client.post(
        "/api/v1/webhooks/sms/inbound",
        content=b'{"text": 1}',
        headers={"X-PulseCRM-Signature": webhook_signature(app, app.tenant_id(), b'{"text": 1}')},
    )
    assert bad.status_code == 422


@pytest.mark.req("C2", "B9")
def test_rfc8058_one_click_unsubscribe_withdraws_without_a_page(app, client) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13700137006", email="one.click@example.com")
    token = make_link_token(app, app.tenant_id(), person)
    client.post(
        "/api/v1/public/consents",
        json={
            "token": token,
            "notice_hash": notice,
            "decisions": [{"purpose": "marketing.email", "channel": "email", "granted": True}],
        },
    )
    reader = ctx(app, "consultant", "marketing.email", channel="email")
    assert app.vault.read(reader, [person], ["email"])[0].values["email"]
    headers = list_unsubscribe_headers(
        app,
        app.tenant_id(),
        person,
        base_url="https://crm.clinic.example",
        campaign="c42",
        mailto="unsubscribe@clinic.example",
    )
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].split(">")[0].lstrip("<")
    assert url.startswith("https://crm.clinic.example/api/v1/unsubscribe/")
    path = url.removeprefix("https://crm.clinic.example")
    assert (
        client.post(
            path, content=b"nothing", headers={"Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        == 403
    )
    response = client.post(
        path,
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200 and response.content == b""
    assert app.vault.read(reader, [person], ["email"])[0].denied == {"email": "consent"}


@pytest.mark.req("C10")
def test_gpc_header_records_an_opt_out_and_gpc_json_is_served(app, client) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13700137007")
    token = make_link_token(app, app.tenant_id(), person)
    assert (
        client.post(
            "/api/v1/public/consents",
            json={
                "token": token,
                "notice_hash": notice,
                "decisions": [{"purpose": "sharing.partner", "granted": True}],
            },
        ).status_code
        == 201
    )
    well_known = client.get("/.well-known/gpc.json")
    assert well_known.status_code == 200 and well_known.json()["gpc"] is True
    assert len(well_known.json()["lastUpdate"]) == 10
    client.get(f"/api/v1/preferences/{token}", headers={"Sec-GPC": "1"})
    with app.engine.connect() as conn:
        rows = conn.execute(select(privacy_preference)).all()
    assert [(r.kind, r.source, r.person_id) for r in rows] == [
        ("opt_out_sale_sharing", "gpc", person)
    ]
    status = client.get(f"/api/v1/preferences/{token}").json()
    sharing = next(c for c in status["consents"] if c["purpose"] == "sharing.partner")
    assert sharing["status"] == "withdrawn"
    client.get("/.well-known/gpc.json", headers={"Sec-GPC": "1"})
    with app.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(privacy_preference)).scalar() == 2


@pytest.mark.req("A1")
def test_notices_are_published_by_api_and_public_by_hash(app, client) -> None:  # type: ignore[no-untyped-def]
    from tests.consent.conftest import NOTICE_ZH

    officer(app)
    staff = _token(app, "privacy_officer", "test.officer")
    missing = {**NOTICE_ZH, "rights": ""}
    response = client.post(
        "/api/v1/notices", json=missing, headers={**staff, "Accept-Language": "en"}
    )
    assert response.status_code == 422 and response.json()["error"]["field"] == "rights"
    published = client.post("/api/v1/notices", json=NOTICE_ZH, headers=staff)
    assert published.status_code == 201
    digest = published.json()["version_hash"]
    public = client.get(f"/api/v1/notices/{digest}").json()
    import hashlib

    assert hashlib.sha256(public["text"].encode()).hexdigest() == digest
    assert client.get("/api/v1/notices/current/zh-CN").json()["version_hash"] == digest
    assert client.get("/api/v1/notices/" + "0" * 64).status_code == 404


@pytest.mark.req("B2")
def test_openapi_is_served_and_garbage_never_yields_a_500(app, client) -> None:  # type: ignore[no-untyped-def]
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/public/consents" in spec["paths"]
    assert client.get("/api/v1/docs").status_code == 200
    person = add_person(app, "13700137008")
    token = make_link_token(app, app.tenant_id(), person)
    staff = _token(app)
    bodies: list[object] = [
        None,
        [],
        {},
        1,
        "x",
        {"decisions": "all"},
        {"token": None},
        {"token": token, "notice_hash": "", "decisions": [{}]},
        {"token": "a" * 5000},
        {"person_id": "\x00" * 10},
    ]
    paths = [
        "/api/v1/public/consents",
        "/api/v1/consents",
        f"/api/v1/preferences/{token}/withdraw",
        "/api/v1/webhooks/sms/inbound",
        f"/api/v1/unsubscribe/{token}",
        "/api/v1/notices",
    ]
    for path in paths:
        for body in bodies:
            response = client.post(path, json=body, headers=staff)
            assert 400 <= response.status_code < 500, (path, body, response.text)
            assert "error" in response.json()
        raw = client.post(
            path, content=b"\xff\xfe{", headers={**staff, "Content-Type": "application/json"}
        )
        assert 400 <= raw.status_code < 500, (path, raw.text)
    for weird in ("%00", "..%2F..%2Fetc", "a" * 3000):
        # a NUL is refused at the door (422 naming the path); other junk is a bad link
        assert client.get(f"/api/v1/preferences/{weird}").status_code in (403, 404, 422)
        assert client.get(f"/api/v1/consents/{weird}", headers=staff).status_code in (404, 422)
