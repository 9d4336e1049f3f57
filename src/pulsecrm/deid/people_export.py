"""A de-identified extract of the CRM's people, read through the kernel.

``export_people`` is the only way the people table leaves PulseCRM for
analytics (issue #7, requirements E3, D2, H6):

1. **check before any read** — the config may name only pseudonymous profile
   fields the acting role may reveal for ``analytics.deidentified``; a
   direct identifier (name, phone, e-mail, ID number, WeChat openid, address,
   birth date), a field outside the catalog, a field the role has no grant
   for, a demographic field not generalised as a quasi-identifier, a config
   without ``privacy.k``, or a bulk export without a recorded approval is
   refused with a message naming the field — and the refusal is audited;
2. **read through the vault** — the tenant's person ids (never a crypto-shredded
   one) are read in chunks with ``Vault.read(..., reveal=True)``; the vault
   checks the grant and makes one audit entry per person read durable before
   returning values;
3. **de-identify** — the existing pipeline (:func:`deidentify_frame`) over
   the frame; the internal subject id is never in the frame unless the config
   declares a ``person_id`` column released as a per-recipient keyed
   ``pseudonym``;
4. **release** — the extract (rows sorted by value, so row order carries
   nothing of the database order), the GB/T 37964 process record as a JSON
   file, then ONE ``export`` audit entry naming rows, k achieved and the
   SHA-256 of the extract, the config and the process record — so
   ``pulsecrm audit verify`` vouches for exactly what left. Files are written
   under temporary names and moved into place only after that entry commits;
   a run that fails after reading leaves a ``failed`` export entry and no
   extract.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd
from sqlalchemy import exists, select

from pulsecrm.catalog.model import Category, FieldSpec
from pulsecrm.crm.tables import person
from pulsecrm.deid.config import AttributeRole, ConfigError, DeidConfig, load_config
from pulsecrm.deid.pipeline import DeidOutcome, deidentify_frame
from pulsecrm.deid.report import write_report
from pulsecrm.deid.table_files import table_format, write_table
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied
from pulsecrm.kernel.policy import Access
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import shredded_subject
from pulsecrm.store.engine import read_connection

PURPOSE = "analytics.deidentified"
IDENTITY_FIELDS = frozenset(
    {"name", "phone", "email", "id_number", "wechat_openid", "address", "birth_date"}
)
"""Never exported, whatever the catalog grants: the person's encrypted identity."""
PERSON_COLUMN = "person_id"
"""The optional column carrying the subject id — only ever as a keyed pseudonym."""
READ_CHUNK = 5000
BULK_APPROVAL_ROWS = 10_000
"""Above this many people an export needs a recorded approval (approver and time), D2."""
_UNPROTECTED_ROLES = (AttributeRole.SENSITIVE, AttributeRole.INSENSITIVE)

StatusCallback = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


class ExportRefused(ConfigError):
    """The config or the request may not run; nothing was read. Names the file, key and rule."""


@dataclass(frozen=True)
class ExportFiles:
    """Where an export writes: the extract, and beside it report, summary, process record."""

    output: Path
    report: Path | None = None
    output_format: str | None = None

    @property
    def report_path(self) -> Path:
        return self.report or self.output.with_name(self.output.name + ".report.html")

    @property
    def summary_path(self) -> Path:
        return self.output.with_name(self.output.name + ".summary.json")

    @property
    def record_path(self) -> Path:
        return self.output.with_name(self.output.name + ".process-record.json")


@dataclass
class ExportResult:
    """What an export released and where the evidence is."""

    summary: dict[str, Any]
    outcome: DeidOutcome
    audit_seq: int
    written: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class _Request:
    kernel: Kernel
    ctx: AccessContext
    config: DeidConfig
    fields: tuple[str, ...]

    def audit(self, outcome: Outcome, detail: dict[str, Any]) -> int:
        event = AuditEvent(
            self.ctx.actor,
            self.ctx.role,
            self.ctx.purpose,
            Action.EXPORT,
            outcome,
            None,
            self.fields,
            {"kind": "deid.people", **detail},
        )
        tenant_id = self.ctx.tenant_id
        with self.kernel.engine.begin() as conn:
            return append_events(conn, tenant_id, [event], self.kernel.signer_for(tenant_id))


def export_people(
    kernel: Kernel,
    ctx: AccessContext,
    config: DeidConfig | Path | str,
    files: ExportFiles,
    *,
    status: StatusCallback = _quiet,
    chunk_size: int = READ_CHUNK,
    approval_threshold: int = BULK_APPROVAL_ROWS,
) -> ExportResult:
    """Export the tenant's people de-identified per ``config``; see the module docstring.

    Raises :class:`ExportRefused` (a ``ConfigError``) or ``AccessDenied``
    before any read; ``ConfigError`` / ``NoSolutionError`` from the pipeline
    after the reads (recorded as a failed export).
    """
    if ctx.purpose != PURPOSE:
        raise ValueError(f"export-people runs for purpose {PURPOSE!r}, not {ctx.purpose!r}")
    config_file_sha256: str | None = None
    if not isinstance(config, DeidConfig):
        status(f"loading config {config}")
        path = Path(config)
        config = load_config(path)
        config_file_sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
    # Fails (before anything is read) on an unknown extension or --format.
    out_format = table_format(files.output, files.output_format or config.output.format)

    fields = tuple(c for c in config.columns if c != PERSON_COLUMN)
    request = _Request(kernel, ctx, config, fields)
    _check_config(request)
    ids = list_people(kernel, ctx.tenant_id)
    _check_approval(request, len(ids), approval_threshold)

    status(f"reading {len(ids)} people through the vault ({', '.join(fields)})")
    frame, unavailable = _read_profiles(request, ids, chunk_size)
    temporary: list[Path] = []
    try:
        outcome = deidentify_frame(frame, config, status=status)
        data = _value_order(outcome.data)
        status(f"writing {files.output}")
        output_tmp = _temporary(files.output, temporary)
        write_table(
            data,
            output_tmp,
            fmt=out_format,
            sep=config.output.sep,
            encoding=config.output.encoding,
        )
        record_bytes = (
            json.dumps(
                outcome.record.to_dict(), ensure_ascii=False, indent=2, sort_keys=True, default=str
            )
            + "\n"
        ).encode("utf-8")
        record_tmp = _temporary(files.record_path, temporary)
        record_tmp.write_bytes(record_bytes)
    except BaseException as exc:
        _discard(temporary)
        request.audit(Outcome.FAILED, _failure_detail(exc, len(ids), len(frame)))
        raise

    summary = outcome.summary
    export: dict[str, Any] = {
        "people": len(ids),
        "unavailable": unavailable,
        "rows": len(data),
        "k": summary["k"],
        "k_required": summary["k_required"],
        "verified": summary["verified"],
        "format": out_format,
        "output_sha256": _file_sha256(output_tmp),
        "process_record_sha256": hashlib.sha256(record_bytes).hexdigest(),
        "config_sha256": outcome.record.config_sha256,
        "config_file_sha256": config_file_sha256,
        "recipient": outcome.record.recipient,
        "approval": outcome.record.approval.status,
    }
    try:
        seq = request.audit(Outcome.ALLOWED, export)
    except BaseException:
        _discard(temporary)
        raise
    # The entry is durable: only now does the extract appear under its name.
    os.replace(output_tmp, files.output)
    os.replace(record_tmp, files.record_path)
    summary = {**summary, "export": {**export, "audit_seq": seq}}
    status(f"writing report {files.report_path}")
    written = [files.output, files.record_path]
    written += write_report(files.report_path, summary, outcome.record, outcome.class_sizes)
    files.summary_path.write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    written.append(files.summary_path)
    return ExportResult(summary, outcome, seq, written)


def list_people(kernel: Kernel, tenant_id: int) -> list[str]:
    """The tenant's person ids, minus crypto-shredded subjects, in id (random) order."""
    erased = exists().where(
        shredded_subject.c.tenant_id == tenant_id,
        shredded_subject.c.subject_id == person.c.id,
    )
    query = (
        select(person.c.id).where(person.c.tenant_id == tenant_id, ~erased).order_by(person.c.id)
    )
    with read_connection(kernel.engine) as conn:
        return [str(row[0]) for row in conn.execute(query)]


# -- checks before any read -------------------------------------------------------


def _check_config(request: _Request) -> None:
    """Refuse, audited and naming the field, anything the export may not read or release."""
    config, ctx, catalog = request.config, request.ctx, request.kernel.catalog
    where = config.source

    def refuse(rule: str, key_path: str, reason: str, denied: bool = False) -> NoReturn:
        request.audit(Outcome.DENIED, {"reason": reason, "key": key_path})
        if denied:
            raise AccessDenied(rule)
        raise ExportRefused(rule, file=where, key_path=key_path)

    if not request.fields:
        refuse("name at least one profile field to export", "columns", "no fields")
    for name in request.fields:
        key = f"columns.{name}"
        spec: FieldSpec | None = catalog.fields.get(name)
        if name in IDENTITY_FIELDS or (
            spec is not None
            and (spec.encrypted or spec.category in (Category.IDENTIFIER, Category.CONTACT))
        ):
            refuse(
                f"field {name!r} is a direct identifier; export-people never reads or releases "
                "identity fields (not even pseudonymised)",
                key,
                f"identifier field {name}",
            )
        if spec is None or spec.stored_in is None:
            refuse(
                f"{name!r} is not a stored person field of the catalog; export-people can "
                f"export {', '.join(_exportable(request))} (and {PERSON_COLUMN!r} as a "
                "pseudonym)",
                key,
                "unknown field",
            )
    for name in request.fields:
        access = request.kernel.policy.decide(ctx.role, name, ctx.purpose)
        if access is not Access.REVEAL:
            refuse(
                f"role {ctx.role} may not read field {name!r} for {ctx.purpose}",
                f"columns.{name}",
                f"role {ctx.role} has no grant for {name}",
                denied=True,
            )
    for name in request.fields:
        spec = catalog.fields[name]
        role = config.columns[name].role
        if spec.category is Category.DEMOGRAPHIC and role in _UNPROTECTED_ROLES:
            refuse(
                f"field {name!r} is demographic and would leave as is; declare it "
                "role: quasi with a hierarchy so the engine generalises it",
                f"columns.{name}.role",
                f"unprotected demographic field {name}",
            )
    if config.privacy.k is None or config.privacy.k < 2:
        refuse(
            "an export of people needs k-anonymity: set privacy.k (at least 2)",
            "privacy.k",
            "no k",
        )
    if PERSON_COLUMN in config.columns:
        column = config.columns[PERSON_COLUMN]
        if column.role is not AttributeRole.IDENTIFYING or column.operator != "pseudonym":
            refuse(
                f"column {PERSON_COLUMN!r} carries the internal subject id and may only "
                "leave as a keyed per-recipient pseudonym: role: identifying, "
                "operator: pseudonym",
                f"columns.{PERSON_COLUMN}",
                "person id not pseudonymised",
            )


def _exportable(request: _Request) -> list[str]:
    ctx = request.ctx
    return sorted(
        name
        for name, access in request.kernel.policy.fields_for(ctx.role, ctx.purpose).items()
        if access is Access.REVEAL and name not in IDENTITY_FIELDS
    )


def _check_approval(request: _Request, people: int, threshold: int) -> None:
    approval = request.config.approval
    if people > threshold and not (approval.approver and approval.approved_at):
        request.audit(
            Outcome.DENIED,
            {"reason": "pending approval", "people": people, "threshold": threshold},
        )
        raise ExportRefused(
            f"exporting {people} people (more than {threshold}) needs a recorded approval: "
            "set approval.approver and approval.approved_at",
            file=request.config.source,
            key_path="approval",
        )


# -- reading ------------------------------------------------------------------------


def _read_profiles(
    request: _Request, ids: Sequence[str], chunk_size: int
) -> tuple[pd.DataFrame, int]:
    """Read ``fields`` of ``ids`` through the vault, chunk by chunk; return (frame, unavailable).

    A person the vault returns without every field (no profile row, or a
    denial) is left out and counted.
    """
    kernel, ctx, fields = request.kernel, request.ctx, list(request.fields)
    with_person = PERSON_COLUMN in request.config.columns
    columns: dict[str, list[str | None]] = {name: [] for name in request.config.columns}
    unavailable = 0
    for start in range(0, len(ids), chunk_size):
        views = kernel.vault.read(ctx, ids[start : start + chunk_size], fields, reveal=True)
        for view in views:
            if view.failed or any(name not in view.values for name in fields):
                unavailable += 1
                continue
            for name in fields:
                columns[name].append(view.values[name])
            if with_person:
                columns[PERSON_COLUMN].append(view.subject_id)
    frame = pd.DataFrame(
        {name: pd.Series(values, dtype=object) for name, values in columns.items()}
    )
    return frame, unavailable


# -- writing ----------------------------------------------------------------------------


def _value_order(data: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by their values: equal rows are interchangeable, so order says nothing."""
    if data.empty:
        return data
    text = data.astype("string")
    order = text.sort_values(list(text.columns), na_position="last", kind="stable").index
    return data.loc[order].reset_index(drop=True)


def _temporary(final: Path, registry: list[Path]) -> Path:
    final.parent.mkdir(parents=True, exist_ok=True)
    path = final.with_name(f".{final.name}.{secrets.token_hex(4)}.partial")
    registry.append(path)
    return path


def _discard(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _failure_detail(exc: BaseException, people: int, rows_read: int) -> dict[str, Any]:
    """Why a run failed after reading — the error type and key only: messages may quote values."""
    detail: dict[str, Any] = {"error": type(exc).__name__, "people": people, "read": rows_read}
    if isinstance(exc, ConfigError) and exc.key_path:
        detail["key"] = exc.key_path
    return detail
