"""Switching personalisation off and on (C4).

A person may refuse profiling for marketing at any time (PIPL 24(2)). The
choice is an append-only ``privacy_preference`` row (kind
``personalization_off`` / ``personalization_on``; the latest wins), so the
history of the choice is kept as evidence (a GPC signal, recorded by the
consent module as ``opt_out_sale_sharing``, counts as "off" too: it opts out of
targeted advertising), and every profile-based segment
drops the person at once because segments are compiled against it on every
use — no cached list to purge.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Connection, insert, select

from pulsecrm.consent.tables import privacy_preference
from pulsecrm.crm.lead_service import require_person
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome, now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing.consent_sql import OFF_KINDS, PERSONALISATION_OFF, PERSONALISATION_ON

SOURCES = ("portal", "staff", "api", "sms")


def set_personalisation(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    person_id: str,
    enabled: bool,
    source: str = "staff",
    route: str = "",
    now: int | None = None,
) -> None:
    require_person(conn=conn, tenant_id=ctx.tenant_id, person_id=person_id)
    kind = PERSONALISATION_ON if enabled else PERSONALISATION_OFF
    at = now if now is not None else now_us()
    conn.execute(
        insert(privacy_preference).values(
            id=uuid.uuid4().hex,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            kind=kind,
            source=source[:16],
            route=route[:200],
            recorded_us=at,
        )
    )
    append_events(
        conn,
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.WRITE,
                Outcome.ALLOWED,
                person_id,
                (),
                {"preference": kind, "source": source},
            )
        ],
        kernel.signer_for(ctx.tenant_id),
    )


def personalisation_enabled(conn: Connection, tenant_id: int, person_id: str) -> bool:
    latest = conn.execute(
        select(privacy_preference.c.kind)
        .where(
            privacy_preference.c.tenant_id == tenant_id,
            privacy_preference.c.person_id == person_id,
            privacy_preference.c.kind.in_((*OFF_KINDS, PERSONALISATION_ON)),
        )
        .order_by(privacy_preference.c.recorded_us.desc())
        .limit(1)
    ).scalar()
    return latest not in OFF_KINDS
