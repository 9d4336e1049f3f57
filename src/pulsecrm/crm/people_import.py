"""Import people from CSV through the vault: validated, deduplicated, batched.

Each batch is one transaction, so a crash leaves whole batches only, and
re-running the same file finds the people already stored (by blind index) and
merges instead of doubling them. Bad rows are reported with row, column and
reason and nothing of them is written; ``all_or_nothing`` writes nothing at
all when any row is bad.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import update

from pulsecrm.crm.person_rows import COLUMNS, SEARCH_FIELDS, PersonRow, RowError, parse_person_row
from pulsecrm.crm.tables import person
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.bulk import bulk_insert

Mode = Literal["update", "skip"]
BATCH_SIZE = 5000


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
        }


def read_people_csv(path: Path) -> Iterator[tuple[int, dict[str, str | None]]]:
    """Rows with their 1-based line numbers (the header is line 1)."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        unknown = [h for h in header if h not in COLUMNS]
        if unknown:
            raise InvalidValue(
                unknown[0],
                f"unknown column; expected {','.join(COLUMNS)}",
                f"未知列；应为 {','.join(COLUMNS)}",
            )
        if not any(h in SEARCH_FIELDS for h in header):
            raise InvalidValue(
                "header", "needs phone, email or id_number", "需要手机号、邮箱或身份证号列"
            )
        reader.fieldnames = header
        for line, row in enumerate(reader, start=2):
            yield line, {k: v for k, v in row.items() if k is not None}


def count_rows(path: Path) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def import_people(
    kernel: Kernel,
    ctx: AccessContext,
    rows: Iterator[tuple[int, dict[str, str | None]]],
    *,
    mode: Mode = "update",
    all_or_nothing: bool = False,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    report = ImportReport()
    parsed: list[PersonRow] = []
    for line, raw in rows:
        result = parse_person_row(line, raw, ctx.locale)
        if isinstance(result, RowError):
            report.errors.append(result)
            report.skipped += 1
            if progress:
                progress(1)
            continue
        parsed.append(result)
        if len(parsed) >= BATCH_SIZE and not all_or_nothing:
            _store_batch(kernel, ctx, parsed, mode, report)
            if progress:
                progress(len(parsed))
            parsed = []
    if all_or_nothing and report.errors:
        report.skipped += len(parsed)
        return report
    for start in range(0, len(parsed), BATCH_SIZE):
        batch = parsed[start : start + BATCH_SIZE]
        _store_batch(kernel, ctx, batch, mode, report)
        if progress:
            progress(len(batch))
    return report


def _store_batch(
    kernel: Kernel, ctx: AccessContext, batch: list[PersonRow], mode: Mode, report: ImportReport
) -> None:
    vault = kernel.vault
    with kernel.engine.begin() as conn:
        existing: dict[tuple[str, str], set[str]] = {}
        for field_name in SEARCH_FIELDS:
            values = sorted(
                {row.identity[field_name] for row in batch if field_name in row.identity}
            )
            if values:
                for value, subjects in vault.match(conn, ctx, field_name, values).items():
                    existing[(field_name, value)] = subjects
        in_batch: dict[tuple[str, str], str] = {}
        records: dict[str, dict[str, object]] = {}
        new_subjects: set[str] = set()
        for row in batch:
            keys = list(row.keys.items())
            owners = set().union(*(existing.get(k, set()) for k in keys))
            owners |= {in_batch[k] for k in keys if k in in_batch}
            if len(owners) > 1:
                report.errors.append(
                    RowError(
                        row.line,
                        keys[0][0],
                        "matches several existing people"
                        if ctx.locale.startswith("en")
                        else "与多位已有人员匹配",
                    )
                )
                report.skipped += 1
                continue
            if owners:
                subject_id = owners.pop()
                if mode == "skip" and subject_id not in new_subjects:
                    report.skipped += 1
                    continue
                report.updated += 1
            else:
                subject_id = uuid.uuid4().hex
                new_subjects.add(subject_id)
                report.created += 1
            for key in keys:
                in_batch[key] = subject_id
            merged = records.setdefault(subject_id, {})
            merged.update(row.identity)
            merged.update(row.profile)
        now = now_us()
        if new_subjects:
            bulk_insert(
                conn,
                person,
                ("id", "tenant_id", "created_us", "updated_us"),
                [(s, ctx.tenant_id, now, now) for s in new_subjects],
            )
        touched = [s for s in records if s not in new_subjects]
        if touched:
            conn.execute(update(person).where(person.c.id.in_(touched)).values(updated_us=now))
        vault.write(conn, ctx, records, new_subjects=new_subjects)
