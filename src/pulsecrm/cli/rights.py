"""``pulsecrm rights …`` — data-subject requests taken offline, and the officer's queue (F1).

``record`` is the offline channel: a request made at the front desk, by phone
or by letter is recorded with the same clock as one from the web form. The
staff member types what the requester says; the details are sealed as the
requester's own (role ``consent_intake``, actor ``offline:<staff>``), so the
desk can record a request but never read one back. The queue and its
workflow are the privacy officer's.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from pulsecrm.cli.common import (
    acting_context,
    err_console,
    handles_errors,
    kernel_session,
    print_json,
)
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import requests as rights
from pulsecrm.store.engine import read_connection

rights_app = typer.Typer(
    help="Data-subject requests: record, queue, verify, extend.", no_args_is_help=True
)
PURPOSE = "compliance.dsr"
User = Annotated[str | None, typer.Option("--user", help="Act as this account.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _print(view: rights.RequestView, as_json: bool) -> None:
    if as_json:
        print_json(view.as_dict())
        return
    clock = view.clock()
    err_console.print(
        f"{view.reference} {view.request_type} {view.status} · due "
        f"{_date(clock['effective_due_us'])} · id {view.id}",
        highlight=False,
    )


def _date(us: int) -> str:
    from datetime import UTC, datetime

    from pulsecrm.rights.clock import CLOCK_TZ

    return datetime.fromtimestamp(us / 1e6, UTC).astimezone(CLOCK_TZ).strftime("%Y-%m-%d %H:%M")


@rights_app.command("record")
@handles_errors
def record(
    request_type: Annotated[
        str, typer.Option("--type", help=f"One of {', '.join(rights.REQUEST_TYPES)}.")
    ],
    name: Annotated[str | None, typer.Option("--name")] = None,
    phone: Annotated[str | None, typer.Option("--phone")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    details: Annotated[str | None, typer.Option("--details")] = None,
    user: User = None,
    as_json: Json = False,
) -> None:
    """Record a request made offline (desk, phone, letter); its clock starts now."""
    with kernel_session() as kernel:
        staff = acting_context(kernel, user, PURPOSE)
        ctx = AccessContext(
            f"offline:{staff.actor}",
            "consent_intake",
            staff.tenant_id,
            PURPOSE,
            None,
            staff.locale,
        )
        with kernel.engine.begin() as conn:
            view = rights.submit_request(
                conn,
                kernel,
                ctx,
                intake=rights.RequestIntake(
                    request_type, "offline", name, phone, email, details, None, staff.locale
                ),
            )
    _print(view, as_json)


@rights_app.command("queue")
@handles_errors
def queue(
    user: User = None,
    closed: Annotated[bool, typer.Option("--closed")] = False,
    as_json: Json = False,
) -> None:
    """Open requests, most urgent first, with their clocks (privacy officer)."""
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, PURPOSE)
        statuses = rights.CLOSED if closed else rights.OPEN
        with read_connection(kernel.engine) as conn:
            views = rights.list_queue(conn, kernel, ctx, statuses=statuses)
    if as_json:
        print_json([v.as_dict() for v in views])
        return
    table = Table("reference", "type", "status", "received", "due", "days left", "contact")
    for v in views:
        clock = v.clock()
        table.add_row(
            v.reference,
            v.request_type,
            v.status + (" ✓" if v.verified else ""),
            _date(v.received_us),
            _date(clock["effective_due_us"]),
            "" if clock["days_left"] is None else str(clock["days_left"]),
            v.contact.get("phone") or v.contact.get("email") or "",
        )
    err_console.print(table)


def _find(kernel: Kernel, ctx: AccessContext, reference: str) -> str:
    """A request id from its id or its DSR-… reference."""
    if not reference.upper().startswith("DSR-"):
        return reference
    with read_connection(kernel.engine) as conn:
        return rights.find_by_reference(conn, tenant_id=ctx.tenant_id, reference=reference).id


@rights_app.command("verify")
@handles_errors
def verify(
    reference: Annotated[str, typer.Argument(help="Request id or DSR-… reference.")],
    method: Annotated[str, typer.Option("--method", help="How the identity was checked.")],
    user: User = None,
    as_json: Json = False,
) -> None:
    """Start verification, then mark the requester verified (privacy officer)."""
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, PURPOSE)
        request_id = _find(kernel, ctx, reference)
        with kernel.engine.begin() as conn:
            if rights.get_request(conn, tenant_id=ctx.tenant_id, request_id=request_id).status == (
                "received"
            ):
                rights.begin_verification(conn, ctx, request_id=request_id)
            view = rights.mark_verified(conn, ctx, request_id=request_id, method=method)
    _print(view, as_json)


@rights_app.command("extend")
@handles_errors
def extend(
    reference: Annotated[str, typer.Argument(help="Request id or DSR-… reference.")],
    reason: Annotated[str, typer.Option("--reason")],
    days: Annotated[int, typer.Option("--days", min=1, max=60)] = 30,
    user: User = None,
    as_json: Json = False,
) -> None:
    """Extend the deadline with a reason — only inside the original window (privacy officer)."""
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, PURPOSE)
        request_id = _find(kernel, ctx, reference)
        with kernel.engine.begin() as conn:
            view = rights.extend(conn, ctx, request_id=request_id, reason=reason, days=days)
    _print(view, as_json)
