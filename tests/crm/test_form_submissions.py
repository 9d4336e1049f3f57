"""Capture-form submissions: everything stored together or nothing (D1, B4), health answers
sealed and only with the separate consent, staff reads through the kernel (D2), and the
person's own tags from the preference link (C4)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pulsecrm.api.app import create_app
from pulsecrm.consent.tables import consent_event
from pulsecrm.consent.tokens import PREFS, make_link_token
from pulsecrm.crm import tag_service
from pulsecrm.crm.clinic_tables import form_submission, lead
from pulsecrm.crm.tables import person
from pulsecrm.kernel.runtime import Kernel
from tests.consent.conftest import publish
from tests.crm.conftest import Clinic
from tests.crm.test_api_privacy import _auth
from tests.helpers import audit_rows

FORM = {
    "slug": "implant-checkup",
    "title": "种植牙免费评估",
    "purposes": ["service.appointment", "marketing.sms", "marketing.personalized_health"],
    "fields": ["name", "phone", "city", "questionnaire_answers"],
    "channel": "web_form",
}
URL = "/api/v1/public/forms/implant-checkup"


@pytest.fixture
def client(clinic: Clinic, installed: object) -> Iterator[TestClient]:
    with TestClient(create_app(clinic.kernel.settings, kernel=clinic.kernel)) as c:
        yield c


@pytest.fixture
def form(clinic: Clinic, client: TestClient) -> str:
    notice = publish(clinic.kernel)
    officer = _auth(clinic.kernel, "zhao.privacy", "privacy_officer")
    r = client.post("/api/v1/forms", headers=officer, json=FORM)
    assert r.status_code == 201, r.text
    return notice


def _counts(kernel: Kernel) -> tuple[int, int, int, int]:
    with kernel.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (person, lead, form_submission, consent_event)
        )


def _submit(client: TestClient, notice: str, **changes: Any) -> Any:
    body: dict[str, Any] = {
        "values": {
            "name": "陈静",
            "phone": "+86 139-1234-5678",
            "city": "上海",
            "questionnaire_answers": {"missing_teeth": 2, "diabetes": "no"},
        },
        "decisions": [
            {"purpose": "marketing.personalized_health", "granted": True, "channel": "sms"},
            {"purpose": "marketing.personalized_health", "granted": True, "channel": "wechat"},
            {"purpose": "marketing.sms", "granted": False},
        ],
        "notice_hash": notice,
        "utm_source": "baidu",
        "utm_campaign": "implant-winter",
    }
    body.update(changes)
    return client.post(URL, json=body, headers={"user-agent": "Mozilla/5.0 (iPhone)"})


def test_the_public_form_shows_every_consent_box_unchecked(
    clinic: Clinic, client: TestClient, form: str
) -> None:
    shown = client.get(URL).json()
    boxes = {b["purpose"]: b for b in shown["consent_boxes"]}
    assert set(boxes) == {"marketing.sms", "marketing.personalized_health"}
    assert not any(b["checked"] for b in boxes.values())
    assert boxes["marketing.personalized_health"]["separate"] is True
    assert boxes["marketing.sms"]["channels"] == ["sms"]
    assert shown["notice_hash"] == form


@pytest.mark.req("D1", "B4")
def test_a_submission_stores_person_lead_decisions_and_sealed_answers_together(
    clinic: Clinic, client: TestClient, form: str
) -> None:
    k = clinic.kernel
    r = _submit(client, form)
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["consent_events"] == 3  # one per box and channel; the refusal too
    with k.engine.connect() as conn:
        row = conn.execute(select(form_submission)).one()
        the_lead = conn.execute(select(lead).where(lead.c.id == stored["lead_id"])).one()
        kinds = {
            (r.purpose, r.channel): r.kind
            for r in conn.execute(
                select(
                    consent_event.c.purpose, consent_event.c.channel, consent_event.c.kind
                ).where(consent_event.c.person_id == row.person_id)
            )
        }
    assert row.notice_hash == form
    assert b"missing_teeth" not in row.answers and "糖尿病".encode() not in row.answers
    assert (the_lead.channel, the_lead.utm_source, the_lead.utm_campaign) == (
        "web_form",
        "baidu",
        "implant-winter",
    )
    assert kinds == {
        ("marketing.personalized_health", "sms"): "grant",
        ("marketing.personalized_health", "wechat"): "grant",
        ("marketing.sms", "sms"): "refuse",
    }
    # the same person again (another spelling of the phone) is not doubled
    again = _submit(client, form, values={"name": "陈静", "phone": "13912345678"}, decisions=[])
    assert again.status_code == 201, again.text
    assert _counts(k)[0] == 1 and _counts(k)[2] == 2
    # staff read the answers through the kernel: a consultant sees them (masked until
    # revealed); the front desk has no health grant and gets none (D2)
    amy = _auth(k, "amy.consultant")
    subs = client.get(f"/api/v1/people/{row.person_id}/submissions?reveal=true", headers=amy).json()
    answers = {"questionnaire_answers": {"missing_teeth": 2, "diabetes": "no"}}
    assert [s["answers"] for s in subs] == [None, answers]  # newest first
    desk = _auth(k, "fay.desk", "front_desk")
    subs = client.get(f"/api/v1/people/{row.person_id}/submissions", headers=desk).json()
    assert all(s["answers"] is None for s in subs)
    reads = audit_rows(k, actor="amy.consultant")
    assert any("questionnaire_answers" in str(r["fields"]) for r in reads)


@pytest.mark.req("B4", "D1")
def test_health_answers_without_the_separate_consent_store_nothing(
    clinic: Clinic, client: TestClient, form: str
) -> None:
    before = _counts(clinic.kernel)
    r = _submit(
        client,
        form,
        decisions=[
            {"purpose": "marketing.personalized_health", "granted": False, "channel": "sms"},
            {"purpose": "marketing.sms", "granted": True},
        ],
    )
    assert r.status_code == 403, r.text
    assert r.json()["error"]["field"] == "questionnaire_answers"
    assert _counts(clinic.kernel) == before


@pytest.mark.req("D1")
@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"values": {"phone": "13912345678", "id_number": "110101199003074514"}}, "id_number"),
        ({"values": {"phone": "not-a-number"}}, "phone"),
        ({"decisions": [{"purpose": "sharing.partner", "granted": True}]}, "decisions"),
        (
            {
                "decisions": [
                    {"purpose": "marketing.sms", "granted": True},
                    {"purpose": "marketing.sms", "granted": False, "channel": "sms"},
                ]
            },
            "decisions",
        ),
        ({"extra": 1}, "extra"),
        ({"values": {"name": "陈静"}}, "phone"),
    ],
)
def test_a_bad_submission_is_refused_naming_the_field_and_nothing_is_stored(
    clinic: Clinic, client: TestClient, form: str, change: dict[str, Any], field: str
) -> None:
    before = _counts(clinic.kernel)
    r = _submit(client, form, **change)
    assert 400 <= r.status_code < 500 and r.status_code != 404, r.text
    assert field in r.text
    assert _counts(clinic.kernel) == before


@pytest.mark.req("C4")
def test_the_person_lists_and_deletes_their_own_tags_from_the_preference_link(
    clinic: Clinic, client: TestClient, form: str
) -> None:
    k = clinic.kernel
    stored = _submit(client, form).json()
    with k.engine.connect() as conn:
        person_id = conn.execute(
            select(lead.c.person_id).where(lead.c.id == stored["lead_id"])
        ).scalar_one()
    with k.engine.begin() as conn:
        tag_id = tag_service.tag_person(
            conn=conn,
            kernel=k,
            tenant_id=k.tenant_id(),
            person_id=person_id,
            name="种植意向",
            from_health=True,
            derived=True,
        )
    token = make_link_token(k, k.tenant_id(), person_id, scope=PREFS)
    mine = client.get(f"/api/v1/preferences/{token}/tags")
    assert mine.status_code == 200 and [t["id"] for t in mine.json()] == [tag_id]
    assert client.delete(f"/api/v1/preferences/{token}/tags/{tag_id}").status_code == 204
    assert client.get(f"/api/v1/preferences/{token}/tags").json() == []
    assert client.get("/api/v1/preferences/forged-token/tags").status_code in (400, 401, 403)
