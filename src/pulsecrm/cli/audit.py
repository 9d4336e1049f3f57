"""``pulsecrm audit verify|export`` — prove the audit log untouched, online or offline."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Annotated

import typer

from pulsecrm.cli.common import err_console, fail, handles_errors, kernel_session, print_json
from pulsecrm.kernel.audit_log import key_id_of, write_checkpoint
from pulsecrm.kernel.audit_verify import (
    ExportFormatError,
    VerifyReport,
    export_log,
    verify_database,
    verify_export,
)
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

audit_app = typer.Typer(
    help="Verify and export the tamper-evident audit log.", no_args_is_help=True
)


def _trusted_keys(kernel: Kernel, tenant_id: int) -> dict[str, bytes]:
    signer = kernel.signer_for(tenant_id)
    return {signer.key_id: signer.public_raw}


def _finish(report: VerifyReport, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "tree_size": report.tree_size,
                "checkpoints": report.checkpoints,
                "first_bad_entry": report.first_bad_seq,
                "problems": report.problems,
            }
        )
    if report.ok:
        if not as_json:
            print(f"OK: {report.entries} entries, {report.checkpoints} signed checkpoints verified")
        return
    if not as_json:
        where = f"first bad entry: {report.first_bad_seq}" if report.first_bad_seq else "signature"
        print(f"TAMPERED: {where}")
        for problem in report.problems[:20]:
            print(f"  {problem}")
    raise typer.Exit(1)


@audit_app.command("verify")
@handles_errors
def verify(
    export: Annotated[Path | None, typer.Option(help="Verify this export file offline.")] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            help="Pin the signing key (base64 Ed25519 public key) instead of trusting the file's."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Recompute the Merkle tree over every entry and check every signed checkpoint."""
    if export is not None:
        pinned = None
        if public_key:
            raw = base64.b64decode(public_key)
            pinned = {key_id_of(raw): raw}
        try:
            report = verify_export(export, pinned)
        except ExportFormatError as exc:
            fail(str(exc))
        _finish(report, as_json)
        return
    with kernel_session() as kernel:
        tenant_id = kernel.tenant_id()
        keys = _trusted_keys(kernel, tenant_id)
        with read_connection(kernel.engine) as conn:
            report = verify_database(conn, tenant_id, keys)
    _finish(report, as_json)


@audit_app.command("export")
@handles_errors
def export_command(file: Annotated[Path, typer.Argument(dir_okay=False)]) -> None:
    """Write entries, signed checkpoints and the public key for offline verification."""
    with kernel_session() as kernel:
        tenant_id = kernel.tenant_id()
        keys = _trusted_keys(kernel, tenant_id)
        with kernel.engine.begin() as conn:
            write_checkpoint(conn, tenant_id)
        with read_connection(kernel.engine) as conn:
            count = export_log(conn, tenant_id, keys, file)
    err_console.print(f"exported {count} entries to {file}")


@audit_app.command("public-key")
@handles_errors
def public_key_command() -> None:
    """Print the tenant's checkpoint signing key (pin it with `verify --public-key`)."""
    with kernel_session() as kernel:
        signer = kernel.signer_for(kernel.tenant_id())
    print(base64.b64encode(signer.public_raw).decode())
