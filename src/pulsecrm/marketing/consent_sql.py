"""Consent and preference facts as SQL predicates, for set-based segments and audiences.

The same rule as ``consent.state.contactable`` (granted, not waiting for
renewal, not a minor without a guardian, not expired), but as a correlated
predicate so a million-person audience is one query rather than a list of ids
passed back and forth.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, not_, or_, select
from sqlalchemy.sql.elements import ColumnClause

from pulsecrm.consent.state import GRANTED
from pulsecrm.consent.tables import consent_state, privacy_preference

HEALTH_PURPOSE = "marketing.personalized_health"
PERSONALISATION_OFF = "personalization_off"
PERSONALISATION_ON = "personalization_on"
# A Global Privacy Control signal (consent.service.record_gpc) opts out of targeted
# advertising too (C10): profile-based segments treat it like "personalisation off".
GPC_OPT_OUT = "opt_out_sale_sharing"
OFF_KINDS = (PERSONALISATION_OFF, GPC_OPT_OUT)


def usable(now_us: int, state: Any = consent_state) -> ColumnElement[bool]:
    return and_(
        state.c.status == GRANTED,
        state.c.needs_renewal.is_(False),
        state.c.minor_blocked.is_(False),
        or_(state.c.expires_us.is_(None), state.c.expires_us > now_us),
    )


def consented(
    tenant_id: int,
    person: ColumnElement[Any] | ColumnClause[Any],
    purpose: str,
    now_us: int,
    channels: tuple[str, ...] | None = None,
) -> ColumnElement[bool]:
    """The person holds a usable consent for ``purpose`` (on one of ``channels``, or any)."""
    where = [
        consent_state.c.tenant_id == tenant_id,
        consent_state.c.purpose == purpose,
        consent_state.c.person_id == person,
        usable(now_us),
    ]
    if channels is not None:
        where.append(consent_state.c.channel.in_(channels))
    return exists().where(*where)


def personalisation_off(
    tenant_id: int, person: ColumnElement[Any] | ColumnClause[Any]
) -> ColumnElement[bool]:
    """The person's latest personalisation preference is "off" (C4), or a GPC opt-out (C10).

    Preferences are append-only rows of ``privacy_preference``; an "on" row
    recorded after the last "off" (or GPC) row switches personalisation back on. The
    set is computed once per query (an uncorrelated ``IN``), not per person.
    """
    later = privacy_preference.alias("pp_later")
    off = privacy_preference.alias("pp_off")
    switched_off = select(off.c.person_id).where(
        off.c.tenant_id == tenant_id,
        off.c.kind.in_(OFF_KINDS),
        not_(
            exists().where(
                later.c.tenant_id == tenant_id,
                later.c.person_id == off.c.person_id,
                later.c.kind == PERSONALISATION_ON,
                later.c.recorded_us > off.c.recorded_us,
            )
        ),
    )
    return person.in_(switched_off)
