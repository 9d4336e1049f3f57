"""Funnel/KPIs: set-based over pseudonymous tables, and `pulsecrm demo` + `report funnel`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pulsecrm.cli.main import app as cli
from pulsecrm.crm import appointment_service as appts
from pulsecrm.crm import deal_service, lead_service
from pulsecrm.crm.funnel import funnel
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.crm.lead_service import Attribution
from pulsecrm.store.engine import read_connection
from tests.consent.conftest import add_person
from tests.crm.conftest import Clinic


def test_funnel_counts_each_step_by_channel(clinic: Clinic) -> None:
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    now = now_us()
    outcomes = [("douyin", "arrived", True), ("douyin", "no_show", False), ("baidu", None, False)]
    for i, (channel, status, closes) in enumerate(outcomes):
        person = add_person(clinic.kernel, f"1350000000{i}")
        with clinic.kernel.engine.begin() as conn:
            lead = lead_service.create_lead(
                conn=conn,
                tenant_id=clinic.tenant_id,
                person_id=person,
                attribution=Attribution(channel),
                branch_id=clinic.north,
                owner_id=scope.account_id,
                created_us=now - 10 * DAY_US,
            )
            lead_service.respond(
                conn=conn, scope=scope, lead_id=lead, at_us=now - 10 * DAY_US + 60_000_000
            )
            if status is None:
                continue
            slot = now + DAY_US
            aid = appts.book(
                conn=conn,
                ctx=amy,
                scope=scope,
                person_id=person,
                branch_id=clinic.north,
                item="implant",
                slot_us=slot,
                lead_id=lead,
            )
            out = appts.transition(
                conn=conn, ctx=amy, scope=scope, appointment_id=aid, to=status, now=slot + 1
            )
            if closes:
                deal_service.create_deal(
                    conn=conn,
                    ctx=amy,
                    scope=scope,
                    person_id=person,
                    branch_id=clinic.north,
                    items=["implant"],
                    amount_cents=500_000,
                    visit_id=out["visit_id"],
                )
    with read_connection(clinic.kernel.engine) as conn:
        rows = {
            r.key: r.as_dict() for r in funnel(conn=conn, tenant_id=clinic.tenant_id, by="channel")
        }
        total = funnel(conn=conn, tenant_id=clinic.tenant_id, by="total")[0].as_dict()
    assert rows["douyin"]["leads"] == 2 and rows["douyin"]["booked"] == 2
    assert rows["douyin"]["arrival_rate"] == 0.5 and rows["douyin"]["no_show_rate"] == 0.5
    assert rows["douyin"]["close_rate"] == 1.0 and rows["douyin"]["average_deal_cents"] == 500_000
    assert rows["baidu"]["booking_rate"] == 0.0
    assert total["leads"] == 3 and total["first_response_s"] == 60.0


def test_demo_seeds_a_clinic_with_a_year_of_activity_and_report_funnel_reads_it(
    settings: object,
) -> None:
    runner = CliRunner()
    seeded = runner.invoke(cli, ["demo", "--people", "300", "--no-serve"])
    assert seeded.exit_code == 0, seeded.output
    out = runner.invoke(cli, ["report", "funnel", "--by", "channel", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.stdout)
    assert sum(r["leads"] for r in rows) == 300
    assert {r["key"] for r in rows} >= {"douyin", "baidu"}
    assert all(r["booked"] >= r["arrived"] >= r["closed"] for r in rows)
    bad = runner.invoke(cli, ["report", "funnel", "--by", "zodiac"])
    assert bad.exit_code == 2
