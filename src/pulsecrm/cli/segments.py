"""``pulsecrm segment preview FILE.json`` — count and a masked sample of a filter tree."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from pulsecrm.cli.common import (
    acting_context,
    err_console,
    fail,
    handles_errors,
    kernel_session,
    print_json,
)
from pulsecrm.marketing import segments
from pulsecrm.marketing.access import require_role
from pulsecrm.store.engine import read_connection

segment_app = typer.Typer(help="Marketing segments.", no_args_is_help=True)


def _load(path: Path) -> tuple[dict[str, Any], str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{path}: cannot read ({exc})")
    except json.JSONDecodeError as exc:
        fail(f"{path}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})")
    if isinstance(data, dict) and "definition" in data:
        return data["definition"], data.get("purpose")
    return data, None


@segment_app.command("preview")
@handles_errors
def preview_command(
    file: Annotated[Path, typer.Argument(help='A filter tree, or {"purpose", "definition"}.')],
    purpose: Annotated[
        str | None, typer.Option(help="Marketing purpose (default: from the file, else SMS).")
    ] = None,
    user: Annotated[str | None, typer.Option("--as", help="A marketing manager account.")] = None,
    sample: Annotated[int, typer.Option(min=0, max=segments.SAMPLE_MAX)] = 5,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """How many people the tree matches now, and a few of them with masked identifiers."""
    definition, from_file = _load(file)
    chosen = purpose or from_file or "marketing.sms"
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, chosen)
        require_role(kernel, ctx, write=True, what="segments")
        with read_connection(kernel.engine) as conn, conn.begin():
            result = segments.preview(
                conn, kernel, ctx, definition=definition, purpose=chosen, sample=sample
            )
    if as_json:
        print_json(result)
        return
    err_console.print(f"{result['count']} people match ({chosen})", highlight=False)
    if result["sample"]:
        table = Table("person", "name", "contact", "gender", "city")
        for row in result["sample"]:
            contact = next((row[k] for k in ("phone", "email", "wechat_openid") if k in row), None)
            table.add_row(
                row["person_id"][:8],
                str(row.get("name") or "—"),
                str(contact or "—"),
                str(row.get("gender") or "—"),
                str(row.get("city") or "—"),
            )
        err_console.print(table)
