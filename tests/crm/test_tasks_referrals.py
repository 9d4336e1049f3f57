"""Staff tasks (codes only, scoped: own / branch), referrals (no self-referral, unknown people
named), and PATCH for leads (campaign, owner reassignment within the tenant). Bad bodies are a
422 naming the field, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pulsecrm.crm import task_service
from pulsecrm.crm.errors import InvalidTransition
from pulsecrm.crm.ids import DAY_US, now_us
from tests.consent.conftest import add_person
from tests.crm.conftest import Clinic
from tests.crm.test_api_privacy import _auth, _lead

TASKS = "/api/v1/tasks"
OTHER_ID = "f" * 32


@pytest.fixture
def client(clinic: Clinic, installed: object) -> Iterator[TestClient]:
    from pulsecrm.api.app import create_app

    with TestClient(
        create_app(installed, kernel=clinic.kernel), raise_server_exceptions=False
    ) as c:  # type: ignore[arg-type]
        yield c


def _error(r: object) -> tuple[str | None, str | None]:
    body = r.json()["error"]  # type: ignore[attr-defined]
    return body["field"], body["rule"]


# -- tasks -------------------------------------------------------------------------------------
def test_task_is_created_listed_for_its_owner_and_completed_once(
    clinic: Clinic, client: TestClient
) -> None:
    amy = _auth(clinic.kernel, "amy.consultant")
    person = add_person(clinic.kernel, "13500000001")
    lead = _lead(client, amy, person, clinic, "amy.consultant")
    due = now_us() + DAY_US
    r = client.post(TASKS, headers=amy, json={"kind": "call_back", "due_us": due, "lead_id": lead})
    assert r.status_code == 201, r.text
    task_id = r.json()["id"]
    client.post(TASKS, headers=amy, json={"kind": "other", "due_us": due - 1})
    listed = client.get(TASKS, headers=amy).json()
    assert listed["total"] == 2 and listed["limit"] == 50
    assert [t["kind"] for t in listed["items"]] == ["other", "call_back"]
    assert listed["items"][1]["person_id"] == person  # the lead's person
    assert listed["items"][1]["lead_id"] == lead and listed["items"][0]["lead_id"] is None
    assert listed["items"][1]["owner_id"] == clinic.ids["amy.consultant"]
    done = client.post(f"{TASKS}/{task_id}/complete", headers=amy)
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done"
    again = client.post(f"{TASKS}/{task_id}/complete", headers=amy)
    assert again.status_code == 409
    assert _error(again) == ("status", "invalid_transition")
    assert client.get(TASKS, headers=amy).json()["total"] == 1
    paged = client.get(f"{TASKS}?limit=1&offset=1", headers=amy).json()
    assert paged["items"] == [] and paged["total"] == 1


def test_completing_twice_in_the_service_names_status(clinic: Clinic) -> None:
    scope = clinic.scope("ben.consultant")
    with clinic.kernel.engine.begin() as conn:
        task_id = task_service.create_task(
            conn=conn, scope=scope, kind="send_material", due_us=now_us()
        )
        task_service.complete_task(conn=conn, scope=scope, task_id=task_id)
        with pytest.raises(InvalidTransition) as err:
            task_service.complete_task(conn=conn, scope=scope, task_id=task_id)
    assert err.value.field == "status"


def test_tasks_scope_own_for_consultants_branch_for_the_branch_manager(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy, ben = _auth(k, "amy.consultant"), _auth(k, "ben.consultant")
    mia = _auth(k, "mia.manager", "branch_manager")
    dan = _auth(k, "dan.consultant")
    due = now_us() + DAY_US
    amys = client.post(TASKS, headers=amy, json={"kind": "call_back", "due_us": due}).json()["id"]
    client.post(TASKS, headers=dan, json={"kind": "call_back", "due_us": due})
    # a teammate neither sees nor completes amy's task
    assert client.get(TASKS, headers=ben).json()["total"] == 0
    as_ben = f"?owner_id={clinic.ids['amy.consultant']}"
    assert client.get(TASKS + as_ben, headers=ben).json()["total"] == 0
    assert client.post(f"{TASKS}/{amys}/complete", headers=ben).status_code == 404
    # a consultant creates tasks only for themselves
    r = client.post(
        TASKS,
        headers=amy,
        json={"kind": "other", "due_us": due, "owner_id": clinic.ids["ben.consultant"]},
    )
    assert r.status_code == 422 and _error(r)[0] == "owner_id"
    # the north branch manager sees amy's, not dan's (south), and can assign within the branch
    assert client.get(TASKS + as_ben, headers=mia).json()["total"] == 1
    as_dan = f"?owner_id={clinic.ids['dan.consultant']}"
    assert client.get(TASKS + as_dan, headers=mia).json()["total"] == 0
    r = client.post(
        TASKS,
        headers=mia,
        json={"kind": "other", "due_us": due, "owner_id": clinic.ids["ben.consultant"]},
    )
    assert r.status_code == 201, r.text
    assert client.get(TASKS, headers=ben).json()["total"] == 1
    r = client.post(
        TASKS,
        headers=mia,
        json={"kind": "other", "due_us": due, "owner_id": clinic.ids["dan.consultant"]},
    )
    assert r.status_code == 422 and _error(r)[0] == "owner_id"
    assert client.post(f"{TASKS}/{amys}/complete", headers=mia).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "call_back"}, "due_us"),
        ({"kind": "call_him_about_his_hiv_test", "due_us": 1}, "kind"),
        ({"kind": "other", "due_us": 1, "note": "王小明 HIV"}, "note"),
        ({"kind": "other", "due_us": "tomorrow"}, "due_us"),
        ({"kind": "other", "due_us": 1, "person_id": "x"}, "person_id"),
        ({"kind": "other", "due_us": 2**63}, "due_us"),
        ({"kind": "other", "due_us": 1, "owner_id": "1"}, "owner_id"),
    ],
)
def test_bad_task_bodies_are_422_naming_the_field_and_nothing_is_stored(
    clinic: Clinic, client: TestClient, body: dict[str, object], field: str
) -> None:
    amy = _auth(clinic.kernel, "amy.consultant")
    r = client.post(TASKS, headers=amy, json=body)
    assert r.status_code == 422, r.text
    assert _error(r)[0] == field
    assert client.get(TASKS, headers=amy).json()["total"] == 0


def test_unknown_person_or_lead_on_a_task_is_named(clinic: Clinic, client: TestClient) -> None:
    amy = _auth(clinic.kernel, "amy.consultant")
    for key in ("person_id", "lead_id"):
        r = client.post(TASKS, headers=amy, json={"kind": "other", "due_us": 1, key: OTHER_ID})
        assert r.status_code == 404 and _error(r)[0] == key
    assert client.post(f"{TASKS}/{OTHER_ID}/complete", headers=amy).status_code == 404
    assert client.post(f"{TASKS}/not-an-id/complete", headers=amy).status_code == 422


# -- referrals ---------------------------------------------------------------------------------
def test_referral_recorded_by_person_or_lead_and_listed_by_referrer(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    referrer, friend, cousin = (add_person(k, f"1340000000{i}") for i in range(3))
    r = client.post(
        "/api/v1/referrals",
        headers=amy,
        json={"referrer_id": referrer, "referred_id": friend, "channel": "wechat_share"},
    )
    assert r.status_code == 201, r.text
    lead = _lead(client, amy, cousin, clinic, "amy.consultant")
    r = client.post(
        "/api/v1/referrals", headers=amy, json={"referrer_id": referrer, "lead_id": lead}
    )
    assert r.status_code == 201, r.text
    listed = client.get(f"/api/v1/referrals?referrer={referrer}", headers=amy).json()
    assert listed["total"] == 2
    assert {i["referred_id"] for i in listed["items"]} == {friend, cousin}
    assert {i["lead_id"] for i in listed["items"]} == {None, lead}
    channels = {i["referred_id"]: i["channel"] for i in listed["items"]}
    lead_channel = client.get(f"/api/v1/leads/{lead}", headers=amy).json()["channel"]
    assert channels == {friend: "wechat_share", cousin: lead_channel}  # given, else the lead's
    bad = client.post(
        "/api/v1/referrals",
        headers=amy,
        json={"referrer_id": friend, "referred_id": referrer, "channel": "张三的朋友"},
    )
    assert bad.status_code == 422 and _error(bad)[0] == "channel"
    assert client.get(f"/api/v1/referrals?referrer={friend}", headers=amy).json()["total"] == 0
    again = client.post(
        "/api/v1/referrals", headers=amy, json={"referrer_id": cousin, "referred_id": friend}
    )
    assert again.status_code == 409 and _error(again)[0] == "referred_id"


def test_self_referral_and_unknown_people_are_refused_naming_the_field(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    me = add_person(k, "13300000001")
    url = "/api/v1/referrals"
    r = client.post(url, headers=amy, json={"referrer_id": me, "referred_id": me})
    assert r.status_code == 422 and _error(r)[0] == "referred_id"
    lead = _lead(client, amy, me, clinic, "amy.consultant")
    r = client.post(url, headers=amy, json={"referrer_id": me, "lead_id": lead})
    assert r.status_code == 422 and _error(r)[0] == "lead_id"
    r = client.post(url, headers=amy, json={"referrer_id": OTHER_ID, "referred_id": me})
    assert r.status_code == 404 and _error(r)[0] == "referrer_id"
    r = client.post(url, headers=amy, json={"referrer_id": me, "referred_id": OTHER_ID})
    assert r.status_code == 404 and _error(r)[0] == "referred_id"
    r = client.post(url, headers=amy, json={"referrer_id": me})
    assert r.status_code == 422 and _error(r)[0] == "referred_id"
    r = client.post(url, headers=amy, json={"referrer_id": me, "referred_id": 5})
    assert r.status_code == 422 and _error(r)[0] == "referred_id"
    r = client.post(url, headers=amy, json={"referrer_id": me, "referred_id": me, "note": "x"})
    assert r.status_code == 422 and _error(r)[0] == "note"
    assert client.get(url, headers=amy).json()["total"] == 0  # nothing was recorded
    assert client.get(f"{url}?referrer=nope", headers=amy).status_code == 422
    assert client.get(f"{url}?referrer={me}", headers=amy).json()["total"] == 0


# -- PATCH /leads ------------------------------------------------------------------------------
def test_patch_lead_changes_campaign_and_reassigns_owner_within_the_tenant(
    clinic: Clinic, client: TestClient
) -> None:
    k = clinic.kernel
    amy = _auth(k, "amy.consultant")
    lead = _lead(client, amy, add_person(k, "13200000001"), clinic, "amy.consultant")
    url = f"/api/v1/leads/{lead}"
    r = client.patch(url, headers=amy, json={"campaign": "spring-implant"})
    assert r.status_code == 200, r.text
    assert r.json()["campaign"] == "spring-implant"
    assert r.json()["owner_id"] == clinic.ids["amy.consultant"]
    r = client.patch(url, headers=amy, json={"owner_id": 999_999})
    assert r.status_code == 422 and _error(r)[0] == "owner_id"
    for bad in ({"owner_id": None}, {"owner_id": "7"}, {"status": "lost"}, {"campaign": 3}):
        r = client.patch(url, headers=amy, json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert _error(r)[0] == next(iter(bad)), bad
    r = client.patch(url, headers=amy, json={"campaign": "x" * 101})
    assert r.status_code == 422 and _error(r)[0] == "campaign"
    # reassigned to a south consultant: the lead follows dan (team too) and leaves amy's scope
    r = client.patch(url, headers=amy, json={"owner_id": clinic.ids["dan.consultant"]})
    assert r.status_code == 200, r.text
    assert r.json()["owner_id"] == clinic.ids["dan.consultant"] and r.json()["team_id"] is None
    assert r.json()["campaign"] == "spring-implant"
    assert client.get(url, headers=amy).status_code == 404
    dan = _auth(k, "dan.consultant")
    assert client.get(url, headers=dan).json()["owner_id"] == clinic.ids["dan.consultant"]
    assert client.patch(url, headers=amy, json={"campaign": "y"}).status_code == 404
    assert client.patch(f"/api/v1/leads/{OTHER_ID}", headers=dan, json={}).status_code == 404
