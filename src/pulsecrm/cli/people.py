"""``pulsecrm import people`` and ``pulsecrm people …`` — thin wrappers over crm and the vault."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from pulsecrm.cli.common import (
    acting_context,
    err_console,
    fail,
    handles_errors,
    kernel_session,
    print_json,
)
from pulsecrm.crm.people_import import (
    MODES,
    Mode,
    PeopleFile,
    import_people,
    load_mapping_file,
    parse_map_options,
)

import_app = typer.Typer(help="Import data.", no_args_is_help=True)
people_app = typer.Typer(help="Find and manage people.", no_args_is_help=True)

SEARCH_OPTIONS = {"phone": "phone", "email": "email", "id_number": "id_number"}


@import_app.command("people")
@handles_errors
def import_people_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    purpose: Annotated[str, typer.Option(help="Purpose the people are collected for.")] = (
        "service.appointment"
    ),
    mode: Annotated[
        str,
        typer.Option(
            help="update: merge into existing people; skip: leave them; "
            "create: report them as errors (already exists)."
        ),
    ] = "update",
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map", help="Map a header: SOURCE=COLUMN, or SOURCE=- to ignore it (repeatable)."
        ),
    ] = None,
    map_file: Annotated[
        Path | None,
        typer.Option(
            "--map-file",
            exists=True,
            dir_okay=False,
            readable=True,
            help="YAML or JSON object of SOURCE: COLUMN (--map wins).",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate and dedupe only; write nothing.")
    ] = False,
    errors: Annotated[
        Path | None,
        typer.Option("--errors", dir_okay=False, help="Write bad rows as CSV row,column,reason."),
    ] = None,
    all_or_nothing: Annotated[bool, typer.Option(help="Write nothing if any row is bad.")] = False,
    user: Annotated[str | None, typer.Option(help="Act as this account.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Import people from CSV or XLSX (name,phone,email,id_number,gender,birth_date,city,source).

    zh/en headers such as 手机号, 姓名, 邮箱, 身份证号 are recognised; map others with --map.
    Re-running an interrupted import is safe: people already stored are found by blind
    index and never doubled.
    """
    if mode not in MODES:
        fail("--mode must be create, update or skip")
    chosen: Mode = "create" if mode == "create" else "update" if mode == "update" else "skip"
    columns = load_mapping_file(map_file) if map_file else {}
    columns.update(parse_map_options(mapping or []))
    source = PeopleFile(file, columns)
    rows = source.rows()
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, purpose)
        total = source.count()
        with Progress(
            TextColumn("[bold]checking" if dry_run else "[bold]importing"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} rows"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=err_console,
            transient=as_json,
        ) as progress:
            task = progress.add_task("import", total=total, rate="")

            def advance(n: int) -> None:
                progress.advance(task, n)
                speed = progress.tasks[0].speed
                progress.update(task, rate=f"{speed:,.0f} rows/s" if speed else "")

            report = import_people(
                kernel,
                ctx,
                rows,
                mode=chosen,
                all_or_nothing=all_or_nothing,
                dry_run=dry_run,
                progress=advance,
                column_names=source.source_names,
            )
    if errors is not None:
        report.write_errors(errors)
    if as_json:
        print_json(report.as_dict())
        return
    verb = "would create" if dry_run else "created"
    err_console.print(
        f"{verb} {report.created}, updated {report.updated}, skipped {report.skipped}"
        + (" (dry run: nothing written)" if dry_run else "")
    )
    for error in report.errors[:50]:
        err_console.print(
            f"  row {error.row}, column {error.column}: {error.reason}", highlight=False
        )
    if len(report.errors) > 50:
        more = "use --errors FILE for all" if errors is None else f"all in {errors}"
        err_console.print(f"  … and {len(report.errors) - 50} more errors ({more})")


@people_app.command("find")
@handles_errors
def find_command(
    purpose: Annotated[str, typer.Option(help="Why you are looking (a catalog purpose).")],
    phone: Annotated[str | None, typer.Option()] = None,
    email: Annotated[str | None, typer.Option()] = None,
    id_number: Annotated[str | None, typer.Option("--id-number")] = None,
    reveal: Annotated[bool, typer.Option(help="Show values unmasked (if your role may).")] = False,
    channel: Annotated[
        str | None, typer.Option(help="Channel, for consent-based purposes.")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Act as this account.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Find people by phone, e-mail or ID number through the blind index."""
    given = {k: v for k, v in {"phone": phone, "email": email, "id_number": id_number}.items() if v}
    if len(given) != 1:
        fail("give exactly one of --phone, --email, --id-number")
    ((field_name, value),) = given.items()
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, purpose, channel)
        views = kernel.vault.find_by(ctx, field_name, value, reveal=reveal)
    results = []
    for view in views:
        item: dict[str, object] = {"id": view.subject_id, **view.values}
        if view.denied:
            item["denied"] = view.denied
        if view.failed:
            item["failed"] = view.failed
        results.append(item)
    if as_json:
        print_json(results)
        return
    if not results:
        err_console.print("no match")
    for item in results:
        print("  ".join(f"{k}={v}" for k, v in item.items() if v is not None))


@people_app.command("shred")
@handles_errors
def shred_command(
    person_id: Annotated[str, typer.Argument()],
    purpose: Annotated[str, typer.Option()] = "compliance.dsr",
    user: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Crypto-shred a person: destroy their data key (irreversible)."""
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, purpose)
        with kernel.engine.begin() as conn:
            destroyed = kernel.vault.shred(conn, ctx, [person_id])
    err_console.print(f"shredded {person_id} ({destroyed} data key destroyed)")
