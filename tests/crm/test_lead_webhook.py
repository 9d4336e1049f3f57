"""`POST /api/v1/webhooks/leads/{platform}`: HMAC signature, idempotent on the platform's
lead id, attribution kept, owner by the assignment rules, 401/422 — never a 500."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient

from pulsecrm.api.app import create_app
from pulsecrm.api.lead_webhook_routes import sign
from pulsecrm.crm import assignment, lead_service
from pulsecrm.crm.ids import new_id
from pulsecrm.store.engine import read_connection
from tests.crm.conftest import Clinic
from tests.helpers import audit_rows, ctx

SECRET = b"s3cret-douyin"
URL = "/api/v1/webhooks/leads/douyin"


@pytest.fixture
def client(
    clinic: Clinic, installed: object, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("PULSECRM_WEBHOOK_SECRET_DOUYIN", SECRET.decode())
    monkeypatch.delenv("PULSECRM_WEBHOOK_SECRET_BAIDU", raising=False)
    with TestClient(
        create_app(installed, kernel=clinic.kernel),  # type: ignore[arg-type]
        raise_server_exceptions=False,
    ) as c:
        yield c


def _post(
    client: TestClient, payload: object, *, secret: bytes = SECRET, url: str = URL
) -> httpx.Response:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return client.post(
        url,
        content=raw,
        headers={
            "X-PulseCRM-Signature": sign(secret, raw),
            "Content-Type": "application/json",
            "Accept-Language": "en",
        },
    )


def _leads(clinic: Clinic) -> list[dict[str, object]]:
    with read_connection(clinic.kernel.engine) as conn:
        items, _total = lead_service.list_leads(
            conn=conn, scope=clinic.scope("li.marketing"), limit=200
        )
    return items


def _payload(lead_id: str, phone: str | None = "13800138000", **extra: object) -> dict[str, object]:
    return {"lead_id": lead_id, "phone": phone, "name": "王小明", **extra}


@pytest.mark.req("D1", "H6")
def test_signed_lead_is_stored_once_with_attribution(clinic: Clinic, client: TestClient) -> None:
    payload = _payload(
        "dy-1001",
        campaign="implant-spring",
        utm_source="douyin",
        utm_medium="feed",
        utm_campaign="spring26",
        city="杭州",
    )
    first = _post(client, payload)
    assert first.status_code == 201, first.text
    lead_id = first.json()["id"]
    again = _post(client, payload)
    assert again.status_code == 200 and again.json() == {"id": lead_id, "created": False}
    [stored] = _leads(clinic)
    assert stored["id"] == lead_id
    assert (stored["platform"], stored["platform_lead_id"]) == ("douyin", "dy-1001")
    assert (stored["channel"], stored["campaign"]) == ("douyin", "implant-spring")
    assert (stored["utm_source"], stored["utm_medium"], stored["utm_campaign"]) == (
        "douyin",
        "feed",
        "spring26",
    )
    # The pseudonymous profile keeps the source; the identity is sealed in the vault.
    [view] = clinic.kernel.vault.find_by(ctx(clinic.kernel), "phone", "13800138000")
    assert view.subject_id == stored["person_id"]
    assert view.values["source_channel"] == "douyin" and view.values["city"] == "杭州"
    assert audit_rows(clinic.kernel, actor="webhook.douyin")  # the write is audited (H6)
    # The same person from another lead of the platform: a new lead, the same person.
    other = _post(client, _payload("dy-1002", phone="+86 138 0013 8000", channel="douyin_live"))
    assert other.status_code == 201
    leads = {str(x["platform_lead_id"]): x for x in _leads(clinic)}
    assert leads["dy-1002"]["person_id"] == stored["person_id"]
    assert leads["dy-1002"]["channel"] == "douyin_live"


def test_bad_or_missing_signature_is_401_and_writes_nothing(
    clinic: Clinic, client: TestClient
) -> None:
    raw = json.dumps(_payload("dy-1")).encode()
    cases: list[dict[str, str | bytes]] = [
        {"X-PulseCRM-Signature": sign(b"wrong", raw)},
        {"X-PulseCRM-Signature": "sha256=" + "0" * 64},
        {"X-PulseCRM-Signature": "sha256=zz\u00e9".encode("latin-1")},
        {},
    ]
    for headers in cases:
        r = client.post(URL, content=raw, headers={"Content-Type": "application/json", **headers})
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["error"]["rule"] == "bad_signature"
    # Signed over other bytes than those sent.
    r = client.post(
        URL,
        content=raw + b" ",
        headers={"X-PulseCRM-Signature": sign(SECRET, raw), "Content-Type": "application/json"},
    )
    assert r.status_code == 401
    # A platform without a configured secret accepts nothing, even "signed" with an empty key.
    r = _post(client, _payload("bd-1"), secret=b"", url="/api/v1/webhooks/leads/baidu")
    assert r.status_code == 401
    assert _leads(clinic) == []


@pytest.mark.req("D1")
def test_schema_invalid_is_422_naming_the_field_and_never_500(
    clinic: Clinic, client: TestClient
) -> None:
    named = [
        ({"phone": "13800138000"}, "lead_id"),
        ({**_payload("x1"), "diagnosis": "hair loss"}, "diagnosis"),  # no silent storage
        (_payload("x2", phone="138-abc"), "phone"),
        ({"lead_id": "x3", "name": "only a name"}, "phone"),
        (_payload("x4", branch_id="not-an-id"), "branch_id"),
        (_payload("x5", campaign="c" * 101), "campaign"),
        ({**_payload("x6"), "lead_id": 12}, "lead_id"),
        (_payload("x7", email="nope", phone=None), "email"),
    ]
    for payload, field in named:
        r = _post(client, payload)
        assert r.status_code == 422, (payload, r.text)
        assert r.json()["error"]["field"] == field, (payload, r.text)
    for raw in (b"", b"not json", b"[1, 2]", b'"text"', b"{", b"\xff\xfe", b"null"):
        r = _post(client, raw)
        assert r.status_code == 422, (raw, r.text)
    r = _post(client, _payload("x8", branch_id=new_id()))  # unknown branch
    assert r.status_code in (404, 422), r.text
    r = client.post("/api/v1/webhooks/leads/Bad-Platform!", content=b"{}")
    assert r.status_code in (401, 404, 422)
    assert _leads(clinic) == []


def test_owner_is_assigned_round_robin_within_the_team(clinic: Clinic, client: TestClient) -> None:
    with clinic.kernel.engine.begin() as conn:
        assignment.add_rule(
            conn=conn,
            tenant_id=clinic.tenant_id,
            kind="channel",
            match="douyin",
            team_id=clinic.team_a,
        )
        assignment.add_rule(
            conn=conn, tenant_id=clinic.tenant_id, kind="default", team_id=clinic.team_b
        )
    owners = []
    for i in range(4):
        r = _post(client, _payload(f"rr-{i}", phone=f"1390000000{i}"))
        assert r.status_code == 201, r.text
        owners.append(r.json()["id"])
    # A redelivery does not advance the round robin.
    assert _post(client, _payload("rr-1", phone="13900000001")).status_code == 200
    other = _post(client, _payload("rr-x", phone="13900000009", channel="baidu"))
    by_id = {str(x["id"]): x for x in _leads(clinic)}
    amy, ben, cai = (clinic.ids[u] for u in ("amy.consultant", "ben.consultant", "cai.consultant"))
    assert [by_id[i]["owner_id"] for i in owners] == [amy, ben, amy, ben]
    assert {by_id[i]["team_id"] for i in owners} == {clinic.team_a}
    fallback = by_id[other.json()["id"]]
    assert (fallback["team_id"], fallback["owner_id"]) == (clinic.team_b, cai)
    r = _post(client, _payload("rr-y", phone="13900000008"))
    assert by_id.get(r.json()["id"]) is None
    assert {str(x["id"]): x for x in _leads(clinic)}[r.json()["id"]]["owner_id"] == amy
