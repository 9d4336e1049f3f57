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
from pulsecrm.cli.marketing_send import campaign_send_app, worker_command
from pulsecrm.cli.notices import notices_app
from pulsecrm.cli.people import import_app, people_app
from pulsecrm.cli.reminders import reminders_app
from pulsecrm.cli.report import report_app
from pulsecrm.cli.rights import rights_app
from pulsecrm.cli.segments import segment_app
from pulsecrm.cli.serve import serve as _serve_command
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
app.add_typer(rights_app, name="rights")
app.add_typer(campaign_send_app, name="campaign")
app.add_typer(segment_app, name="segment")
app.command("worker")(handles_errors(worker_command))


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
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for the console.")] = 8000,
    host: Annotated[str, typer.Option(help="Address for the console.")] = "127.0.0.1",
    serve: Annotated[
        bool,
        typer.Option(
            "--serve/--no-serve",
            help="Serve the console after seeding (--no-serve: seed and exit, for scripts).",
        ),
    ] = True,
) -> None:
    """Seed a realistic clinic (people, staff, a year of activity) and serve the console."""
    from pulsecrm.cli.serve import run
    from pulsecrm.crm.demo_seed import seed_demo

    summary = seed_demo(settings(), people=people)
    table = Table("", "", title="PulseCRM demo")
    for key, value in summary.items():
        table.add_row(key, str(value))
    err_console.print(table)
    for name, url in _seed_patient_pages(host, port).items():
        err_console.print(f"{name}: {url}", soft_wrap=True, highlight=False)
    _print_demo_logins(host, port)
    if serve:
        err_console.print(
            f"serving http://{host}:{port}/staff/ (Ctrl-C stops)", highlight=False, soft_wrap=True
        )
        run(host, port)


def _seed_patient_pages(host: str, port: int) -> dict[str, str]:
    """A notice, a capture form and a demo patient's preference link for the patient pages."""
    from pulsecrm.web.patient_demo import seed_patient_pages
    from pulsecrm.wiring import app_kernel

    with app_kernel(settings()) as kernel:
        paths = seed_patient_pages(kernel)
    return {name: f"http://{host}:{port}{path}" for name, path in paths.items()}


def _print_demo_logins(host: str, port: int) -> None:
    from pulsecrm.access.roles import mfa_required
    from pulsecrm.catalog.loader import default_catalog
    from pulsecrm.crm.demo_seed import DEMO_ACCOUNTS, DEMO_PASSWORD

    catalog = default_catalog()
    logins = Table("user", "role", "second factor", title=f"Sign in: http://{host}:{port}/staff/")
    for role, username in DEMO_ACCOUNTS.items():
        needs = "TOTP (enrol at first sign-in)" if mfa_required(catalog, role) else "—"
        logins.add_row(username, catalog.roles[role].name.get("en"), needs)
    err_console.print(logins)
    err_console.print(f"Password for every demo login: {DEMO_PASSWORD}", highlight=False)
    err_console.print(
        "Roles that can reveal personal data (and admin) set up two-step verification at "
        "their first sign-in: the page shows a QR code and the key. Scan it with any "
        "authenticator app, or compute the code with "
        "uv run python -c \"import pyotp; print(pyotp.TOTP('<key>').now())\", "
        "and keep the 10 recovery codes it shows.",
        highlight=False,
    )
    err_console.print(
        f"Patient pages: http://{host}:{port}/p/  ·  API docs: http://{host}:{port}/api/v1/docs"
        "  ·  Ctrl-C stops the server.",
        highlight=False,
    )


app.command("serve")(_serve_command)
