"""`pulsecrm deid run CONFIG INPUT OUTPUT` — de-identify a table file.

Writes the released table, a report (HTML or Markdown) and a JSON summary
next to the output; ``--json`` also prints the summary on stdout so scripts
can pipe it. Progress goes to stderr. Exit codes: 0 released, 2 bad config or
input (the message names the file, key and rule; no traceback), 3 the privacy
models cannot be met on this data.

`pulsecrm deid export-people CONFIG OUTPUT` does the same for the CRM's own
people, read through the kernel (see :mod:`pulsecrm.deid.people_export`).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from pulsecrm.cli.common import acting_context, handles_errors, kernel_session

EXIT_OK = 0
EXIT_BAD_INPUT = 2
EXIT_NO_SOLUTION = 3


ErrorTypes = tuple[type[BaseException], ...]


def _engine_error_types() -> tuple[ErrorTypes, ErrorTypes]:
    """The engine's (config error, no-solution) types, or empty tuples if it is absent."""
    try:
        engine = importlib.import_module("pulsecrm.deid.engine")
    except ImportError:
        return (), ()
    return (engine.DeidConfigError,), (engine.NoSolutionError,)


def run(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="YAML config of the run.")],
    input_path: Annotated[Path, typer.Argument(metavar="INPUT", help="CSV or Parquet input.")],
    output: Annotated[
        Path, typer.Argument(metavar="OUTPUT", help="Where to write the de-identified table.")
    ],
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Output format (csv|parquet); default: by extension."),
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option("--input-format", help="Input format (csv|parquet); default: by extension."),
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Report file (.html or .md); default OUTPUT.report.html."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary on stdout.")
    ] = False,
) -> None:
    """De-identify INPUT according to CONFIG and write OUTPUT, a report and a summary."""
    # Imported here so `pulsecrm --help` and other commands don't pay for pandas/OpenDP.
    from pulsecrm.deid.pipeline import RunFiles, run_files
    from pulsecrm.deid.report import write_report

    console = Console(stderr=True)
    config_errors, no_solution = _engine_error_types()
    bad_input: ErrorTypes = (ValueError, OSError, *config_errors)
    report_path = report or output.with_name(output.name + ".report.html")
    summary_path = output.with_name(output.name + ".summary.json")
    try:
        with console.status("de-identifying…") as spinner:

            def status(message: str) -> None:
                spinner.update(message)
                console.print(f"[dim]•[/] {message}", highlight=False)

            _, outcome = run_files(
                RunFiles(config, input_path, output, input_format, fmt), status=status
            )
            status(f"writing report {report_path}")
            write_report(report_path, outcome.summary, outcome.record, outcome.class_sizes)
            summary_path.write_text(_to_json(outcome.summary), encoding="utf-8")
    except no_solution as exc:
        console.print(f"[bold red]no solution:[/] {exc}", highlight=False)
        raise typer.Exit(EXIT_NO_SOLUTION) from None
    except bad_input as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    summary = outcome.summary
    verdict = "[green]verified[/]" if summary["verified"] else "[bold red]NOT verified[/]"
    console.print(
        f"{verdict}: {summary['rows_in']} rows in, {summary['rows_out']} out, "
        f"{summary['suppressed']} suppressed, k={summary['k']} → {output}"
    )
    if as_json:
        typer.echo(_to_json(summary))


def _to_json(summary: dict[str, Any]) -> str:
    return json.dumps(summary, indent=2, ensure_ascii=False, default=str)


@handles_errors
def export_people(
    config: Annotated[Path, typer.Argument(metavar="CONFIG", help="YAML config of the export.")],
    output: Annotated[
        Path, typer.Argument(metavar="OUTPUT", help="Where to write the de-identified extract.")
    ],
    user: Annotated[
        str | None, typer.Option("--user", help="Act as this account (default: local operator).")
    ] = None,
    report: Annotated[
        Path | None,
        typer.Option("--report", help="Report file (.html or .md); default OUTPUT.report.html."),
    ] = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="Output format (csv|parquet); default: by extension."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the JSON summary on stdout.")
    ] = False,
) -> None:
    """Export the CRM's people de-identified per CONFIG, read through the kernel and audited.

    Reads only the profile fields CONFIG names, for purpose analytics.deidentified
    and as --user; identity fields are refused before any read. Writes OUTPUT, a
    report, OUTPUT.summary.json and OUTPUT.process-record.json, and one audit
    entry holding the SHA-256 of the extract and of the process record. Exit
    codes: 0 exported, 2 refused or bad config, 3 no solution.
    """
    from pulsecrm.deid.engine import NoSolutionError
    from pulsecrm.deid.people_export import PURPOSE, ExportFiles
    from pulsecrm.deid.people_export import export_people as export_service

    console = Console(stderr=True)
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, PURPOSE)
        try:
            with console.status("exporting people…") as spinner:

                def status(message: str) -> None:
                    spinner.update(message)
                    console.print(f"[dim]•[/] {message}", highlight=False)

                result = export_service(
                    kernel, ctx, config, ExportFiles(output, report, fmt), status=status
                )
        except NoSolutionError as exc:
            console.print(f"[bold red]no solution:[/] {exc}", highlight=False)
            raise typer.Exit(EXIT_NO_SOLUTION) from None
    export = result.summary["export"]
    verdict = "[green]verified[/]" if export["verified"] else "[bold red]NOT verified[/]"
    console.print(
        f"{verdict}: {export['people']} people, {export['rows']} rows out, "
        f"k={export['k']} → {output} (audit entry {export['audit_seq']}, "
        f"sha256 {export['output_sha256'][:16]}…)",
        highlight=False,
    )
    if as_json:
        typer.echo(_to_json(result.summary))


def register(app: typer.Typer) -> None:
    """Attach ``run`` and ``export-people`` to the ``deid`` sub-app."""
    app.command("run")(run)
    app.command("export-people")(export_people)
