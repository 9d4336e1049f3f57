"""Funnel report over a year of activity: privacy-on schema vs one denormalised plaintext table.

Generates N people (``person`` rows only — the funnel never touches identity),
one lead each over a year and what followed (synthetic_clinic), then times

* privacy:  ``crm.funnel.funnel(by=channel)`` — set-based GROUP BY over the
  pseudonymous workflow tables: the cohort grouped once, then per step (consultations,
  appointments, visits, deals, follow-ups) a per-lead aggregate over its covering
  ``(tenant_id, lead_id, …)`` index joined to ``lead`` only for the cohort and the
  dimension (indexes: migration 0004), no decryption;
* baseline: the same GROUP BY over one pre-joined plaintext table with one row
  per lead (what a CRM without the split would scan).

``PULSECRM_BENCH_PEOPLE`` (default 1 000 000) sets N.
"""

from __future__ import annotations

import os
import time
import uuid

from sqlalchemy import text

from benchmarks._common import fresh_installation, result
from pulsecrm.crm import org_service
from pulsecrm.crm.funnel import funnel
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.crm.synthetic_clinic import generate_activity
from pulsecrm.crm.tables import person
from pulsecrm.kernel.accounts import create_account
from pulsecrm.kernel.runtime import build_kernel
from pulsecrm.store.bulk import bulk_insert

FLAT = """
CREATE TABLE funnel_flat AS
SELECT l.id, l.channel, l.created_us, l.first_response_us,
       COALESCE(c.n, 0) AS consults, COALESCE(a.n, 0) AS appts, COALESCE(a.ns, 0) AS ns,
       COALESCE(a.settled, 0) AS settled, COALESCE(v.n, 0) AS visits, COALESCE(d.n, 0) AS deals,
       COALESCE(d.amt, 0) AS amount, COALESCE(f.due, 0) AS fdue, COALESCE(f.done, 0) AS fdone
FROM lead l
LEFT JOIN (SELECT lead_id, COUNT(*) AS n FROM consultation GROUP BY lead_id) c ON c.lead_id = l.id
LEFT JOIN (SELECT lead_id, COUNT(*) AS n,
                  SUM(CASE WHEN status = 'no_show' THEN 1 ELSE 0 END) AS ns,
                  SUM(CASE WHEN status IN ('arrived', 'no_show') THEN 1 ELSE 0 END) AS settled
           FROM appointment GROUP BY lead_id) a ON a.lead_id = l.id
LEFT JOIN (SELECT lead_id, COUNT(*) AS n FROM visit GROUP BY lead_id) v ON v.lead_id = l.id
LEFT JOIN (SELECT lead_id, COUNT(*) AS n, SUM(amount_cents) AS amt FROM deal GROUP BY lead_id) d
       ON d.lead_id = l.id
LEFT JOIN (SELECT lead_id, SUM(CASE WHEN due_us <= :now THEN 1 ELSE 0 END) AS due,
                  SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END) AS done
           FROM followup_task GROUP BY lead_id) f ON f.lead_id = l.id
"""
BASELINE = """
SELECT channel, COUNT(*), SUM(CASE WHEN consults > 0 THEN 1 ELSE 0 END),
       SUM(CASE WHEN appts > 0 THEN 1 ELSE 0 END), SUM(appts), SUM(ns), SUM(settled),
       SUM(CASE WHEN visits > 0 THEN 1 ELSE 0 END), SUM(CASE WHEN deals > 0 THEN 1 ELSE 0 END),
       SUM(deals), SUM(amount), SUM(fdue), SUM(fdone), AVG(first_response_us - created_us)
FROM funnel_flat WHERE created_us >= :f AND created_us < :t GROUP BY channel ORDER BY channel
"""


def main() -> None:
    people = int(os.environ.get("PULSECRM_BENCH_PEOPLE", "1000000"))
    settings = fresh_installation()
    kernel = build_kernel(settings)
    tenant_id = kernel.tenant_id()
    start = now_us() - 365 * DAY_US
    t0 = time.perf_counter()
    with kernel.engine.begin() as conn:
        branches = [
            org_service.create_branch(conn=conn, tenant_id=tenant_id, code=c, name=c)
            for c in ("N", "S", "E")
        ]
        owners = [
            create_account(
                conn,
                kernel.catalog,
                tenant_id=tenant_id,
                username=f"bench.c{i}",
                display_name=f"c{i}",
                role="consultant",
                password=None,
            ).id
            for i in range(12)
        ]
    ids = [uuid.uuid4().hex for _ in range(people)]
    for chunk in range(0, people, 100_000):
        part = ids[chunk : chunk + 100_000]
        with kernel.engine.begin() as conn:
            bulk_insert(
                conn,
                person,
                ("id", "tenant_id", "created_us", "updated_us"),
                [(p, tenant_id, start, start) for p in part],
            )
            report = generate_activity(
                conn,
                tenant_id=tenant_id,
                person_ids=part,
                branches=branches,
                owners=owners,
                start_us=start,
                seed=chunk,
            )
    generated = time.perf_counter() - t0
    with kernel.engine.begin() as conn:
        conn.execute(text(FLAT), {"now": now_us()})
        conn.exec_driver_sql("ANALYZE")
    print(
        f"generated {people} people with a year of activity in {generated:.1f}s"
        f" (last chunk: {report})",
        flush=True,
    )
    window = {"f": start, "t": start + 366 * DAY_US}
    timings: dict[str, float] = {}
    for name in ("privacy", "baseline"):
        best = float("inf")
        for _ in range(3):
            with kernel.engine.connect() as conn:
                t = time.perf_counter()
                if name == "privacy":
                    rows = funnel(
                        conn=conn,
                        tenant_id=tenant_id,
                        by="channel",
                        from_us=window["f"],
                        to_us=window["t"],
                        engine=kernel.engine,
                    )
                    assert sum(r.leads for r in rows) == people
                else:
                    conn.execute(text(BASELINE), window).all()
                best = min(best, time.perf_counter() - t)
        timings[name] = best
    print(f"backend={kernel.engine.dialect.name} people={people}", flush=True)
    result("funnel_report_seconds", timings["privacy"], timings["baseline"], "s")
    kernel.close()


if __name__ == "__main__":
    main()
