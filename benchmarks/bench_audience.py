"""Campaign audience of a million-person tenant: privacy-on build vs the bare segment.

Seeds N people (``person`` + pseudonymous ``person_profile``), their current
consent state for ``marketing.sms`` (granted, withdrawn, refused, waiting for
renewal, minors without a guardian, none), a suppression list, a week of sent
messages (the frequency cap) and personalisation opt-outs, all with the bulk
helpers — the consent *ledger* is not seeded: the audience reads only the
state table, which the ledger keeps current. Then times:

* privacy:  ``marketing.audience.build_audience`` — the segment compiled to one
  query, classified in one pass by first exclusion reason (personalisation off,
  suppressed, withdrawn, no consent, renewal, minor, frequency cap) into a
  temporary table, the included people copied to ``campaign_audience`` and
  the reasons counted;
* baseline: the bare segment query materialised the same way (INSERT … SELECT
  into ``campaign_audience``), i.e. the same job with no privacy rule at all.

The two alternate (``PULSECRM_BENCH_REPEAT`` rounds, default 4) and the best of
each is reported, which damps the noise of a shared machine.

Two scenarios: ``segment`` (a realistic tree: women 25–45 from douyin or
xiaohongshu, or anyone in 上海/杭州, except 西安 — about a quarter of the tenant)
and ``everyone`` (a profile-based tree every person matches: the whole tenant
is classified).

``PULSECRM_BENCH_PEOPLE`` (default 1 000 000) sets N;
``PULSECRM_BENCH_DATABASE_URL`` picks PostgreSQL.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid

from sqlalchemy import Connection, delete, insert, literal

from benchmarks._common import fresh_installation, result
from pulsecrm.consent.tables import consent_state, privacy_preference
from pulsecrm.crm.ids import now_us
from pulsecrm.crm.tables import person, person_profile
from pulsecrm.kernel.runtime import Kernel, build_kernel
from pulsecrm.marketing.audience import build_audience
from pulsecrm.marketing.campaigns import CampaignSpec, spec_columns
from pulsecrm.marketing.segment_compile import compile_segment
from pulsecrm.marketing.segment_tree import parse
from pulsecrm.marketing.send_tables import message
from pulsecrm.marketing.tables import campaign, campaign_audience, segment, suppression
from pulsecrm.store.bulk import bulk_insert

CITIES = ("上海", "北京", "杭州", "广州", "深圳", "成都", "南京", "武汉", "苏州", "西安")
SOURCES = ("douyin", "baidu", "meituan", "xiaohongshu", "wechat", "referral", "walk_in")
# "women 25–45 from douyin or xiaohongshu, or anyone in 上海/杭州, except 西安"
SEGMENT = {
    "all": [
        {
            "any": [
                {
                    "all": [
                        {"filter": "source", "in": ["douyin", "xiaohongshu"]},
                        {"filter": "gender", "is": "F"},
                        {"filter": "age", "min": 25, "max": 45},
                    ]
                },
                {"filter": "city", "in": ["上海", "杭州"]},
            ]
        },
        {"not": {"filter": "city", "in": ["西安"]}},
    ]
}
# every profile matches (no one lives in 拉萨 here): the whole tenant is the segment
EVERYONE = {"not": {"filter": "city", "in": ["拉萨"]}}
SCENARIOS = {"segment": SEGMENT, "everyone": EVERYONE}
CHUNK = 100_000


def seed(conn_factory, tenant_id: int, people: int, now: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(11)
    year = time.gmtime(now / 1_000_000).tm_year
    for start in range(0, people, CHUNK):
        n = min(CHUNK, people - start)
        ids = [uuid.uuid4().hex for _ in range(n)]
        persons, profiles, states, supp, msgs, prefs = [], [], [], [], [], []
        for pid in ids:
            persons.append((pid, tenant_id, now, now))
            profiles.append(
                (
                    pid,
                    tenant_id,
                    rng.choice("MF"),
                    year - rng.randrange(10, 75),
                    rng.choice(CITIES),
                    rng.choice(SOURCES),
                )
            )
            roll = rng.random()
            if roll < 0.80:
                status = "granted" if roll < 0.72 else ("withdrawn" if roll < 0.77 else "refused")
                states.append(
                    (
                        tenant_id,
                        pid,
                        "marketing.sms",
                        "sms",
                        status,
                        0.70 < roll < 0.72,  # needs renewal
                        0.69 < roll < 0.70,  # minor without guardian
                        False,
                        False,
                        None,
                        "n" * 64,
                        uuid.uuid4().hex,
                        "staff",
                        now,
                    )
                )
            if rng.random() < 0.02:
                supp.append((tenant_id, pid, rng.choice(("sms", "*")), "td_reply", "bench", now))
            if rng.random() < 0.10:
                for _ in range(rng.randrange(1, 4)):
                    at = now - rng.randrange(14 * 24) * 3_600_000_000
                    msgs.append(
                        (
                            uuid.uuid4().hex,
                            tenant_id,
                            uuid.uuid4().hex,
                            pid,
                            "sms",
                            "marketing.sms",
                            "sent",
                            1,
                            at,
                            at,
                        )
                    )
            if rng.random() < 0.005:
                prefs.append(
                    (uuid.uuid4().hex, tenant_id, pid, "personalization_off", "portal", "/", now)
                )
        with conn_factory() as conn:
            bulk_insert(conn, person, ("id", "tenant_id", "created_us", "updated_us"), persons)
            bulk_insert(
                conn,
                person_profile,
                ("person_id", "tenant_id", "gender", "birth_year", "city", "source_channel"),
                profiles,
            )
            bulk_insert(
                conn,
                consent_state,
                (
                    "tenant_id",
                    "person_id",
                    "purpose",
                    "channel",
                    "status",
                    "needs_renewal",
                    "minor_blocked",
                    "subject_minor",
                    "by_guardian",
                    "expires_us",
                    "notice_hash",
                    "last_event_id",
                    "origin",
                    "updated_us",
                ),
                states,
            )
            bulk_insert(
                conn,
                suppression,
                ("tenant_id", "person_id", "channel", "reason", "source", "created_us"),
                supp,
            )
            bulk_insert(
                conn,
                message,
                (
                    "id",
                    "tenant_id",
                    "campaign_id",
                    "person_id",
                    "channel",
                    "purpose",
                    "status",
                    "attempts",
                    "queued_us",
                    "sent_us",
                ),
                msgs,
            )
            bulk_insert(
                conn,
                privacy_preference,
                ("id", "tenant_id", "person_id", "kind", "source", "route", "recorded_us"),
                prefs,
            )


def _campaign(conn: Connection, tenant_id: int, definition: dict[str, object], now: int) -> str:
    segment_id, campaign_id = uuid.uuid4().hex, uuid.uuid4().hex
    spec = CampaignSpec.model_validate(
        {
            "name": "bench",
            "purpose": "marketing.sms",
            "channel": "sms",
            "segment_id": segment_id,
            "sender_name": "bench",
            "templates": {"zh-CN": {"body": "{sender} 回复TD退订"}},
        }
    )
    conn.execute(
        insert(segment).values(
            id=segment_id,
            tenant_id=tenant_id,
            name="bench",
            definition=json.dumps(definition, ensure_ascii=False),
            purpose="marketing.sms",
            created_by="bench",
            created_us=now,
        )
    )
    conn.execute(
        insert(campaign).values(
            id=campaign_id,
            tenant_id=tenant_id,
            status="draft",
            scheduled_us=None,
            created_by="bench",
            created_us=now,
            updated_us=now,
            **spec_columns(spec, None),
        )
    )
    return campaign_id


def _empty_audiences(kernel: Kernel) -> None:
    with kernel.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("TRUNCATE campaign_audience")  # no dead rows between rounds
        else:
            conn.execute(delete(campaign_audience))


def _time(kernel: Kernel, tenant_id: int, campaign_id: str, definition: object, now: int) -> None:
    seg = compile_segment(
        parse(definition), tenant_id=tenant_id, purpose="marketing.sms", now_us=now
    )
    timings: dict[str, float] = {}
    report: dict[str, object] = {}
    for name in ("baseline", "privacy") * int(os.environ.get("PULSECRM_BENCH_REPEAT", "4")):
        _empty_audiences(kernel)
        with kernel.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL jit = off")  # as build_audience does
            t = time.perf_counter()
            if name == "privacy":
                report = build_audience(
                    kernel, conn, tenant_id=tenant_id, campaign_id=campaign_id, now_us=now
                ).public()
            else:
                conn.execute(
                    insert(campaign_audience).from_select(
                        ["tenant_id", "campaign_id", "person_id", "locale"],
                        seg.query().with_only_columns(
                            person_profile.c.tenant_id,
                            literal(campaign_id),
                            person_profile.c.person_id,
                            literal("zh-CN"),
                        ),
                    )
                )
            elapsed = time.perf_counter() - t
        timings[name] = min(timings.get(name, float("inf")), elapsed)
        print(f"  {name}: {elapsed:.3f}s", flush=True)
    print(
        f"  segment {report['segment_count']}, included {report['included']}, "
        f"excluded {report['excluded']}",
        flush=True,
    )
    return timings["privacy"], timings["baseline"]  # type: ignore[return-value]


def main() -> None:
    people = int(os.environ.get("PULSECRM_BENCH_PEOPLE", "1000000"))
    settings = fresh_installation()
    kernel = build_kernel(settings)
    tenant_id = kernel.tenant_id()
    now = now_us()
    t0 = time.perf_counter()
    seed(kernel.engine.begin, tenant_id, people, now)
    with kernel.engine.begin() as conn:
        campaigns = {
            name: _campaign(conn, tenant_id, tree, now) for name, tree in SCENARIOS.items()
        }
        conn.exec_driver_sql("ANALYZE")
    print(f"seeded {people} people in {time.perf_counter() - t0:.1f}s", flush=True)
    print(f"backend={kernel.engine.dialect.name} people={people}", flush=True)
    results = {}
    for name, tree in SCENARIOS.items():
        print(f"scenario {name}:", flush=True)
        results[name] = _time(kernel, tenant_id, campaigns[name], tree, now)
    for name, (privacy, baseline) in results.items():
        result(f"audience_build_{name}_seconds", privacy, baseline, "s")
    kernel.close()


if __name__ == "__main__":
    main()
