"""Last-touch attribution of appointments, arrivals and deals to campaigns."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from pulsecrm.channels.outbox import OutboxAdapter
from pulsecrm.crm.clinic_tables import appointment, deal, visit
from pulsecrm.marketing.send_tables import message
from tests.marketing.conftest import Clinic
from tests.marketing.send_helpers import (
    api_client,
    bearer,
    campaign,
    person,
    publish_all,
    rows,
    send_all,
)

DAY = 86_400_000_000
T0 = 1_790_000_000_000_000


def _set_sent(clinic: Clinic, campaign_id: str, person_id: str, at: int) -> None:
    with clinic.kernel.engine.begin() as conn:
        conn.execute(
            update(message)
            .where(message.c.campaign_id == campaign_id, message.c.person_id == person_id)
            .values(sent_us=at)
        )


def _outcomes(clinic: Clinic, person_id: str, at: int, amount: int) -> None:
    tenant = clinic.tenant_id
    appt, seen = uuid.uuid4().hex, uuid.uuid4().hex
    with clinic.kernel.engine.begin() as conn:
        conn.execute(
            appointment.insert().values(
                id=appt,
                tenant_id=tenant,
                person_id=person_id,
                branch_id=clinic.north,
                item="checkup",
                slot_us=at + DAY,
                status="arrived",
                created_us=at,
                updated_us=at,
            )
        )
        conn.execute(
            visit.insert().values(
                id=seen,
                tenant_id=tenant,
                person_id=person_id,
                appointment_id=appt,
                branch_id=clinic.north,
                arrived_us=at + DAY,
            )
        )
        conn.execute(
            deal.insert().values(
                id=uuid.uuid4().hex,
                tenant_id=tenant,
                person_id=person_id,
                visit_id=seen,
                branch_id=clinic.north,
                items="implant",
                amount_cents=amount,
                is_first=True,
                closed_us=at + 2 * DAY,
            )
        )


def test_outcomes_go_to_the_last_campaign_touch_within_the_window(clinic: Clinic) -> None:
    app = clinic.kernel
    notice = publish_all(app)
    won, late, poached, before = (person(app, notice, f"1380013840{n}") for n in range(4))
    spring = campaign(app, frequency_cap=10)
    summer = campaign(app, frequency_cap=10)
    outbox = OutboxAdapter(app.settings)
    assert send_all(app, spring, outbox).sent == 4
    assert send_all(app, summer, outbox).sent == 4
    for pid in (won, late, poached, before):
        _set_sent(clinic, spring, pid, T0)
        _set_sent(clinic, summer, pid, T0 - 100 * DAY)  # long before: not the last touch
    _set_sent(clinic, summer, poached, T0 + 2 * DAY)  # summer reached them after spring
    _outcomes(clinic, won, T0 + 3 * DAY, 880_000)  # credited to spring
    _outcomes(clinic, late, T0 + 40 * DAY, 120_000)  # outside the 30-day window
    _outcomes(clinic, poached, T0 + 5 * DAY, 50_000)  # summer is the last touch
    _outcomes(clinic, before, T0 - 5 * DAY, 70_000)  # before any spring message
    with api_client(app) as client:
        manager = bearer(app, "li.marketing", "marketing_manager")
        r = client.get(f"/api/v1/campaigns/{spring}/attribution", headers=manager)
        wide = client.get(f"/api/v1/campaigns/{spring}/attribution?window_days=60", headers=manager)
        summer_report = client.get(f"/api/v1/campaigns/{summer}/attribution", headers=manager)
        refused = client.get(
            f"/api/v1/campaigns/{spring}/attribution",
            headers=bearer(app, "amy.consultant", "consultant"),
        )
        bad = client.get(f"/api/v1/campaigns/{spring}/attribution?window_days=0", headers=manager)
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["appointments"], report["arrivals"], report["deals"]) == (1, 1, 1)
    assert report["revenue_cents"] == 880_000 and report["people_converted"] == 1
    assert report["messages"] == {"sent": 4} and report["delivered"] == 4
    assert wide.json()["deals"] == 2 and wide.json()["revenue_cents"] == 1_000_000
    assert summer_report.json()["deals"] == 1 and summer_report.json()["revenue_cents"] == 50_000
    assert refused.status_code == 403
    assert bad.status_code == 422
    assert len(rows(app, spring)) == 4
