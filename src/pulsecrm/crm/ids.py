"""Identifiers and clocks shared by the CRM services."""

from __future__ import annotations

import uuid

from pulsecrm.kernel.audit_records import now_us

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


def new_id() -> str:
    return uuid.uuid4().hex


__all__ = ["DAY_US", "HOUR_US", "new_id", "now_us"]
