"""The kernel's question to the consent module: who may be processed for this purpose now?

The kernel asks it for every read whose purpose rests on consent, so a
withdrawal recorded by the consent module stops the next read at once. Until
a consent module is installed the answer is "nobody" — the safe default.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy import Connection


class ConsentHook(Protocol):
    def permitted(
        self,
        conn: Connection,
        tenant_id: int,
        subject_ids: Sequence[str],
        purpose: str,
        channel: str | None,
    ) -> set[str]:
        """The subset of ``subject_ids`` with current consent for ``purpose`` (and channel)."""
        ...


class NoConsentRecorded:
    """Default hook: no consent has been recorded, so consent-based purposes are denied."""

    def permitted(
        self,
        conn: Connection,
        tenant_id: int,
        subject_ids: Sequence[str],
        purpose: str,
        channel: str | None,
    ) -> set[str]:
        return set()
