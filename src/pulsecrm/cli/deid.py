"""`pulsecrm deid …` — de-identification commands (filled in by the deid work)."""

import typer

app = typer.Typer(help="De-identify tables and scrub free text.", no_args_is_help=True)
