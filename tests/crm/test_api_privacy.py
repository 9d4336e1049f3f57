"""The CRM API and its privacy rules: D1 (forms, unknown fields → 422), D2 (marketing never
sees clinical detail, lists masked, bulk export approval), C4 (tags), scope by role, and
bad input named by field and rule, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pulsecrm.access.tokens import create_token
from pulsecrm.api.app import create_app
from pulsecrm.consent.ledger import Kind
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.kernel.runtime import Kernel
from tests.consent.conftest import add_person, decide, publish
from tests.crm.conftest import Clinic
from tests.helpers import ctx


@pytest.fixture
def client(clinic: Clinic, installed: object) -> Iterator[TestClient]:
    with TestClient(
        create_app(installed, kernel=clinic.kernel), raise_server_exceptions=False
    ) as c:  # type: ignore[arg-type]
        yield c


def _auth(kernel: Kernel, user: str, role: str = "consultant") -> dict[str, str]:
    who = ctx(kernel, role, actor=user)
    with kernel.engine.begin() as conn:
        issued = create_token(conn, username=who.actor)
    return {"Authorization": f"Bearer {issued.secret}", "Accept-Language": "en"}


def _lead(
    client: TestClient, headers: dict[str, str], person: str, clinic: Clinic, owner: str
) -> str:
    r = client.post(
        "/api/v1/leads",
        headers=headers,
        json={
            "person_id": person,
            "channel": "douyin",
            "branch_id": clinic.north,
            "owner_id": clinic.ids[owner],
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.mark.req("D2")
def test_marketing_manager_never_sees_the_chief_complaint_and_lists_are_masked(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    person = add_person(k, "13812345678")
    lead = _lead(client, amy, person, clinic, "amy.consultant")
    r = client.post(
        "/api/v1/consultations",
        headers=amy,
        json={
            "person_id": person,
            "lead_id": lead,
            "mode": "on_site",
            "items": ["implant"],
            "intent_level": "high",
            "chief_complaint": "牙龈出血三个月",
            "notes": "高血压病史",
        },
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    mine = client.get(f"/api/v1/consultations/{cid}?reveal=true", headers=amy).json()
    assert mine["chief_complaint"] == "牙龈出血三个月"
    marketer = _auth(k, "li.marketing", "marketing_manager")
    theirs = client.get(f"/api/v1/consultations/{cid}", headers=marketer)
    assert theirs.status_code == 200
    assert "chief_complaint" not in theirs.json() and "consultation_notes" not in theirs.json()
    assert "牙龈" not in theirs.text
    desk = _auth(k, "fay.desk", "front_desk")
    assert "chief_complaint" not in client.get(f"/api/v1/consultations/{cid}", headers=desk).json()
    people = client.get("/api/v1/people", headers=amy).json()
    assert people["total"] == 1
    assert people["items"][0]["phone"] == "138****5678"
    assert "13812345678" not in client.get("/api/v1/people", headers=amy).text


@pytest.mark.req("D1")
def test_form_collecting_a_field_no_purpose_needs_is_rejected_naming_the_field(
    clinic: Clinic, client: TestClient
) -> None:
    headers = _auth(clinic.kernel, "amy.consultant")
    bad = client.post(
        "/api/v1/forms",
        headers=headers,
        json={
            "slug": "sms-signup",
            "title": "短信优惠",
            "purposes": ["marketing.sms"],
            "fields": ["phone", "id_number"],
        },
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "id_number"
    assert bad.json()["error"]["rule"] == "field_not_needed"
    good = client.post(
        "/api/v1/forms",
        headers=headers,
        json={
            "slug": "booking",
            "title": "预约",
            "purposes": ["service.appointment", "marketing.sms"],
            "fields": ["name", "phone", "chief_complaint"],
        },
    )
    assert good.status_code == 201, good.text
    form = client.get("/api/v1/forms/booking", headers=headers).json()
    boxes = {b["purpose"]: b for b in form["consent_boxes"]}
    assert boxes["marketing.sms"]["checked"] is False
    assert boxes["marketing.personalized_health"]["separate"] is True
    assert not any(b["checked"] for b in boxes.values())
    extra = client.post(
        "/api/v1/forms/booking/check",
        headers=headers,
        json={"name": "王", "phone": "13800000000", "wechat_openid": "o-1"},
    )
    assert extra.status_code == 422 and extra.json()["error"]["field"] == "wechat_openid"


@pytest.mark.req("D1")
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/people",
            {"name": "王", "phone": "13800000000", "favourite_colour": "red"},
            "favourite_colour",
        ),
        ("/api/v1/people", {"phone": "call me maybe"}, "phone"),
        (
            "/api/v1/leads",
            {"person_id": "0" * 32, "channel": "x", "utm_content": "y"},
            "utm_content",
        ),
    ],
)
def test_unknown_fields_and_bad_values_get_422_naming_the_field_and_nothing_is_stored(
    clinic: Clinic, client: TestClient, path: str, body: dict[str, object], field: str
) -> None:
    headers = _auth(clinic.kernel, "amy.consultant")
    r = client.post(path, headers=headers, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert client.get("/api/v1/people", headers=headers).json()["total"] == 0


def test_bad_input_to_appointments_is_a_4xx_naming_field_and_rule(
    clinic: Clinic, client: TestClient
) -> None:
    amy = _auth(clinic.kernel, "amy.consultant")
    person = add_person(clinic.kernel, "13800000009")
    base = {"person_id": person, "branch_id": clinic.north, "item": "cleaning"}
    past = client.post(
        "/api/v1/appointments", headers=amy, json={**base, "slot_us": now_us() - DAY_US}
    )
    assert past.status_code == 422 and past.json()["error"]["field"] == "slot"
    assert past.json()["error"]["rule"] == "slot_in_past"
    branch = client.post(
        "/api/v1/appointments",
        headers=amy,
        json={**base, "branch_id": "nowhere", "slot_us": now_us() + DAY_US},
    )
    assert branch.status_code == 422 and branch.json()["error"]["rule"] == "unknown_branch"
    ok = client.post(
        "/api/v1/appointments", headers=amy, json={**base, "slot_us": now_us() + DAY_US}
    )
    aid = ok.json()["id"]
    assert (
        client.post(
            f"/api/v1/appointments/{aid}/transitions", headers=amy, json={"to": "cancelled"}
        ).status_code
        == 200
    )
    bad = client.post(
        f"/api/v1/appointments/{aid}/transitions", headers=amy, json={"to": "arrived"}
    )
    assert bad.status_code == 409
    assert bad.json()["error"] == {
        "code": "invalid_transition",
        "field": "status",
        "rule": "invalid_transition",
        "message": "status: cannot go from cancelled to arrived",
    }
    for junk in ({"to": "arrived", "x": 1}, {"to": 5}, [], "null"):
        assert (
            client.post(
                f"/api/v1/appointments/{aid}/transitions", headers=amy, json=junk
            ).status_code
            == 422
        )


def test_scope_consultant_sees_own_and_team_branch_manager_the_branch(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    people = [add_person(k, f"1370000000{i}") for i in range(4)]
    owners = ["amy.consultant", "ben.consultant", "cai.consultant", "dan.consultant"]
    leads = {}
    for person, owner in zip(people, owners, strict=True):
        body = {
            "person_id": person,
            "channel": "baidu",
            "owner_id": clinic.ids[owner],
            "branch_id": clinic.south if owner == "dan.consultant" else clinic.north,
        }
        leads[owner] = client.post("/api/v1/leads", headers=amy, json=body).json()["id"]

    def seen(user: str, role: str = "consultant") -> set[str]:
        page = client.get("/api/v1/leads", headers=_auth(k, user, role)).json()
        return {i["id"] for i in page["items"]}

    assert seen("amy.consultant") == {leads["amy.consultant"], leads["ben.consultant"]}
    assert seen("cai.consultant") == {leads["cai.consultant"]}
    assert seen("mia.manager", "branch_manager") == {leads[o] for o in owners[:3]}
    hidden = client.get(f"/api/v1/leads/{leads['dan.consultant']}", headers=amy)
    assert hidden.status_code == 404


@pytest.mark.req("C4")
def test_health_derived_tag_needs_separate_consent_and_a_person_can_delete_tags(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    notice = publish(k)
    person = add_person(k, "13600000001")
    refused = client.post(
        f"/api/v1/people/{person}/tags", headers=amy, json={"name": "种植意向", "from_health": True}
    )
    assert refused.status_code == 403
    assert refused.json()["error"]["rule"] == "separate_consent_required"
    decide(k, person, notice, ("marketing.personalized_health", "sms", Kind.GRANT))
    made = client.post(
        f"/api/v1/people/{person}/tags", headers=amy, json={"name": "种植意向", "from_health": True}
    )
    assert made.status_code == 201, made.text
    client.post(f"/api/v1/people/{person}/tags", headers=amy, json={"name": "VIP"})
    tags = client.get(f"/api/v1/people/{person}/tags", headers=amy).json()
    assert {t["name"]: t["derived_from_health"] for t in tags} == {"VIP": False, "种植意向": True}
    tag_id = made.json()["id"]
    assert client.delete(f"/api/v1/people/{person}/tags/{tag_id}", headers=amy).status_code == 204
    assert [t["name"] for t in client.get(f"/api/v1/people/{person}/tags", headers=amy).json()] == [
        "VIP"
    ]
    from pulsecrm.crm import tag_service

    with pytest.raises(tag_service.TagBlocked), k.engine.begin() as conn:
        tag_service.tag_person(
            conn=conn,
            kernel=k,
            tenant_id=clinic.tenant_id,
            person_id=person,
            name="种植意向",
            from_health=True,
            derived=True,
        )


@pytest.mark.req("H5", "D2")
def test_export_above_the_threshold_waits_for_a_privacy_officer(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    marketer = _auth(k, "li.marketing", "marketing_manager")
    small = client.post(
        "/api/v1/exports",
        headers=marketer,
        json={"purpose": "marketing.sms", "person_count": 10_000},
    )
    assert small.status_code == 202 and small.json()["status"] == "not_needed"
    big = client.post(
        "/api/v1/exports",
        headers=marketer,
        json={"purpose": "marketing.sms", "person_count": 10_001},
    )
    assert big.json()["status"] == "pending_approval"
    rid = big.json()["id"]
    denied = client.post(
        f"/api/v1/exports/{rid}/decision", headers=marketer, json={"approve": True}
    )
    assert denied.status_code == 403
    officer = _auth(k, "zhao.privacy", "privacy_officer")
    ok = client.post(f"/api/v1/exports/{rid}/decision", headers=officer, json={"approve": True})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    again = client.post(f"/api/v1/exports/{rid}/decision", headers=officer, json={"approve": False})
    assert again.status_code == 409
