"""Subjects the database says were shredded (the database half of shred replay)."""

from __future__ import annotations

from sqlalchemy import select

from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import shredded_subject
from pulsecrm.store.engine import read_connection


def shredded_in_database(kernel: Kernel) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    with read_connection(kernel.engine) as conn:
        for tenant_id, subject_id in conn.execute(
            select(shredded_subject.c.tenant_id, shredded_subject.c.subject_id)
        ):
            found.setdefault(int(tenant_id), []).append(str(subject_id))
    return found
