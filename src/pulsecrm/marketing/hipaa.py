"""HIPAA communication classifier (C7).

Under the HIPAA profile (the tenant has published a notice with profile
``hipaa``), every campaign that uses PHI — a segment with health-derived
filters, or the purpose ``marketing.personalized_health`` — is classified:

* ``treatment``, ``care_coordination``, ``refill_reminder``, ``operations``
  (health-care operations) — the declared class, accepted as long as no third
  party pays; these are not marketing under 45 CFR 164.501;
* ``fundraising`` — 164.514(f): the opt-out is honoured through suppression;
* ``marketing`` — the default, and what any PHI communication paid for by a
  third party is (164.501 "marketing" (2); refill reminders excepted).

Marketing needs a valid authorisation from every recipient (164.508(a)(3)).
Decision: the authorisation is the recipient's current consent for the
campaign's purpose and channel that was recorded as a HIPAA authorisation
(the consent module checks its 164.508(c) elements and stores them on the
ledger row as ``terms.hipaa_authorization``); no separate purpose is needed.
If a third party pays, the authorisation must also say so
(``remuneration_disclosed: true`` in the authorisation, 164.508(a)(3)(ii)).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, exists, or_, select

from pulsecrm.consent.tables import consent_event, consent_state, notice_version
from pulsecrm.marketing.consent_sql import HEALTH_PURPOSE, usable

CLASSES = (
    "treatment",
    "care_coordination",
    "refill_reminder",
    "operations",
    "fundraising",
    "marketing",
)
NOT_MARKETING = frozenset({"treatment", "care_coordination", "refill_reminder", "operations"})


def hipaa_profile(conn: Connection, tenant_id: int) -> bool:
    found = conn.execute(
        select(notice_version.c.id)
        .where(notice_version.c.tenant_id == tenant_id, notice_version.c.profile == "hipaa")
        .limit(1)
    ).first()
    return found is not None


def uses_phi(purpose: str, health_filters: bool) -> bool:
    return health_filters or purpose == HEALTH_PURPOSE


def classify(*, uses_phi: bool, declared: str | None, sponsor_paid: bool) -> str | None:
    """The class of a communication, or None when it uses no PHI (HIPAA does not classify it)."""
    if not uses_phi:
        return None
    if sponsor_paid and declared != "refill_reminder":
        return "marketing"
    if declared in NOT_MARKETING or declared == "fundraising":
        return declared
    return "marketing"


def authorised(
    tenant_id: int, person: Any, purpose: str, channel: str, now_us: int, *, remuneration: bool
) -> ColumnElement[bool]:
    """The person's usable consent for (purpose, channel) was recorded as a HIPAA authorisation."""
    terms = consent_event.c.terms
    conditions: list[ColumnElement[bool]] = [terms.like('%"hipaa_authorization"%')]
    if remuneration:
        conditions.append(
            or_(
                terms.like('%"remuneration_disclosed": true%'),
                terms.like('%"remuneration_disclosed":true%'),
            )
        )
    return exists().where(
        consent_state.c.tenant_id == tenant_id,
        consent_state.c.person_id == person,
        consent_state.c.purpose == purpose,
        consent_state.c.channel == channel,
        usable(now_us),
        consent_event.c.id == consent_state.c.last_event_id,
        and_(*conditions),
    )
