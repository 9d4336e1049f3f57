"""`pulsecrm deid …` — de-identification commands.

The commands live in their own modules (tabular runs, free-text scrubbing) and
register themselves here so each can grow without touching the other.
"""

import typer

from pulsecrm.cli import deid_run, deid_scrub

app = typer.Typer(help="De-identify tables and scrub free text.", no_args_is_help=True)
deid_run.register(app)
deid_scrub.register(app)
