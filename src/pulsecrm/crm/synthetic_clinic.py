"""A realistic synthetic clinic: branches, teams, staff, channels and campaigns, and a year
of activity (leads → consultations → appointments → visits → deals → follow-ups).

Activity is written with bulk inserts straight into the pseudonymous workflow
tables, for people that already exist (``person_ids``); nothing here is
personal data in clear, and no health value is generated (consultations carry
no chief complaint), so the generator is as fast as the database. Used by
``pulsecrm demo`` (``crm.demo_seed``) and ``benchmarks/bench_funnel.py``.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Connection, Table

from pulsecrm.crm.clinic_tables import appointment, consultation, deal, followup_task, lead, visit
from pulsecrm.crm.ids import DAY_US, HOUR_US
from pulsecrm.store.bulk import bulk_insert

CHANNELS = {
    "douyin": ("抖音信息流-春季种植", "抖音直播-美白"),
    "baidu": ("百度SEM-种植牙", "百度SEM-正畸"),
    "meituan": ("美团团购-洁牙", "美团-儿童涂氟"),
    "xiaohongshu": ("小红书-隐形矫正",),
    "wechat": ("企微渠道活码-门店", "公众号-会员日"),
    "referral": (None,),
    "walk_in": (None,),
    "dianping": ("大众点评-洁牙",),
}
ITEMS = {
    "implant": 1_280_000,
    "ortho": 2_580_000,
    "cleaning": 19_800,
    "whitening": 168_000,
    "crown": 380_000,
    "kids_fluoride": 9_900,
}
BATCH = 20_000


@dataclass
class ActivityReport:
    leads: int = 0
    consultations: int = 0
    appointments: int = 0
    visits: int = 0
    deals: int = 0
    followups: int = 0
    counts: dict[str, int] = field(default_factory=dict)


class _Writer:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pending: dict[str, tuple[Table, tuple[str, ...], list[tuple[object, ...]]]] = {}

    def add(self, table: Table, columns: tuple[str, ...], row: tuple[object, ...]) -> None:
        entry = self.pending.setdefault(table.name, (table, columns, []))
        entry[2].append(row)
        if len(entry[2]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        # parents before children, so foreign keys hold
        for name in ("lead", "consultation", "appointment", "visit", "deal", "followup_task"):
            if name in self.pending:
                table, columns, rows = self.pending[name]
                bulk_insert(self.conn, table, columns, rows)
                rows.clear()


def _ident(prefix: str, seq: int) -> str:
    return f"{prefix}{seq:024x}"


LEAD_COLS = (
    "id",
    "tenant_id",
    "person_id",
    "branch_id",
    "team_id",
    "owner_id",
    "channel",
    "campaign",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "platform",
    "platform_lead_id",
    "status",
    "created_us",
    "first_response_us",
)
CONS_COLS = (
    "id",
    "tenant_id",
    "person_id",
    "lead_id",
    "branch_id",
    "consultant_id",
    "mode",
    "items",
    "intent_level",
    "created_us",
    "chief_complaint",
    "notes",
)
APPT_COLS = (
    "id",
    "tenant_id",
    "person_id",
    "lead_id",
    "branch_id",
    "doctor_id",
    "owner_id",
    "item",
    "slot_us",
    "status",
    "rescheduled_to",
    "created_us",
    "updated_us",
)
VISIT_COLS = (
    "id",
    "tenant_id",
    "person_id",
    "lead_id",
    "appointment_id",
    "branch_id",
    "arrived_us",
)
DEAL_COLS = (
    "id",
    "tenant_id",
    "person_id",
    "lead_id",
    "visit_id",
    "branch_id",
    "consultant_id",
    "items",
    "amount_cents",
    "is_first",
    "closed_us",
)
FU_COLS = (
    "id",
    "tenant_id",
    "person_id",
    "lead_id",
    "deal_id",
    "template_id",
    "owner_id",
    "day_offset",
    "due_us",
    "status",
    "outcome",
    "completed_us",
    "next_due_us",
)


def generate_activity(
    conn: Connection,
    *,
    tenant_id: int,
    person_ids: Iterable[str],
    branches: Sequence[str],
    owners: Sequence[int],
    start_us: int,
    days: int = 365,
    seed: int = 4,
    now_us: int | None = None,
) -> ActivityReport:
    """One lead per person spread over ``days`` from ``start_us``, and what followed."""
    rng = random.Random(seed)
    w = _Writer(conn)
    report = ActivityReport()
    channels = list(CHANNELS)
    weights = [30, 20, 15, 10, 12, 6, 4, 3]
    items = list(ITEMS)
    now = now_us if now_us is not None else start_us + days * DAY_US
    seq = 0
    run = f"{random.Random().randrange(16**6):06x}"  # ids never clash across runs
    for person_id in person_ids:
        seq += 1

        lead_id = _ident(run + "l", seq)
        channel = rng.choices(channels, weights)[0]
        campaign = rng.choice(CHANNELS[channel])
        branch_id = branches[seq % len(branches)]
        owner = owners[rng.randrange(len(owners))]
        created = start_us + rng.randrange(days * 24) * HOUR_US + rng.randrange(HOUR_US)
        responded = (
            created + rng.randrange(5 * 60, 6 * 3600) * 1_000_000 if rng.random() < 0.9 else None
        )
        w.add(
            lead,
            LEAD_COLS,
            (
                lead_id,
                tenant_id,
                person_id,
                branch_id,
                None,
                owner,
                channel,
                campaign,
                channel,
                "cpc" if campaign else None,
                campaign,
                None,
                None,
                "contacted" if responded else "new",
                created,
                responded,
            ),
        )
        report.leads += 1
        if rng.random() >= 0.6:
            continue
        item = rng.choice(items)
        w.add(
            consultation,
            CONS_COLS,
            (
                _ident(run + "c", seq),
                tenant_id,
                person_id,
                lead_id,
                branch_id,
                owner,
                rng.choice(("online", "on_site")),
                item,
                rng.choice(("high", "medium", "low")),
                created + DAY_US,
                None,
                None,
            ),
        )
        report.consultations += 1
        if rng.random() >= 0.75:
            continue
        slot = created + rng.randrange(2, 20) * DAY_US
        roll = rng.random()
        status = "arrived" if roll < 0.75 else "no_show" if roll < 0.9 else "cancelled"
        if slot > now:
            status = "confirmed"
        appt_id = _ident(run + "a", seq)
        w.add(
            appointment,
            APPT_COLS,
            (
                appt_id,
                tenant_id,
                person_id,
                lead_id,
                branch_id,
                None,
                owner,
                item,
                slot,
                status,
                None,
                created,
                slot,
            ),
        )
        report.appointments += 1
        if status != "arrived":
            continue
        visit_id = _ident(run + "v", seq)
        w.add(
            visit, VISIT_COLS, (visit_id, tenant_id, person_id, lead_id, appt_id, branch_id, slot)
        )
        report.visits += 1
        if rng.random() >= 0.55:
            continue
        deal_id = _ident(run + "d", seq)
        amount = int(ITEMS[item] * rng.uniform(0.8, 1.2))
        w.add(
            deal,
            DEAL_COLS,
            (
                deal_id,
                tenant_id,
                person_id,
                lead_id,
                visit_id,
                branch_id,
                owner,
                item,
                amount,
                True,
                slot,
            ),
        )
        report.deals += 1
        for n, offset in enumerate((1, 7, 30)):
            due = slot + offset * DAY_US
            done = due <= now and rng.random() < 0.8
            completed = due + rng.randrange(0, 3) * DAY_US if done else None
            w.add(
                followup_task,
                FU_COLS,
                (
                    _ident(f"{run}f{n}", seq),
                    tenant_id,
                    person_id,
                    lead_id,
                    deal_id,
                    None,
                    owner,
                    offset,
                    due,
                    "done" if done else "open",
                    "reached" if done else None,
                    completed,
                    None,
                ),
            )
            report.followups += 1
    w.flush()
    return report
