"""Tags (C4): staff-given and derived; a person lists and deletes their own tags.

A tag derived from health data (a consultation's items, a questionnaire)
exists only while the person's separate consent to
``marketing.personalized_health`` is current: deriving it without that
consent is refused. Deleting a tag blocks re-deriving it for
``REDERIVE_BLOCK_DAYS`` days.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select

from pulsecrm.crm.clinic_tables import person_tag, tag, tag_block
from pulsecrm.crm.errors import ConsentMissing, CrmError, not_found
from pulsecrm.crm.ids import DAY_US, new_id, now_us
from pulsecrm.crm.lead_service import require_person
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel

HEALTH_PURPOSE = "marketing.personalized_health"
REDERIVE_BLOCK_DAYS = 180


class TagBlocked(CrmError):
    code = "tag_deleted_by_person"
    http_status = 409


def ensure_tag(
    *, conn: Connection, tenant_id: int, name: str, derived: bool = False, from_health: bool = False
) -> str:
    name = name.strip()
    if not name or len(name) > 64:
        raise InvalidValue("name", "1 to 64 characters", "1到64个字符")
    found = conn.execute(
        select(tag.c.id).where(tag.c.tenant_id == tenant_id, tag.c.name == name)
    ).scalar()
    if found is not None:
        return str(found)
    tag_id = new_id()
    conn.execute(
        insert(tag).values(
            id=tag_id, tenant_id=tenant_id, name=name, derived=derived, from_health=from_health
        )
    )
    return tag_id


def health_consent(*, conn: Connection, kernel: Kernel, tenant_id: int, person_id: str) -> bool:
    """Whether the separate consent for health-based personalisation is current (any channel)."""
    spec = kernel.catalog.purpose(HEALTH_PURPOSE)
    return any(
        person_id in kernel.consent.permitted(conn, tenant_id, [person_id], HEALTH_PURPOSE, channel)
        for channel in spec.channels
    )


def tag_person(
    *,
    conn: Connection,
    kernel: Kernel,
    tenant_id: int,
    person_id: str,
    name: str,
    from_health: bool = False,
    derived: bool = False,
    now: int | None = None,
) -> str:
    now = now or now_us()
    require_person(conn=conn, tenant_id=tenant_id, person_id=person_id)
    tag_id = ensure_tag(
        conn=conn, tenant_id=tenant_id, name=name, derived=derived, from_health=from_health
    )
    from_health = from_health or bool(
        conn.execute(select(tag.c.from_health).where(tag.c.id == tag_id)).scalar()
    )
    if from_health and not health_consent(
        conn=conn, kernel=kernel, tenant_id=tenant_id, person_id=person_id
    ):
        raise ConsentMissing(
            "tag",
            f"a tag derived from health data needs the separate consent {HEALTH_PURPOSE}",
            f"基于健康信息的标签需要单独同意（{HEALTH_PURPOSE}）",
        )
    if derived:
        until = conn.execute(
            select(tag_block.c.until_us).where(
                tag_block.c.tenant_id == tenant_id,
                tag_block.c.person_id == person_id,
                tag_block.c.tag_id == tag_id,
            )
        ).scalar()
        if until is not None and until > now:
            raise TagBlocked(
                "tag",
                "the person deleted this tag; it is not derived again yet",
                "本人已删除该标签，暂不重新生成",
            )
    exists = conn.execute(
        select(person_tag.c.tag_id).where(
            person_tag.c.tenant_id == tenant_id,
            person_tag.c.person_id == person_id,
            person_tag.c.tag_id == tag_id,
        )
    ).first()
    if exists is None:
        conn.execute(
            insert(person_tag).values(
                tenant_id=tenant_id,
                person_id=person_id,
                tag_id=tag_id,
                derived_from_health=from_health,
                created_us=now,
            )
        )
    return tag_id


def list_tags(*, conn: Connection, tenant_id: int, person_id: str) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(
            tag.c.id,
            tag.c.name,
            tag.c.derived,
            person_tag.c.derived_from_health,
            person_tag.c.created_us,
        )
        .join(tag, tag.c.id == person_tag.c.tag_id)
        .where(person_tag.c.tenant_id == tenant_id, person_tag.c.person_id == person_id)
        .order_by(tag.c.name)
    )
    return [dict(r._mapping) for r in rows]


def delete_tag(
    *, conn: Connection, tenant_id: int, person_id: str, tag_id: str, now: int | None = None
) -> None:
    """The person removes a tag; it is not derived again for ``REDERIVE_BLOCK_DAYS`` days."""
    now = now or now_us()
    gone = conn.execute(
        delete(person_tag).where(
            person_tag.c.tenant_id == tenant_id,
            person_tag.c.person_id == person_id,
            person_tag.c.tag_id == tag_id,
        )
    ).rowcount
    if not gone:
        raise not_found("tag_id", tag_id)
    conn.execute(
        delete(tag_block).where(
            tag_block.c.tenant_id == tenant_id,
            tag_block.c.person_id == person_id,
            tag_block.c.tag_id == tag_id,
        )
    )
    conn.execute(
        insert(tag_block).values(
            tenant_id=tenant_id,
            person_id=person_id,
            tag_id=tag_id,
            until_us=now + REDERIVE_BLOCK_DAYS * DAY_US,
        )
    )


def drop_health_tags(*, conn: Connection, tenant_id: int, person_id: str) -> int:
    """When the separate consent ends, health-derived tags go with it."""
    return int(
        conn.execute(
            delete(person_tag).where(
                person_tag.c.tenant_id == tenant_id,
                person_tag.c.person_id == person_id,
                person_tag.c.derived_from_health,
            )
        ).rowcount
    )
