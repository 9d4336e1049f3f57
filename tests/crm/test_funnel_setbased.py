"""The set-based funnel (one GROUP BY per step) equals a per-lead reference computed in
Python from the raw workflow rows, for every dimension, on both backends."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from pulsecrm.crm import org_service
from pulsecrm.crm.clinic_tables import appointment, consultation, deal, followup_task, lead, visit
from pulsecrm.crm.funnel import DIMENSIONS, funnel
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.crm.synthetic_clinic import generate_activity
from pulsecrm.crm.tables import person
from pulsecrm.kernel.accounts import create_account
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.bulk import bulk_insert
from pulsecrm.store.engine import read_connection


def _seed(kernel: Kernel, people: int) -> tuple[int, int]:
    tenant_id = kernel.tenant_id()
    start = now_us() - 365 * DAY_US
    with kernel.engine.begin() as conn:
        branches = [
            org_service.create_branch(conn=conn, tenant_id=tenant_id, code=c, name=c)
            for c in ("N", "S")
        ]
        owners = [
            create_account(
                conn,
                kernel.catalog,
                tenant_id=tenant_id,
                username=f"f.c{i}",
                display_name=f"c{i}",
                role="consultant",
                password=None,
            ).id
            for i in range(3)
        ]
        ids = [uuid.uuid4().hex for _ in range(people)]
        bulk_insert(
            conn,
            person,
            ("id", "tenant_id", "created_us", "updated_us"),
            [(p, tenant_id, start, start) for p in ids],
        )
        generate_activity(
            conn,
            tenant_id=tenant_id,
            person_ids=ids,
            branches=branches,
            owners=owners,
            start_us=start,
            seed=11,
        )
    return tenant_id, start


def _reference(
    kernel: Kernel, by: str, from_us: int, to_us: int, now: int
) -> dict[str | None, dict[str, Any]]:
    """The old per-lead definition, evaluated lead by lead in Python."""
    with read_connection(kernel.engine) as conn:
        leads = conn.execute(select(lead)).mappings().all()
        per: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
        for name, table in (
            ("c", consultation),
            ("a", appointment),
            ("v", visit),
            ("d", deal),
            ("f", followup_task),
        ):
            for row in conn.execute(select(table)).mappings():
                if row["lead_id"] is not None:
                    per[row["lead_id"]][name].append(row)
    column = {"channel": "channel", "campaign": "campaign", "consultant": "owner_id"}
    column["branch"] = "branch_id"
    out: dict[str | None, dict[str, Any]] = {}
    for ld in leads:
        if not from_us <= ld["created_us"] < to_us:
            continue
        if by == "total":
            key: Any = "all"
        elif by == "month":
            key = datetime.fromtimestamp(ld["created_us"] / 1e6, UTC).strftime("%Y-%m")
        else:
            key = ld[column[by]]
        k = None if key is None else str(key)
        acc = out.setdefault(k, defaultdict(int))
        steps = per.get(ld["id"], {})
        appts, deals, fus = steps.get("a", []), steps.get("d", []), steps.get("f", [])
        acc["leads"] += 1
        acc["consulted"] += bool(steps.get("c"))
        acc["booked"] += bool(appts)
        acc["appointments"] += len(appts)
        acc["no_shows"] += sum(a["status"] == "no_show" for a in appts)
        acc["settled"] += sum(a["status"] in ("arrived", "no_show") for a in appts)
        acc["arrived"] += bool(steps.get("v"))
        acc["closed"] += bool(deals)
        acc["deals"] += len(deals)
        acc["revenue_cents"] += sum(d["amount_cents"] for d in deals)
        acc["followups_due"] += sum(f["due_us"] <= now for f in fus)
        done = [f for f in fus if f["status"] == "done"]
        acc["followups_done"] += len(done)
        acc["followups_on_time"] += sum(f["completed_us"] < f["due_us"] + DAY_US for f in done)
        if ld["first_response_us"] is not None:
            acc["responded"] += 1
            acc["response_sum"] += ld["first_response_us"] - ld["created_us"]
    return out


@pytest.mark.parametrize("people", [400])
def test_set_based_funnel_equals_the_per_lead_definition_for_every_dimension(
    app: Kernel, people: int
) -> None:
    tenant_id, start = _seed(app, people)
    now = now_us()
    window = (start + 30 * DAY_US, start + 300 * DAY_US)  # a partial cohort
    for by in DIMENSIONS:
        expected = _reference(app, by, *window, now)
        with read_connection(app.engine) as conn:
            rows = funnel(
                conn=conn, tenant_id=tenant_id, by=by, from_us=window[0], to_us=window[1], now=now
            )
            parallel = funnel(
                conn=conn,
                tenant_id=tenant_id,
                by=by,
                from_us=window[0],
                to_us=window[1],
                now=now,
                engine=app.engine,
            )
        assert [r.as_dict() for r in parallel] == [r.as_dict() for r in rows]
        got = {r.key: r for r in rows}
        assert set(got) == set(expected), by
        for key, acc in expected.items():
            row = got[key]
            for name in (
                "leads",
                "consulted",
                "booked",
                "appointments",
                "no_shows",
                "settled",
                "arrived",
                "closed",
                "deals",
                "revenue_cents",
                "followups_due",
                "followups_done",
                "followups_on_time",
            ):
                assert getattr(row, name) == acc[name], (by, key, name)
            mean = (
                round(acc["response_sum"] / acc["responded"] / 1e6, 1) if acc["responded"] else None
            )
            assert row.first_response_s == mean, (by, key)
        assert sum(r.leads for r in rows) == sum(a["leads"] for a in expected.values())
        keys = [r.key for r in rows]
        assert keys == sorted(keys, key=lambda k: (k is None, k)) or by == "consultant"


def test_funnel_indexes_exist_after_migration(app: Kernel) -> None:
    from sqlalchemy import inspect

    inspector = inspect(app.engine)
    names = {
        ix["name"]
        for table in ("lead", "appointment", "deal", "followup_task")
        for ix in inspector.get_indexes(table)
    }
    assert {
        "ix_lead_funnel_cohort",
        "ix_lead_funnel_key",
        "ix_appointment_funnel",
        "ix_deal_funnel",
        "ix_followup_task_funnel",
    } <= names
