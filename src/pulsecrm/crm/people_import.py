"""Import people from CSV or XLSX through the vault: validated, deduplicated, batched.

Headers are recognised in zh-CN and en (``手机号``/``phone`` …, see
``person_rows.HEADER_ALIASES``) or mapped explicitly (``--map 手机号=phone``,
``--map-file``; ``-`` ignores a column); anything else is an error naming the
column.

Each batch is one transaction, so a crash leaves whole batches only, and
re-running the same file finds the people already stored (by blind index):
``update`` merges them, ``skip`` leaves them, ``create`` reports them as
"already exists" — in every mode nobody is doubled, so an interrupted import
is resumed by running it again. Bad rows are reported with row, column and
reason and nothing of them is written; ``all_or_nothing`` writes nothing at
all when any row is bad; ``dry_run`` validates and dedupes (against the stored
people and within the file) and writes nothing.
"""

from __future__ import annotations

import codecs
import csv
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

import yaml
from sqlalchemy import update

from pulsecrm.crm.person_rows import (
    SEARCH_FIELDS,
    PersonRow,
    RowError,
    parse_person_row,
    resolve_header,
)
from pulsecrm.crm.tables import person
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.bulk import bulk_insert

Mode = Literal["create", "update", "skip"]
MODES: tuple[Mode, ...] = ("create", "update", "skip")
BATCH_SIZE = 5000
XLSX_SUFFIXES = (".xlsx", ".xlsm")
Rows = Iterator[tuple[int, dict[str, str | None]]]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "created": self.created,
            "updated": self.updated,
            "skipped": self.skipped,
            "errors": [e.as_dict() for e in self.errors],
        }
        if self.dry_run:
            out["dry_run"] = True
        return out

    def write_errors(self, path: Path) -> None:
        """The bad rows as CSV ``row,column,reason`` (UTF-8 with BOM, opens in Excel)."""
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("row", "column", "reason"))
            for e in sorted(self.errors, key=lambda e: e.row):
                writer.writerow((e.row, e.column, e.reason))


def parse_map_options(options: list[str]) -> dict[str, str]:
    """``["手机号=phone", "备注=-"]`` → ``{"手机号": "phone", "备注": "-"}``."""
    mapping: dict[str, str] = {}
    for option in options:
        source, sep, target = option.partition("=")
        if not sep or not source.strip() or not target.strip():
            raise InvalidValue(
                "--map", "use SOURCE=COLUMN (or SOURCE=-)", "格式应为 源列=列名（或 源列=-）"
            )
        mapping[source.strip()] = target.strip()
    return mapping


def load_mapping_file(path: Path) -> dict[str, str]:
    """A YAML or JSON object of source header → column (or ``-``)."""
    text = path.read_text(encoding="utf-8-sig")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise InvalidValue(
            "--map-file", f"not valid JSON/YAML: {exc}", "不是有效的 JSON/YAML"
        ) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str | int) and isinstance(v, str) for k, v in data.items()
    ):
        raise InvalidValue(
            "--map-file", "must be an object of header: column", "应为 源列: 列名 的映射"
        )
    return {str(k): v for k, v in data.items()}


@dataclass
class PeopleFile:
    """Rows of a CSV or XLSX file with canonical column names, and the source names."""

    path: Path
    mapping: dict[str, str] | None = None
    source_names: dict[str, str] = field(default_factory=dict)

    @property
    def is_xlsx(self) -> bool:
        return self.path.suffix.lower() in XLSX_SUFFIXES

    def _columns(self, header: list[str]) -> list[str | None]:
        columns = resolve_header(header, self.mapping)
        self.source_names.clear()  # updated in place: callers may hold this dict already
        self.source_names.update({c: h.strip() for c, h in zip(columns, header, strict=True) if c})
        return columns

    def rows(self) -> Rows:
        """Rows with their 1-based line numbers (the header is line 1)."""
        return self._xlsx_rows() if self.is_xlsx else self._csv_rows()

    def _csv_rows(self) -> Rows:
        with self.path.open(encoding=csv_encoding(self.path), newline="") as handle:
            reader = csv.reader(handle)
            header = next(reader, [])
            columns = self._columns(header)
            for line, cells in enumerate(reader, start=2):
                if not cells:
                    continue
                yield line, {c: v for c, v in zip(columns, cells, strict=False) if c}

    def _xlsx_rows(self) -> Rows:
        from openpyxl import load_workbook

        book = load_workbook(self.path, read_only=True, data_only=True)
        try:
            sheet = book.active
            if sheet is None:
                raise InvalidValue("file", "the workbook has no sheet", "工作簿没有工作表")
            cells = sheet.iter_rows(values_only=True)
            header = [_cell(v) or "" for v in next(cells, ())]
            while header and not header[-1]:
                header.pop()
            columns = self._columns(header)
            for line, values in enumerate(cells, start=2):
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                yield line, {c: _cell(v) for c, v in zip(columns, values, strict=False) if c}
        finally:
            book.close()

    def count(self) -> int:
        if self.is_xlsx:
            from openpyxl import load_workbook

            book = load_workbook(self.path, read_only=True)
            try:
                sheet = book.active
                return max(0, (sheet.max_row or 1) - 1) if sheet is not None else 0
            finally:
                book.close()
        return count_rows(self.path)


def _cell(value: object) -> str | None:
    """A spreadsheet cell as text: integral numbers without ``.0``, dates as ISO dates."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def read_people(path: Path, mapping: dict[str, str] | None = None) -> Rows:
    return PeopleFile(path, mapping).rows()


def read_people_csv(path: Path, mapping: dict[str, str] | None = None) -> Rows:
    """Rows with their 1-based line numbers (the header is line 1)."""
    return PeopleFile(path, mapping)._csv_rows()


def csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM), else GB18030 — what Excel on a Chinese Windows saves.

    The whole file is checked, in 1 MiB chunks, because a GBK file can look
    like UTF-8 for its first rows.
    """
    for encoding in ("utf-8-sig", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(1 << 20):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise InvalidValue(
        "file", "is neither UTF-8 nor GB18030 text", "不是 UTF-8 或 GB18030 编码的文本"
    )


def count_rows(path: Path) -> int:
    with path.open(encoding=csv_encoding(path), newline="") as handle:
        return max(0, sum(1 for _ in csv.reader(handle)) - 1)


def import_people(
    kernel: Kernel,
    ctx: AccessContext,
    rows: Rows,
    *,
    mode: Mode = "update",
    all_or_nothing: bool = False,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
    column_names: dict[str, str] | None = None,
    batch_size: int = BATCH_SIZE,
) -> ImportReport:
    """Import ``rows``; ``column_names`` (canonical → source header) names errors as the
    user's file does. ``progress`` is called after each stored batch (and bad row)."""
    if mode not in MODES:
        raise InvalidValue("mode", "one of create, update, skip", "应为 create、update、skip 之一")
    report = ImportReport(dry_run=dry_run)
    state = _RunState()
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
        if len(parsed) >= batch_size and not all_or_nothing:
            _store_batch(kernel, ctx, parsed, mode, report, state, dry_run)
            if progress:
                progress(len(parsed))
            parsed = []
    if all_or_nothing and report.errors:
        report.skipped += len(parsed)
    else:
        for start in range(0, len(parsed), batch_size):
            batch = parsed[start : start + batch_size]
            _store_batch(kernel, ctx, batch, mode, report, state, dry_run)
            if progress:
                progress(len(batch))
    if column_names:
        report.errors = [
            RowError(e.row, column_names.get(e.column, e.column), e.reason) for e in report.errors
        ]
    return report


@dataclass
class _RunState:
    """What earlier batches of a dry run would have written (nothing is stored)."""

    seen: dict[tuple[str, str], str] = field(default_factory=dict)
    created: set[str] = field(default_factory=set)


def _message(ctx: AccessContext, en: str, zh: str) -> str:
    return en if ctx.locale.startswith("en") else zh


def _store_batch(
    kernel: Kernel,
    ctx: AccessContext,
    batch: list[PersonRow],
    mode: Mode,
    report: ImportReport,
    state: _RunState,
    dry_run: bool,
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
        # A dry run remembers its own "creations" across batches; a real run finds
        # them in the vault, as it does after a crash.
        in_batch: dict[tuple[str, str], str] = state.seen if dry_run else {}
        new_subjects: set[str] = state.created if dry_run else set()
        records: dict[str, dict[str, object]] = {}
        for row in batch:
            keys = list(row.keys.items())
            stored = set().union(*(existing.get(k, set()) for k in keys))
            owners = stored | {in_batch[k] for k in keys if k in in_batch}
            if len(owners) > 1:
                report.errors.append(
                    RowError(
                        row.line,
                        keys[0][0],
                        _message(ctx, "matches several existing people", "与多位已有人员匹配"),
                    )
                )
                report.skipped += 1
                continue
            if owners:
                subject_id = owners.pop()
                if mode == "create" and subject_id not in new_subjects:
                    column = next(k[0] for k in keys if k in existing or k in in_batch)
                    report.errors.append(
                        RowError(row.line, column, _message(ctx, "already exists", "已存在"))
                    )
                    report.skipped += 1
                    continue
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
        if dry_run:
            return
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
