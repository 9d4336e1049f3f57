"""``pulsecrm notices publish FILE`` — validate and publish a privacy notice version."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
import yaml

from pulsecrm.cli.common import (
    acting_context,
    err_console,
    handles_errors,
    kernel_session,
    print_json,
)
from pulsecrm.consent.notices import parse_notice, publish_notice

notices_app = typer.Typer(help="Privacy notices (versioned, per locale).", no_args_is_help=True)


@notices_app.command("publish")
@handles_errors
def publish_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    user: Annotated[
        str | None, typer.Option(help="Act as this account (a privacy officer).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Publish a notice (YAML or JSON, one locale); prints its version hash."""
    text = file.read_text(encoding="utf-8")
    raw = json.loads(text) if file.suffix.lower() == ".json" else yaml.safe_load(text)
    doc = parse_notice(raw)
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, "compliance.audit")
        with kernel.engine.begin() as conn:
            published = publish_notice(conn, kernel, ctx, doc)
    if as_json:
        print_json(
            {
                "version_hash": published.version_hash,
                "locale": published.locale,
                "label": published.label,
                "renewal_purposes": list(published.renewal_purposes),
            }
        )
        return
    if published.renewal_purposes:
        err_console.print(
            "consents needing renewal for: " + ", ".join(published.renewal_purposes),
            highlight=False,
        )
    print(published.version_hash)
