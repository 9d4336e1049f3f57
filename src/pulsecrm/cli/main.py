"""The ``pulsecrm`` command: a thin adapter that wires sub-commands together."""

import typer

from pulsecrm.cli import deid

app = typer.Typer(
    help="PulseCRM — privacy-first CRM for medical marketing.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(deid.app, name="deid")


@app.callback()
def _root() -> None:
    """PulseCRM command line."""
