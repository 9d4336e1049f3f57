"""Consent ledger throughput and the "contactable" count over a million people.

Two figures, each against a plaintext baseline in the same database:

* ``consent_record_events`` — 100 000 consent events recorded through
  ``consent.service.record`` (validation, notice check, minors check, hash
  chain, one kernel audit entry per event, current-state upsert), 5 000 per
  transaction, versus a plain INSERT of the same rows (no chain, no audit, no
  state) into a scratch table, also 5 000 per transaction. Events carry form
  evidence; ``--sealed`` also seals an IP and user agent per event under the
  person's key (that path is reported on a separate line).
* ``consent_contactable_count`` — "how many people may be contacted for
  marketing.sms by SMS now" over 1 000 000 people via ``state.contactable_count``
  (one range of the covering index, honouring renewal, minors and expiry),
  versus ``SELECT count(*)`` on a plain 1 000 000-row table. The million state
  rows are bulk-inserted directly (not through the ledger), which is stated
  here because it is not how production rows arrive.

Run: ``uv run python benchmarks/bench_consent.py [--events N] [--people N] [--postgres URL]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, func, insert, select

from pulsecrm.consent import service, state
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import parse_notice, publish_notice
from pulsecrm.consent.tables import consent_state
from pulsecrm.crm.tables import person, person_profile
from pulsecrm.kernel.accounts import create_account
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.installation import initialise
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.settings import Settings
from pulsecrm.wiring import build_app_kernel

BATCH = 5000  # events per transaction, as crm.people_import batches
scratch = MetaData()
plain_event = Table(
    "bench_plain_event",
    scratch,
    Column("seq", BigInteger, primary_key=True),
    Column("id", String(32)),
    Column("person_id", String(32)),
    Column("purpose", String(64)),
    Column("channel", String(16)),
    Column("kind", String(16)),
    Column("notice_hash", String(64)),
    Column("language", String(8)),
    Column("ts_us", BigInteger),
    Column("method", String(32)),
    Column("form_id", String(100)),
)
plain_people = Table(
    "bench_plain_people",
    scratch,
    Column("id", Integer, primary_key=True),
    Column("person_id", String(32)),
    Column("status", String(16)),
)

NOTICE = {
    "locale": "zh-CN",
    "label": "bench",
    "handler": {"name": "基准诊所", "contact": "021-0000"},
    "privacy_officer": {"name": "DPO", "contact": "dpo@example.com"},
    "purposes": [
        {
            "id": "marketing.sms",
            "text": "短信营销",
            "sms_terms": {"type": "优惠", "frequency": "每月4条", "period": "12个月"},
        },
        {"id": "marketing.email", "text": "邮件营销"},
    ],
    "data_categories": ["contact"],
    "retention": "3年",
    "recipients": [],
    "rights": "回复TD退订",
}


def result(name: str, privacy: float, baseline: float, unit: str) -> None:
    ratio = privacy / baseline if baseline else float("inf")
    print(
        f"RESULT {name} privacy={privacy:.6g} baseline={baseline:.6g} ratio={ratio:.3f} "
        f"unit={unit}",
        flush=True,
    )


def setup(database_url: str | None) -> tuple[Kernel, AccessContext, AccessContext, str]:
    home = Path(tempfile.mkdtemp(prefix="pulsecrm-bench-consent-"))
    settings = Settings(home=home, database_url=database_url)
    initialise(settings)
    kernel = build_app_kernel(settings)
    tenant_id = kernel.tenant_id()
    with kernel.engine.begin() as conn:
        for user, role in (("bench.officer", "privacy_officer"), ("bench.desk", "consultant")):
            create_account(
                conn,
                kernel.catalog,
                tenant_id=tenant_id,
                username=user,
                display_name=user,
                role=role,
                password=None,
            )
    officer = AccessContext("bench.officer", "privacy_officer", tenant_id, "compliance.audit")
    desk = AccessContext("bench.desk", "consultant", tenant_id, "service.appointment")
    with kernel.engine.begin() as conn:
        notice = publish_notice(conn, kernel, officer, parse_notice(NOTICE)).version_hash
    scratch.create_all(kernel.engine)
    return kernel, officer, desk, notice


def add_people(kernel: Kernel, count: int, rng: random.Random) -> list[str]:
    """Bulk person rows (no identity data: the events carry form evidence only)."""
    ids = [uuid.uuid4().hex for _ in range(count)]
    tenant_id = kernel.tenant_id()
    now = time.time_ns() // 1000
    for start in range(0, count, 20_000):
        chunk = ids[start : start + 20_000]
        with kernel.engine.begin() as conn:
            conn.execute(
                insert(person),
                [
                    {"id": i, "tenant_id": tenant_id, "created_us": now, "updated_us": now}
                    for i in chunk
                ],
            )
            conn.execute(
                insert(person_profile),
                [
                    {"person_id": i, "tenant_id": tenant_id, "birth_year": rng.randint(1950, 2005)}
                    for i in chunk
                ],
            )
    return ids


def bench_record(
    kernel: Kernel, desk: AccessContext, notice: str, people: list[str], sealed: bool
) -> float:
    kinds = [Kind.GRANT] * 6 + [Kind.REFUSE] * 3 + [Kind.WITHDRAW]
    rng = random.Random(1)
    subs = [
        service.Submission(
            person_id=p,
            decisions=[service.Decision("marketing.sms", "sms", rng.choice(kinds))],
            method="web_form",
            notice_hash=notice,
            evidence=service.Evidence(
                form_id="landing-42",
                ip="203.0.113.9" if sealed else None,
                user_agent="Mozilla/5.0" if sealed else None,
            ),
        )
        for p in people
    ]
    start = time.perf_counter()
    for offset in range(0, len(subs), BATCH):
        with kernel.engine.begin() as conn:
            service.record(conn, kernel, desk, subs[offset : offset + BATCH])
    return len(subs) / (time.perf_counter() - start)


def bench_plain_insert(kernel: Kernel, notice: str, people: list[str]) -> float:
    rng = random.Random(1)
    rows = [
        {
            "seq": i + 1,
            "id": uuid.uuid4().hex,
            "person_id": p,
            "purpose": "marketing.sms",
            "channel": "sms",
            "kind": rng.choice(["grant", "refuse", "withdraw"]),
            "notice_hash": notice,
            "language": "zh-CN",
            "ts_us": time.time_ns() // 1000,
            "method": "web_form",
            "form_id": "landing-42",
        }
        for i, p in enumerate(people)
    ]
    start = time.perf_counter()
    for offset in range(0, len(rows), BATCH):
        with kernel.engine.begin() as conn:
            conn.execute(insert(plain_event), rows[offset : offset + BATCH])
    return len(rows) / (time.perf_counter() - start)


def build_state(kernel: Kernel, people: int, notice: str) -> None:
    """One million marketing.sms/sms state rows, bulk-inserted (see module docstring)."""
    tenant_id = kernel.tenant_id()
    rng = random.Random(7)
    now = time.time_ns() // 1000
    statuses = ["granted"] * 6 + ["withdrawn"] * 2 + ["refused"] * 2
    with kernel.engine.begin() as conn:
        conn.execute(consent_state.delete())
    for start in range(0, people, 50_000):
        rows, plain = [], []
        for i in range(start, min(start + 50_000, people)):
            status = rng.choice(statuses)
            person_id = f"{i:032x}"
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "person_id": person_id,
                    "purpose": "marketing.sms",
                    "channel": "sms",
                    "status": status,
                    "needs_renewal": rng.random() < 0.03,
                    "minor_blocked": False,
                    "subject_minor": False,
                    "by_guardian": False,
                    "expires_us": now - 1 if rng.random() < 0.02 else None,
                    "notice_hash": notice,
                    "last_event_id": person_id,
                    "origin": "subject",
                    "updated_us": now,
                }
            )
            plain.append({"id": i + 1, "person_id": person_id, "status": status})
        with kernel.engine.begin() as conn:
            conn.execute(insert(consent_state), rows)
            conn.execute(insert(plain_people), plain)
        # Other purposes and channels share the index but are outside the range.
        if start < people // 5:
            for row in rows:
                row["purpose"], row["channel"] = "marketing.email", "email"
            with kernel.engine.begin() as conn:
                conn.execute(insert(consent_state), rows)
    if kernel.engine.dialect.name == "postgresql":
        with kernel.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE consent_state")
            conn.exec_driver_sql("VACUUM ANALYZE bench_plain_people")
    else:
        with kernel.engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")


def timed(fn, runs: int = 5) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    times, value = [], None
    for _ in range(runs):
        start = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres",
        metavar="URL",
        default=None,
        help="run on this (empty) PostgreSQL database instead of SQLite",
    )
    parser.add_argument(
        "--sealed",
        action="store_true",
        help="also time events that seal IP and user agent (10%% of --events)",
    )
    args = parser.parse_args()
    kernel, _officer, desk, notice = setup(args.postgres)
    backend = kernel.engine.dialect.name
    print(f"# backend={backend} events={args.events} people={args.people}", flush=True)
    try:
        rng = random.Random(3)
        people = add_people(kernel, args.events, rng)
        privacy = bench_record(kernel, desk, notice, people, sealed=False)
        baseline = bench_plain_insert(kernel, notice, people)
        result("consent_record_events", privacy, baseline, "events/s")
        if args.sealed:
            sealed_people = people[: args.events // 10]
            kernel.keystore.create_data_keys(kernel.tenant_id(), sealed_people)
            sealed = bench_record(kernel, desk, notice, sealed_people, sealed=True)
            print(f"# with IP and user agent sealed per event: {sealed:,.0f} events/s", flush=True)
        build_state(kernel, args.people, notice)
        tenant_id = kernel.tenant_id()

        def count_privacy() -> int:
            with kernel.engine.connect() as conn:
                return state.contactable_count(conn, tenant_id, "marketing.sms", "sms")

        def count_plain() -> int:
            with kernel.engine.connect() as conn:
                return int(conn.execute(select(func.count()).select_from(plain_people)).scalar())

        count_privacy()
        count_plain()
        privacy_s, contactable = timed(count_privacy)
        baseline_s, total = timed(count_plain)
        print(f"# contactable={contactable} of {total}", flush=True)
        result("consent_contactable_count", privacy_s, baseline_s, "s")
    finally:
        kernel.close()


if __name__ == "__main__":
    main()
