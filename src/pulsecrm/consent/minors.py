"""Minors (B8): under 14 is sensitive PI; marketing and sensitive purposes need a guardian.

Only the birth *year* is consulted (``person_profile.birth_year``, plain): the
encrypted birth date is never decrypted for this. With a year alone the check
is conservative — anyone who *may* still be 13 counts as a minor: born in
year Y, the person is ``today.year - Y`` or one less, so ``today.year - Y <= 14``
is treated as under 14. The value never leaves this module; only the boolean
is stored (``consent_state.subject_minor``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import Connection, select

from pulsecrm.catalog.loader import Catalog
from pulsecrm.crm.tables import person, person_profile

AGE_OF_CONSENT = 14  # PIPL 28, 31


def is_minor(birth_year: int | None, today: date | None = None) -> bool:
    if birth_year is None:
        return False
    today = today or date.today()
    return today.year - birth_year <= AGE_OF_CONSENT


def needs_guardian(catalog: Catalog, purpose_id: str) -> bool:
    """Marketing and sensitive (separate-consent) purposes need a guardian for a minor."""
    spec = catalog.purposes[purpose_id]
    return purpose_id.startswith("marketing.") or spec.separate_consent


def subjects(
    conn: Connection, tenant_id: int, person_ids: Sequence[str], today: date | None = None
) -> dict[str, bool]:
    """``person_id → is_minor`` for the people that exist in the tenant (others are absent)."""
    found: dict[str, bool] = {}
    ids = list(dict.fromkeys(person_ids))
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        # Look people up by primary key only: with "tenant_id = ?" in the WHERE
        # clause SQLite may prefer the tenant index and scan the whole tenant.
        rows = conn.execute(
            select(person.c.id, person.c.tenant_id, person_profile.c.birth_year)
            .select_from(
                person.outerjoin(person_profile, person_profile.c.person_id == person.c.id)
            )
            .where(person.c.id.in_(chunk))
        )
        for person_id, owner, birth_year in rows:
            if owner == tenant_id:
                found[person_id] = is_minor(birth_year, today)
    return found
