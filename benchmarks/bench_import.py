"""Import 100 000 people: privacy on (validate, encrypt per person, blind index, audit)
against the same rows validated and stored plaintext in the same table shapes.

    uv run python benchmarks/bench_import.py [--people N]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table

from benchmarks._common import fresh_installation, result
from pulsecrm.crm.people_import import import_people, read_people_csv
from pulsecrm.crm.person_rows import PersonRow, parse_person_row
from pulsecrm.crm.synthetic import write_people_csv
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import build_kernel
from pulsecrm.store.bulk import bulk_insert
from pulsecrm.store.engine import make_engine

plain = MetaData()
plain_person = Table(
    "plain_person",
    plain,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer),
    Column("created_us", BigInteger),
    Column("updated_us", BigInteger),
)
plain_profile = Table(
    "plain_profile",
    plain,
    Column("person_id", String(32), primary_key=True),
    Column("tenant_id", Integer),
    Column("gender", String(8)),
    Column("birth_year", Integer),
    Column("city", String(64)),
    Column("source_channel", String(64)),
)
plain_identity = Table(
    "plain_identity",
    plain,
    Column("person_id", String(32), primary_key=True),
    Column("tenant_id", Integer),
    Column("name", String(100)),
    Column("phone", String(32), index=True),
    Column("email", String(254), index=True),
    Column("id_number", String(18), index=True),
    Column("birth_date", String(10)),
)


PROFILE = ("person_id", "tenant_id", "gender", "birth_year", "city", "source_channel")
IDENTITY = ("person_id", "tenant_id", "name", "phone", "email", "id_number", "birth_date")


def plaintext_import(path: Path, database_url: str) -> float:
    """Same CSV, same validation, same three tables and bulk inserts; no encryption, no
    blind index, no dedupe lookups, no audit."""
    engine = make_engine(database_url)
    plain.drop_all(engine)
    plain.create_all(engine)
    started = time.perf_counter()
    batch: list[PersonRow] = []

    def flush() -> None:
        now = time.time_ns() // 1000
        ids = [uuid.uuid4().hex for _ in batch]
        with engine.begin() as conn:
            bulk_insert(
                conn,
                plain_person,
                ("id", "tenant_id", "created_us", "updated_us"),
                [(i, 1, now, now) for i in ids],
            )
            bulk_insert(
                conn,
                plain_profile,
                PROFILE,
                [
                    (i, 1, *(r.profile.get(c) for c in PROFILE[2:]))
                    for i, r in zip(ids, batch, strict=True)
                ],
            )
            bulk_insert(
                conn,
                plain_identity,
                IDENTITY,
                [
                    (i, 1, *(r.identity.get(c) for c in IDENTITY[2:]))
                    for i, r in zip(ids, batch, strict=True)
                ],
            )
        batch.clear()

    for line, raw in read_people_csv(path):
        row = parse_person_row(line, raw, "en")
        if isinstance(row, PersonRow):
            batch.append(row)
        if len(batch) >= 5000:
            flush()
    if batch:
        flush()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pulsecrm-import-"))
    csv_path = write_people_csv(work / "people.csv", args.people)
    with csv_path.open(encoding="utf-8") as handle:
        rows = sum(1 for _ in csv.reader(handle)) - 1

    settings = fresh_installation()
    # The plaintext tables live in the same database as the privacy-on ones.
    baseline_seconds = plaintext_import(csv_path, settings.effective_database_url)

    kernel = build_kernel(settings)
    ctx = AccessContext("local.operator", "consultant", kernel.tenant_id(), "service.appointment")
    started = time.perf_counter()
    report = import_people(kernel, ctx, read_people_csv(csv_path))
    privacy_seconds = time.perf_counter() - started
    kernel.close()
    assert report.created + report.updated == rows - len(report.errors)

    result("import_people_rate", rows / privacy_seconds, rows / baseline_seconds, "people/s")
    result("import_people_time", privacy_seconds, baseline_seconds, "s")


if __name__ == "__main__":
    main()
