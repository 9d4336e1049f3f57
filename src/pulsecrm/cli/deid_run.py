"""Placeholder: the de-identification work fills this module in."""

import typer


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``deid`` sub-app."""
