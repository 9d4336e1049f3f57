"""The ``pulsecrm`` command: a thin adapter that wires sub-commands together."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pulsecrm.cli import deid
from pulsecrm.cli.audit import audit_app
from pulsecrm.cli.common import err_console, handles_errors, settings
from pulsecrm.cli.consent import consent_app
from pulsecrm.cli.keys import keys_app
from pulsecrm.cli.notices import notices_app
from pulsecrm.cli.people import import_app, people_app
from pulsecrm.cli.reminders import reminders_app
from pulsecrm.cli.report import report_app
from pulsecrm.cli.tokens import tokens_app

app = typer.Typer(
    help="PulseCRM — privacy-first CRM for medical marketing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(deid.app, name="deid")
app.add_typer(import_app, name="import")
app.add_typer(people_app, name="people")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(consent_app, name="consent")
app.add_typer(notices_app, name="notices")
app.add_typer(tokens_app, name="tokens")
app.add_typer(report_app, name="report")
app.add_typer(reminders_app, name="reminders")


@app.callback()
def _root() -> None:
    """PulseCRM command line."""


@app.command()
@handles_errors
def init(
    tenant: Annotated[str | None, typer.Option(help="Tenant slug.")] = None,
    operator: Annotated[str, typer.Option(help="Local operator account name.")] = "local.operator",
) -> None:
    """Create home, keys, schema, the default tenant and the local operator (idempotent)."""
    from pulsecrm.kernel.installation import initialise

    report = initialise(settings(), tenant_slug=tenant, operator=operator)
    state = "initialised" if report.created else "already initialised"
    err_console.print(
        f"PulseCRM {state}: home {report.home}, database {report.database}, "
        f"tenant {report.tenant_id}, operator {report.operator}",
        highlight=False,
    )


@app.command()
@handles_errors
def demo(
    people: Annotated[
        int, typer.Option(min=0, max=1_000_000, help="Synthetic people to seed.")
    ] = 2000,
) -> None:
    """Initialise an embedded installation and seed realistic synthetic people."""
    from pulsecrm.crm.demo_seed import seed_demo

    summary = seed_demo(settings(), people=people)
    table = Table("", "", title="PulseCRM demo")
    for key, value in summary.items():
        table.add_row(key, str(value))
    err_console.print(table)
