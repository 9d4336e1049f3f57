"""Fixtures: the local provider servers (see servers.py)."""

from tests.channels.servers import providers, smtp_server

__all__ = ["providers", "smtp_server"]
