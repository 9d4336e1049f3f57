"""REST completeness for the CRM objects: every object has list (filters, paging, masked
people) and get, staff-created ones create and update, and state moves are transitions.

Each new endpoint: the happy path, bad input → 4xx naming the field with nothing
written, and scope (another consultant's or branch's row → 404, never 403).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pulsecrm.crm.ids import DAY_US, now_us
from tests.consent.conftest import add_person
from tests.crm.conftest import Clinic
from tests.crm.test_api_privacy import _auth, _lead
from tests.helpers import audit_rows

V1 = "/api/v1"
OTHER_ID = "f" * 32


@pytest.fixture
def client(clinic: Clinic, installed: object) -> Iterator[TestClient]:
    from pulsecrm.api.app import create_app

    with TestClient(
        create_app(installed, kernel=clinic.kernel), raise_server_exceptions=False
    ) as c:
        yield c


def _error(r: Any) -> tuple[str | None, str | None]:
    body = r.json()["error"]
    return body["field"], body["rule"]


def _consult(client: TestClient, h: dict[str, str], person: str, lead: str, **extra: Any) -> str:
    body = {
        "person_id": person,
        "lead_id": lead,
        "mode": "on_site",
        "items": ["implant"],
        "intent_level": "medium",
        "chief_complaint": "牙龈出血",
        "notes": "初诊",
        **extra,
    }
    r = client.post(f"{V1}/consultations", headers=h, json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _book(client: TestClient, h: dict[str, str], person: str, clinic: Clinic) -> str:
    r = client.post(
        f"{V1}/appointments",
        headers=h,
        json={
            "person_id": person,
            "branch_id": clinic.north,
            "item": "cleaning",
            "slot_us": now_us() + 2 * DAY_US,
        },
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _arrive(client: TestClient, h: dict[str, str], appointment: str) -> str:
    r = client.post(
        f"{V1}/appointments/{appointment}/transitions", headers=h, json={"to": "arrived"}
    )
    assert r.status_code == 200, r.text
    return str(r.json()["visit_id"])


def _deal(client: TestClient, h: dict[str, str], person: str, clinic: Clinic, **extra: Any) -> Any:
    body = {
        "person_id": person,
        "branch_id": clinic.north,
        "items": ["implant"],
        "amount_cents": 1_200_000,
        **extra,
    }
    r = client.post(f"{V1}/deals", headers=h, json=body)
    assert r.status_code == 201, r.text
    return r.json()


# -- the OpenAPI spec: every object, every operation ------------------------------------------
OBJECTS = {
    # path: (created by staff → create + update expected)
    "leads": True,
    "consultations": True,
    "appointments": True,
    "visits": False,  # created by the ``arrived`` transition
    "deals": True,
    "followups": False,  # created by a deal's template or a completed follow-up
    "followup-templates": True,
    "tasks": True,
    "referrals": True,
}


def test_openapi_has_list_get_create_update_for_every_crm_object(client: TestClient) -> None:
    spec = client.get(f"{V1}/openapi.json").json()
    paths: dict[str, dict[str, Any]] = spec["paths"]
    missing = []
    for name, staff_created in OBJECTS.items():
        collection = paths.get(f"{V1}/{name}", {})
        items = [p for p in paths if p.startswith(f"{V1}/{name}/{{") and p.count("/") == 4]
        item = paths.get(items[0], {}) if len(items) == 1 else {}
        expected = [("list", collection, "get"), ("get", item, "get")]
        if staff_created:
            expected += [("create", collection, "post"), ("update", item, "patch")]
        missing += [f"{name}: {op}" for op, ops, method in expected if method not in ops]
        if "get" in collection:
            params = {p["name"] for p in collection["get"].get("parameters", [])}
            if not {"limit", "offset"} <= params:
                missing.append(f"{name}: list paging")
        for method in ("post", "patch"):
            if method in (item if method == "patch" else collection):
                op = (item if method == "patch" else collection)[method]
                ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
                if schema.get("additionalProperties") is not False:
                    missing.append(f"{name}: {method} body allows unknown fields")
    assert missing == []
    transitions = [
        f"{V1}/leads/{{lead_id}}/transitions",
        f"{V1}/appointments/{{appointment_id}}/transitions",
        f"{V1}/tasks/{{task_id}}/complete",
        f"{V1}/tasks/{{task_id}}/cancel",
        f"{V1}/followups/{{task_id}}/complete",
        f"{V1}/followups/{{task_id}}/skip",
    ]
    assert [t for t in transitions if "post" not in paths.get(t, {})] == []
    not_editable = spec["components"]["schemas"]["AppointmentPatch"]["x-not-editable"]
    assert "rescheduled" in not_editable["slot_us"]


# -- leads: filters, paging, masked people, transitions ----------------------------------------
@pytest.mark.req("D2")
def test_lead_list_filters_pages_and_masks_people(clinic: Clinic, client: TestClient) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    people = [add_person(k, f"1370000000{i}") for i in range(3)]
    before = now_us()
    leads = [_lead(client, amy, p, clinic, "amy.consultant") for p in people]
    client.patch(f"{V1}/leads/{leads[0]}", headers=amy, json={"campaign": "spring"})
    client.post(f"{V1}/leads/{leads[1]}/transitions", headers=amy, json={"to": "lost"})
    url = f"{V1}/leads"
    everything = client.get(url, headers=amy).json()
    assert everything["total"] == 3
    assert {i["person"]["phone"] for i in everything["items"]} == {
        f"137****000{i}" for i in range(3)
    }
    assert "13700000001" not in client.get(url, headers=amy).text
    checks = {
        "campaign=spring": {leads[0]},
        "status=lost": {leads[1]},
        "status=new": {leads[0], leads[2]},
        f"owner_id={clinic.ids['amy.consultant']}": set(leads),
        f"owner_id={clinic.ids['ben.consultant']}": set(),
        f"branch_id={clinic.north}": set(leads),
        f"branch_id={clinic.south}": set(),
        "channel=douyin": set(leads),
        "channel=baidu": set(),
        f"person_id={people[2]}": {leads[2]},
        f"created_from_us={before}": set(leads),
        f"created_to_us={before}": set(),
    }
    for query, expected in checks.items():
        got = client.get(f"{url}?{query}", headers=amy).json()
        assert {i["id"] for i in got["items"]} == expected, query
        assert got["total"] == len(expected), query
    paged = client.get(f"{url}?limit=2&offset=2", headers=amy).json()
    assert len(paged["items"]) == 1 and paged["total"] == 3 and paged["offset"] == 2
    for bad, field in (("status=won", "status"), ("limit=0", "limit"), ("owner_id=x", "owner_id")):
        r = client.get(f"{url}?{bad}", headers=amy)
        assert r.status_code == 422 and _error(r)[0] == f"query.{field}", bad
    dan = _auth(k, "dan.consultant")
    assert client.get(url, headers=dan).json()["total"] == 0


def test_lead_transitions_follow_the_table_and_name_status(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    lead = _lead(client, amy, add_person(k, "13600000001"), clinic, "amy.consultant")
    url = f"{V1}/leads/{lead}/transitions"
    r = client.post(url, headers=amy, json={"to": "contacted"})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "contacted" and r.json()["first_response_us"] is not None
    r = client.post(url, headers=amy, json={"to": "converted"})
    assert r.status_code == 409 and _error(r) == ("status", "invalid_transition")
    assert "deal" in r.json()["error"]["message"]
    assert client.post(url, headers=amy, json={"to": "lost"}).json()["status"] == "lost"
    assert client.post(url, headers=amy, json={"to": "new"}).json()["status"] == "new"
    r = client.post(url, headers=amy, json={"to": "won"})
    assert r.status_code == 422 and _error(r)[0] == "to"
    r = client.patch(f"{V1}/leads/{lead}", headers=amy, json={"status": "lost"})
    assert r.status_code == 422 and _error(r) == ("status", "not_editable")
    assert "transitions" in r.json()["error"]["message"]
    assert client.get(f"{V1}/leads/{lead}", headers=amy).json()["status"] == "new"
    dan = _auth(k, "dan.consultant")
    assert client.post(url, headers=dan, json={"to": "lost"}).status_code == 404
    assert client.get(f"{V1}/leads/{lead}", headers=amy).json()["status"] == "new"


# -- consultations: PATCH re-seals health fields; no grant → 403 naming the field ------------
@pytest.mark.req("D2")
def test_patch_consultation_reseals_health_fields_and_is_audited(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    person = add_person(k, "13500000011")
    lead = _lead(client, amy, person, clinic, "amy.consultant")
    cid = _consult(client, amy, person, lead)
    url = f"{V1}/consultations/{cid}"
    r = client.patch(
        url,
        headers=amy,
        json={"intent_level": "high", "items": ["implant", "whitening"], "notes": "复诊：好转"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["intent_level"] == "high" and r.json()["items"] == ["implant", "whitening"]
    assert "notes" not in r.json() and "好转" not in r.text
    opened = client.get(f"{url}?reveal=true", headers=amy).json()
    assert opened["consultation_notes"] == "复诊：好转"
    assert opened["chief_complaint"] == "牙龈出血"  # untouched
    assert opened["person"]["phone"] == "135****0011"
    writes = [
        a
        for a in audit_rows(k, action="write", actor="amy.consultant", outcome="allowed")
        if cid in str(a["detail"]) and "created" not in str(a["detail"])
    ]
    assert len(writes) == 1 and str(writes[0]["fields"]) == "consultation_notes"
    assert "好转" not in str(writes[0])
    r = client.patch(url, headers=amy, json={"chief_complaint": None})
    assert r.status_code == 200, r.text
    assert client.get(f"{url}?reveal=true", headers=amy).json()["chief_complaint"] is None


@pytest.mark.req("D2")
@pytest.mark.parametrize(
    ("user", "role"), [("fay.desk", "front_desk"), ("li.marketing", "marketing_manager")]
)
def test_roles_without_a_health_grant_cannot_write_health_fields(
    clinic: Clinic, client: TestClient, user: str, role: str
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    person = add_person(k, "13500000012")
    lead = _lead(client, amy, person, clinic, "amy.consultant")
    cid = _consult(client, amy, person, lead, branch_id=clinic.north)
    other = _auth(k, user, role)
    url = f"{V1}/consultations/{cid}"
    r = client.patch(url, headers=other, json={"intent_level": "high", "notes": "改写"})
    assert r.status_code == 403, r.text
    assert _error(r) == ("notes", "health_grant_required")
    denied = audit_rows(k, action="write", actor=user, outcome="denied")
    assert denied and "consultation_notes" in str(denied[-1]["fields"])
    zh = client.patch(
        url, headers={**other, "Accept-Language": "zh-CN"}, json={"chief_complaint": "x"}
    )
    assert zh.status_code == 403 and "健康" in zh.json()["error"]["message"]
    assert _error(zh)[0] == "chief_complaint"
    mine = client.get(f"{url}?reveal=true", headers=amy).json()
    assert mine["intent_level"] == "medium" and mine["consultation_notes"] == "初诊"
    if role == "front_desk":  # the branch's front desk may still correct non-health facts
        ok = client.patch(url, headers=other, json={"intent_level": "low"})
        assert ok.status_code == 200 and ok.json()["intent_level"] == "low"


@pytest.mark.parametrize(
    ("body", "field", "status"),
    [
        ({"intent_level": "urgent"}, "intent_level", 422),
        ({"items": []}, "items", 422),
        ({"items": ["a,b"]}, "items", 422),
        ({"items": [""]}, "items.0", 422),
        ({"notes": "x" * 4001}, "notes", 422),
        ({"notes": 5}, "notes", 422),
        ({"mode": "online"}, "mode", 422),
        ({"consultant_id": 1}, "consultant_id", 422),
        ({"diagnosis": "HIV"}, "diagnosis", 422),
        ({"intent_level": None}, "intent_level", 422),
    ],
)
def test_bad_consultation_patches_name_the_field_and_write_nothing(
    clinic: Clinic, client: TestClient, body: dict[str, Any], field: str, status: int
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    person = add_person(k, "13500000013")
    cid = _consult(client, amy, person, _lead(client, amy, person, clinic, "amy.consultant"))
    r = client.patch(f"{V1}/consultations/{cid}", headers=amy, json=body)
    assert r.status_code == status, r.text
    assert _error(r)[0] == field
    after = client.get(f"{V1}/consultations/{cid}?reveal=true", headers=amy).json()
    assert after["intent_level"] == "medium" and after["items"] == ["implant"]
    assert after["consultation_notes"] == "初诊"


def test_consultation_scope_and_list_filters(clinic: Clinic, client: TestClient) -> None:
    k = clinic.kernel
    amy, dan = _auth(k, "amy.consultant"), _auth(k, "dan.consultant")
    person = add_person(k, "13500000014")
    lead = _lead(client, amy, person, clinic, "amy.consultant")
    cid = _consult(client, amy, person, lead, branch_id=clinic.north)
    _consult(client, amy, person, lead, mode="online", intent_level="low")
    url = f"{V1}/consultations"
    assert (
        client.patch(f"{url}/{cid}", headers=dan, json={"intent_level": "low"}).status_code == 404
    )
    assert client.get(f"{url}/{cid}", headers=dan).status_code == 404
    assert client.get(url, headers=dan).json()["total"] == 0
    for query, count in (
        ("mode=online", 1),
        ("intent_level=medium", 1),
        (f"branch_id={clinic.north}", 1),
        (f"consultant_id={clinic.ids['amy.consultant']}", 2),
        (f"to_us={now_us() - DAY_US}", 0),
        (f"person_id={person}", 2),
    ):
        got = client.get(f"{url}?{query}", headers=amy).json()
        assert got["total"] == count, query
    listed = client.get(url, headers=amy)
    assert all(i["person"]["phone"] == "135****0014" for i in listed.json()["items"])
    assert "牙龈" not in listed.text
    r = client.get(f"{url}?mode=video", headers=amy)
    assert r.status_code == 422 and _error(r)[0] == "query.mode"


# -- appointments: PATCH doctor/item; the slot only by transition ---------------------------
def test_patch_appointment_changes_doctor_and_item_never_the_slot(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    person = add_person(k, "13400000021")
    appointment = _book(client, amy, person, clinic)
    url = f"{V1}/appointments/{appointment}"
    doctor = clinic.ids["doc.wang"]
    r = client.patch(url, headers=amy, json={"doctor_id": doctor, "item": "implant"})
    assert r.status_code == 200, r.text
    assert r.json()["doctor_id"] == doctor and r.json()["item"] == "implant"
    slot = r.json()["slot_us"]
    r = client.patch(url, headers=amy, json={"slot_us": slot + DAY_US})
    assert r.status_code == 422 and _error(r) == ("slot_us", "not_editable")
    assert "rescheduled" in r.json()["error"]["message"]
    for body, field, code in (
        ({"status": "arrived"}, "status", 422),
        ({"branch_id": clinic.south}, "branch_id", 422),
        ({"doctor_id": clinic.ids["amy.consultant"]}, "doctor_id", 404),
        ({"doctor_id": 2**40}, "doctor_id", 422),
        ({"item": ""}, "item", 422),
        ({"item": None}, "item", 422),
        ({"room": "3"}, "room", 422),
    ):
        r = client.patch(url, headers=amy, json=body)
        assert r.status_code == code and _error(r)[0] == field, (body, r.text)
    after = client.get(url, headers=amy).json()
    assert (after["slot_us"], after["item"], after["doctor_id"]) == (slot, "implant", doctor)
    assert client.patch(url, headers=amy, json={"doctor_id": None}).json()["doctor_id"] is None
    dan = _auth(k, "dan.consultant")
    assert client.patch(url, headers=dan, json={"item": "x"}).status_code == 404
    cancelled = client.post(f"{url}/transitions", headers=amy, json={"to": "cancelled"})
    assert cancelled.status_code == 200
    r = client.patch(url, headers=amy, json={"item": "whitening"})
    assert r.status_code == 409 and _error(r)[0] == "status"
    assert client.get(url, headers=amy).json()["item"] == "implant"
    listed = client.get(f"{V1}/appointments?doctor_id={doctor}", headers=amy).json()
    assert listed["total"] == 0
    listed = client.get(f"{V1}/appointments?status=cancelled", headers=amy).json()
    assert listed["total"] == 1 and listed["items"][0]["person"]["phone"] == "134****0021"


# -- visits ---------------------------------------------------------------------------------
def test_visit_get_list_filters_and_scope(clinic: Clinic, client: TestClient) -> None:
    k = clinic.kernel
    amy, dan = _auth(k, "amy.consultant"), _auth(k, "dan.consultant")
    mia = _auth(k, "mia.manager", "branch_manager")
    person = add_person(k, "13400000022")
    visit = _arrive(client, amy, _book(client, amy, person, clinic))
    r = client.get(f"{V1}/visits/{visit}", headers=amy)
    assert r.status_code == 200, r.text
    assert r.json()["person_id"] == person and r.json()["branch_id"] == clinic.north
    assert r.json()["person"]["phone"] == "134****0022"
    assert client.get(f"{V1}/visits/{visit}", headers=mia).status_code == 200
    assert client.get(f"{V1}/visits/{visit}", headers=dan).status_code == 404
    assert client.get(f"{V1}/visits/{OTHER_ID}", headers=amy).status_code == 404
    assert client.get(f"{V1}/visits/nope", headers=amy).status_code == 422
    for query, count in (
        (f"branch_id={clinic.north}", 1),
        (f"branch_id={clinic.south}", 0),
        (f"from_us={now_us() + DAY_US}", 0),
        (f"to_us={now_us() + DAY_US}", 1),
    ):
        assert client.get(f"{V1}/visits?{query}", headers=amy).json()["total"] == count, query
    assert client.get(f"{V1}/visits", headers=dan).json()["total"] == 0


# -- deals ----------------------------------------------------------------------------------
def test_deal_get_patch_and_first_vs_repeat_stays_derived(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy, dan = _auth(k, "amy.consultant"), _auth(k, "dan.consultant")
    person = add_person(k, "13300000031")
    first = _deal(client, amy, person, clinic)["deal_id"]
    repeat = _deal(client, amy, person, clinic, items=["whitening"], amount_cents=50_000)
    assert repeat["is_first"] is False
    url = f"{V1}/deals/{first}"
    got = client.get(url, headers=amy).json()
    assert got["is_first"] is True and got["items"] == ["implant"]
    assert got["person"]["phone"] == "133****0031"
    r = client.patch(
        url, headers=amy, json={"amount_cents": 990_000, "items": ["implant", "crown"]}
    )
    assert r.status_code == 200, r.text
    assert r.json()["amount_cents"] == 990_000 and r.json()["items"] == ["implant", "crown"]
    assert r.json()["is_first"] is True
    for body, field in (
        ({"is_first": False}, "is_first"),
        ({"amount_cents": 0}, "amount_cents"),
        ({"amount_cents": 10**16}, "amount_cents"),
        ({"amount_cents": "100"}, "amount_cents"),
        ({"amount_cents": 1.5}, "amount_cents"),
        ({"items": []}, "items"),
        ({"items": ["a,b"]}, "items"),
        ({"person_id": OTHER_ID}, "person_id"),
        ({"discount": 5}, "discount"),
    ):
        r = client.patch(url, headers=amy, json=body)
        assert r.status_code == 422 and _error(r)[0] == field, (body, r.text)
    after = client.get(url, headers=amy).json()
    assert (after["amount_cents"], after["is_first"]) == (990_000, True)
    assert client.get(url, headers=dan).status_code == 404
    assert client.patch(url, headers=dan, json={"amount_cents": 1}).status_code == 404
    assert client.get(url, headers=amy).json()["amount_cents"] == 990_000


def test_deal_list_filters_by_person_branch_period_and_first(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    one, two = add_person(k, "13300000032"), add_person(k, "13300000033")
    before = now_us()
    _deal(client, amy, one, clinic)
    _deal(client, amy, one, clinic)
    _deal(client, amy, two, clinic)
    url = f"{V1}/deals"
    for query, count in (
        (f"person_id={one}", 2),
        (f"branch_id={clinic.north}", 3),
        (f"branch_id={clinic.south}", 0),
        ("is_first=true", 2),
        ("is_first=false", 1),
        (f"from_us={before}", 3),
        (f"to_us={before}", 0),
        (f"consultant_id={clinic.ids['amy.consultant']}", 3),
    ):
        assert client.get(f"{url}?{query}", headers=amy).json()["total"] == count, query
    paged = client.get(f"{url}?limit=1&offset=1", headers=amy).json()
    assert len(paged["items"]) == 1 and paged["total"] == 3
    r = client.get(f"{url}?from_us=-1", headers=amy)
    assert r.status_code == 422 and _error(r)[0] == "query.from_us"


@pytest.mark.req("D2")
def test_creating_a_consultation_with_health_fields_needs_the_grant_and_is_audited(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy, desk = _auth(k, "amy.consultant"), _auth(k, "fay.desk", "front_desk")
    person = add_person(k, "13500000015")
    body = {"person_id": person, "mode": "on_site", "items": ["implant"], "intent_level": "low"}
    r = client.post(f"{V1}/consultations", headers=desk, json={**body, "notes": "高血压"})
    assert r.status_code == 403 and _error(r) == ("notes", "health_grant_required")
    assert audit_rows(k, action="write", actor="fay.desk", outcome="denied")
    assert client.get(f"{V1}/consultations", headers=amy).json()["total"] == 0
    ok = client.post(f"{V1}/consultations", headers=desk, json=body)  # no health field: fine
    assert ok.status_code == 201, ok.text
    cid = _consult(client, amy, person, _lead(client, amy, person, clinic, "amy.consultant"))
    writes = [
        a for a in audit_rows(k, action="write", outcome="allowed") if cid in str(a["detail"])
    ]
    assert len(writes) == 1
    assert {"chief_complaint", "consultation_notes"} <= set(str(writes[0]["fields"]).split(","))
    assert "牙龈" not in str(writes[0])
