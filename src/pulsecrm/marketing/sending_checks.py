"""The send-time checks, each one query for a whole batch (C1, B5, B9).

Every message is checked when it is sent, not when it was queued: a
withdrawal, a suppression or a shredding committed after the audience was
built stops the message. Batching only changes the number of round trips,
never which messages are checked.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, select

from pulsecrm.consent.hook import resolve_channel
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import shredded_subject
from pulsecrm.marketing.suppression import ALL_CHANNELS
from pulsecrm.marketing.tables import campaign_audience, suppression

# The address each channel needs, by catalog field.
ADDRESS_FIELD = {"sms": "phone", "email": "email", "wechat": "wechat_openid"}
# Service messages (contract basis) honour only these suppressions: an address
# that bounces or complains is dead for reminders too; a marketing opt-out is not
# an objection to appointment reminders.
SERVICE_SUPPRESSIONS = ("hard_bounce", "complaint")


def consent_channel(kernel: Kernel, purpose: str, channel: str) -> str | None:
    """The consent channel of a message: its own, or for the demo ``outbox`` the purpose's one."""
    return resolve_channel(kernel.catalog, purpose, None if channel == "outbox" else channel)


def address_field(kernel: Kernel, purpose: str, channel: str) -> str | None:
    resolved = consent_channel(kernel, purpose, channel)
    return ADDRESS_FIELD.get(resolved or "")


def _chunks(ids: Sequence[str], size: int = 900) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


def consented(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    person_ids: Sequence[str],
    purpose: str,
    channel: str,
) -> set[str]:
    """Who may be messaged for ``purpose`` on ``channel`` now (the kernel's consent hook)."""
    if not kernel.catalog.purpose(purpose).needs_consent:
        return set(person_ids)
    return kernel.consent.permitted(
        conn, tenant_id, person_ids, purpose, consent_channel(kernel, purpose, channel)
    )


def suppressed(
    conn: Connection,
    *,
    tenant_id: int,
    person_ids: Sequence[str],
    channel: str,
    reasons: Sequence[str] | None = None,
    also: str | None = None,
) -> set[str]:
    """People suppressed on ``channel`` (or ``also``, the channel the outbox stands in for)
    or on every channel (``*``)."""
    channels = sorted({channel, also or channel, ALL_CHANNELS})
    found: set[str] = set()
    for chunk in _chunks(person_ids):
        query = select(suppression.c.person_id).where(
            suppression.c.tenant_id == tenant_id,
            suppression.c.person_id.in_(chunk),
            suppression.c.channel.in_(channels),
        )
        if reasons is not None:
            query = query.where(suppression.c.reason.in_(list(reasons)))
        found.update(conn.execute(query).scalars())
    return found


def shredded(conn: Connection, *, tenant_id: int, person_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(person_ids):
        found.update(
            conn.execute(
                select(shredded_subject.c.subject_id).where(
                    shredded_subject.c.tenant_id == tenant_id,
                    shredded_subject.c.subject_id.in_(chunk),
                )
            ).scalars()
        )
    return found


def locales(
    conn: Connection, *, tenant_id: int, campaign_id: str, person_ids: Sequence[str]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for chunk in _chunks(person_ids):
        rows = conn.execute(
            select(campaign_audience.c.person_id, campaign_audience.c.locale).where(
                campaign_audience.c.tenant_id == tenant_id,
                campaign_audience.c.campaign_id == campaign_id,
                campaign_audience.c.person_id.in_(chunk),
            )
        )
        found.update({str(p): str(loc) for p, loc in rows})
    return found
