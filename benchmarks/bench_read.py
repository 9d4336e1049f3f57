"""Read one person by id: through the vault (policy, consent, decrypt, durable audit)
against a plain SELECT of the same person's plaintext row.

Both sides run the same number of reads from the same number of threads, as
a clinic's API workers would; the audit side's group commit shares one
durable transaction among the reads in flight.

    uv run python -m benchmarks.bench_read [--people N] [--reads N] [--threads N]
"""

from __future__ import annotations

import argparse
import random
import time
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select, text

from benchmarks._common import fresh_installation, result
from pulsecrm.crm.people_import import import_people
from pulsecrm.crm.synthetic import synthetic_people
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import build_kernel
from pulsecrm.store.engine import make_engine, read_connection

FIELDS = ["name", "phone", "email", "id_number", "gender", "birth_year", "city"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--reads", type=int, default=20_000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()

    settings = fresh_installation()
    kernel = build_kernel(settings)
    ctx = AccessContext("local.operator", "consultant", kernel.tenant_id(), "service.appointment")
    people = list(synthetic_people(args.people))
    import_people(kernel, ctx, iter((i + 2, dict(p)) for i, p in enumerate(people)))
    with kernel.engine.connect() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM person"))]
        conn.execute(
            text(
                "CREATE TABLE plain_people AS SELECT p.id AS id, 'name' AS name, "
                "'+8613800000000' AS phone, 'a@b.cn' AS email, '110105194912310021' AS id_number, "
                "pp.gender, pp.birth_year, pp.city FROM person p "
                "JOIN person_profile pp ON pp.person_id = p.id"
            )
        )
        conn.execute(text("CREATE UNIQUE INDEX ix_plain_people ON plain_people (id)"))
        conn.commit()
    order = [random.choice(ids) for _ in range(args.reads)]
    plain_engine = make_engine(settings.effective_database_url, pool_size=args.threads + 2)

    def plain_read(person_id: str) -> object:
        with read_connection(plain_engine) as conn:
            return conn.execute(
                select(text("*")).select_from(text("plain_people")).where(text("id = :i")),
                {"i": person_id},
            ).first()

    def vault_read(person_id: str) -> object:
        return kernel.vault.read(ctx, [person_id], FIELDS, reveal=True)[0].values["phone"]

    def run(read: object) -> float:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=args.threads) as pool:
            for value in pool.map(read, order):  # type: ignore[arg-type]
                assert value is not None
        return time.perf_counter() - started

    run(plain_read)  # warm caches on both sides
    baseline = run(plain_read)
    privacy = run(vault_read)
    kernel.close()
    result("read_person_rate", args.reads / privacy, args.reads / baseline, "reads/s")
    result(
        "read_person_latency",
        privacy / args.reads * args.threads * 1e6,
        baseline / args.reads * args.threads * 1e6,
        "us",
    )


if __name__ == "__main__":
    main()
