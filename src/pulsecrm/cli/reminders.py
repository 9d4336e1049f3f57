"""``pulsecrm reminders run`` — send the appointment reminders that are due (D-1, D-0).

Safe to run from cron every few minutes, and from several hosts at once: each
reminder is claimed before it is sent, so none goes twice.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pulsecrm.cli.common import err_console, handles_errors, kernel_session, print_json
from pulsecrm.crm.reminders import dispatch_due
from pulsecrm.marketing.service_messages import send_service_message

reminders_app = typer.Typer(help="Appointment reminders.", no_args_is_help=True)


@reminders_app.command("run")
@handles_errors
def run_command(
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 500,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Send due reminders through the configured channels; cancel those no longer needed."""
    with kernel_session() as kernel:
        report = dispatch_due(
            kernel, send_service_message, limit=limit, locale=kernel.settings.locale
        )
    if as_json:
        print_json(report.as_dict())
        return
    err_console.print(
        f"sent {report.sent} · skipped {sum(report.skipped.values())} {report.skipped or ''} · "
        f"failed {report.failed} · cancelled {report.cancelled} · phone tasks {report.tasks}"
    )
