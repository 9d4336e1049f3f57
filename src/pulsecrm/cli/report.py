"""``pulsecrm report funnel`` — the funnel and KPIs over pseudonymous tables (no decryption)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Annotated

import typer
from rich.table import Table

from pulsecrm.cli.common import err_console, fail, handles_errors, kernel_session, print_json
from pulsecrm.crm.funnel import DIMENSIONS, funnel
from pulsecrm.store.engine import read_connection

report_app = typer.Typer(help="Reports.", no_args_is_help=True)
BEIJING = timezone(timedelta(hours=8))


def _us(day: str | None) -> int | None:
    if day is None:
        return None
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        fail(f"{day!r}: use YYYY-MM-DD")
    return int(datetime(parsed.year, parsed.month, parsed.day, tzinfo=BEIJING).timestamp() * 1e6)


@report_app.command("funnel")
@handles_errors
def funnel_command(
    by: Annotated[str, typer.Option(help=f"One of {', '.join(DIMENSIONS)}.")] = "channel",
    from_: Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD).")] = None,
    to: Annotated[str | None, typer.Option(help="Day after the last (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Leads → consultations → appointments → arrivals → deals, with rates, by a dimension."""
    with kernel_session() as kernel, read_connection(kernel.engine) as conn:
        rows = [
            r.as_dict()
            for r in funnel(
                conn=conn,
                tenant_id=kernel.tenant_id(),
                by=by,
                from_us=_us(from_),
                to_us=_us(to),
                engine=kernel.engine,
            )
        ]
    if as_json:
        print_json(rows)
        return
    columns = (
        "key",
        "leads",
        "booked",
        "arrived",
        "closed",
        "booking_rate",
        "arrival_rate",
        "no_show_rate",
        "close_rate",
        "average_deal_cents",
        "followup_completion",
        "first_response_s",
    )
    table = Table(*columns, title=f"funnel by {by}")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    err_console.print(table)
