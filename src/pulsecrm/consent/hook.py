"""The kernel's consent hook, answered from ``consent_state`` in one indexed query.

The vault calls ``permitted`` inside the read's own transaction for every
purpose whose legal basis is consent, so a withdrawal committed at t0 denies
every read and send that starts after t0. Renewal-needed, expiry and the
minors' guardian rule are part of the same query (see ``state._usable``).

Channel: a read names the channel it will use (``AccessContext.channel``).
When it does not, a purpose with exactly one channel implies it, a purpose
with no channels uses ``-``, and a purpose with several channels is denied —
consent for SMS says nothing about e-mail.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from pulsecrm.catalog.loader import Catalog, default_catalog
from pulsecrm.consent import state
from pulsecrm.consent.ledger import NO_CHANNEL


def resolve_channel(catalog: Catalog, purpose: str, channel: str | None) -> str | None:
    spec = catalog.purposes.get(purpose)
    if spec is None:
        return None
    if not spec.channels:
        return NO_CHANNEL if channel in (None, "", NO_CHANNEL) else None
    if channel is None:
        return spec.channels[0] if len(spec.channels) == 1 else None
    return channel if channel in spec.channels else None


class LedgerConsentHook:
    """``ConsentHook`` backed by the consent ledger's current-state table."""

    def __init__(self, catalog: Catalog | None = None) -> None:
        self._catalog = catalog

    @property
    def catalog(self) -> Catalog:
        return self._catalog or default_catalog()

    def permitted(
        self,
        conn: Connection,
        tenant_id: int,
        subject_ids: Sequence[str],
        purpose: str,
        channel: str | None,
    ) -> set[str]:
        resolved = resolve_channel(self.catalog, purpose, channel)
        if resolved is None or not subject_ids:
            return set()
        return state.permitted(conn, tenant_id, subject_ids, purpose, resolved)
