"""``pulsecrm tokens create|revoke`` — staff API tokens (the secret is printed once)."""

from __future__ import annotations

from typing import Annotated

import typer

from pulsecrm.access.tokens import create_token, revoke_token
from pulsecrm.cli.common import err_console, fail, handles_errors, kernel_session, print_json

tokens_app = typer.Typer(help="Staff API tokens.", no_args_is_help=True)


@tokens_app.command("create")
@handles_errors
def create_command(
    user: Annotated[str, typer.Argument(help="The account the token acts as.")],
    expires_days: Annotated[int, typer.Option(min=1, max=366)] = 30,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Create a token for USER; store the printed secret now, it is not shown again."""
    with kernel_session() as kernel, kernel.engine.begin() as conn:
        issued = create_token(conn, username=user, expires_days=expires_days)
    if as_json:
        print_json({"id": issued.id, "token": issued.secret, "expires_us": issued.expires_us})
        return
    err_console.print(f"token {issued.id} for {user}, expires in {expires_days} days")
    print(issued.secret)


@tokens_app.command("revoke")
@handles_errors
def revoke_command(token_id: Annotated[str, typer.Argument()]) -> None:
    """Revoke a token by its id (effective for the next request)."""
    with kernel_session() as kernel, kernel.engine.begin() as conn:
        done = revoke_token(conn, token_id=token_id)
    if not done:
        fail(f"no active token {token_id!r}")
    err_console.print(f"revoked {token_id}")
