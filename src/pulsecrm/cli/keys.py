"""``pulsecrm keys …`` — master-key rotation, status, retirement and shred replay."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from pulsecrm.cli.common import err_console, handles_errors, kernel_session, print_json
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.shred_journal import ShredJournal
from pulsecrm.kernel.shred_replay import shredded_in_database

keys_app = typer.Typer(help="Manage encryption keys.", no_args_is_help=True)


def _audit_settings_change(kernel: Kernel, detail: dict[str, object]) -> None:
    tenant_id = kernel.tenant_id()
    kernel.audit_writer.record(
        tenant_id,
        [
            AuditEvent(
                "local.cli",
                "admin",
                "compliance.audit",
                Action.KEY_ROTATION,
                Outcome.ALLOWED,
                None,
                (),
                detail,
            )
        ],
    )


@keys_app.command("status")
@handles_errors
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Master-key versions and how many keys each still wraps."""
    with kernel_session() as kernel:
        provider = kernel.keystore.provider
        usage = kernel.keystore.usage_by_version()
        data = {
            "provider": provider.name,
            "active_version": provider.active_version(),
            "versions": [
                {"version": v, "wrapped_keys": usage.get(v, 0)} for v in provider.versions()
            ],
        }
    if as_json:
        print_json(data)
        return
    table = Table("version", "wrapped keys", "state")
    for entry in data["versions"]:  # type: ignore[attr-defined]
        state = (
            "active"
            if entry["version"] == data["active_version"]
            else ("in use" if entry["wrapped_keys"] else "retirable")
        )
        table.add_row(str(entry["version"]), f"{entry['wrapped_keys']:,}", state)
    err_console.print(table)


@keys_app.command("rotate")
@handles_errors
def rotate(
    batch: Annotated[int, typer.Option(min=1, max=100_000)] = 2000,
    resume: Annotated[
        bool,
        typer.Option(
            help="Finish an interrupted rotation instead of starting a new master-key version."
        ),
    ] = False,
) -> None:
    """Create a new master-key version and rewrap every data key under it (online, resumable)."""
    with kernel_session() as kernel:
        keystore = kernel.keystore
        provider = keystore.provider
        target = provider.active_version() if resume else provider.create_version()
        total = keystore.stale_count(target)
        with Progress(
            TextColumn(f"[bold]rewrapping under v{target}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeRemainingColumn(),
            console=err_console,
        ) as progress:
            task = progress.add_task("rotate", total=total)
            while True:
                done = keystore.rewrap_batch(target, batch)
                if not done:
                    break
                progress.advance(task, done)
        _audit_settings_change(kernel, {"event": "rotate", "version": target, "rewrapped": total})
    err_console.print(f"active master key: v{target}; {total:,} keys rewrapped")


@keys_app.command("retire")
@handles_errors
def retire(version: Annotated[int, typer.Argument()]) -> None:
    """Destroy an old master-key version once nothing is wrapped under it."""
    with kernel_session() as kernel:
        kernel.keystore.retire(version)
        _audit_settings_change(kernel, {"event": "retire", "version": version})
    err_console.print(f"master key v{version} retired")


@keys_app.command("replay-shreds")
@handles_errors
def replay_shreds() -> None:
    """After restoring a key-store backup: destroy again every key shredded since."""
    with kernel_session() as kernel:
        journal = ShredJournal(kernel.settings.key_dir / "shredded.jsonl")
        by_tenant: dict[int, list[str]] = {}
        for tenant_id, subject_id in journal.entries():
            by_tenant.setdefault(tenant_id, []).append(subject_id)
        for tenant_id, subjects in shredded_in_database(kernel).items():
            by_tenant.setdefault(tenant_id, []).extend(subjects)
        destroyed = sum(kernel.keystore.shred(t, s) for t, s in by_tenant.items())
    err_console.print(f"destroyed {destroyed} restored data keys of shredded people")
