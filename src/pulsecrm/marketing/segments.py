"""Segments: save a filter tree for a marketing purpose, list them, preview who they match.

Saving checks everything a send would rely on, so a bad segment never
exists: the purpose is a consent-based marketing purpose of the catalog
(B5: a segment can never select people for ``service.*`` purposes), the tree
parses (path + rule on error), health-derived filters appear only under
``marketing.personalized_health``, and a plain ``tag`` filter does not name a
tag derived from health data (that needs ``health_tag`` and its rules).

Preview is a count plus a few members whose identifiers come through the
kernel vault *masked* (the read is audited); it is drawn from members who hold
a usable consent for the purpose on its first channel, since the vault shows
nobody else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select

from pulsecrm.catalog.loader import Catalog
from pulsecrm.crm.clinic_tables import tag
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.kernel.audit_records import Action
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing.access import audit, require_role
from pulsecrm.marketing.consent_sql import HEALTH_PURPOSE, consented
from pulsecrm.marketing.errors import SegmentInvalid, not_found
from pulsecrm.marketing.segment_compile import CompiledSegment, compile_segment
from pulsecrm.marketing.segment_tree import Node, leaves, parse
from pulsecrm.marketing.tables import segment

CONTACT_FIELD = {"sms": "phone", "email": "email", "wechat": "wechat_openid"}
SAMPLE_MAX = 20


@dataclass(frozen=True)
class Segment:
    id: str
    tenant_id: int
    name: str
    definition: dict[str, Any]
    purpose: str
    created_by: str
    created_us: int

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "definition": self.definition,
            "purpose": self.purpose,
            "created_by": self.created_by,
            "created_us": self.created_us,
        }


def check_purpose(catalog: Catalog, purpose: str, field: str = "purpose") -> None:
    spec = catalog.purposes.get(purpose)
    if spec is None or not purpose.startswith("marketing.") or not spec.needs_consent:
        known = ", ".join(sorted(p for p in catalog.purposes if p.startswith("marketing.")))
        raise SegmentInvalid(
            field,
            f"{purpose!r} is not a consent-based marketing purpose ({known})",
            f"{purpose!r} 不是基于同意的营销目的（{known}）",
            rule="marketing_purpose_required",
        )


def check_tree(conn: Connection, tenant_id: int, tree: Node, purpose: str) -> None:
    for leaf in leaves(tree):
        if leaf.kind.health and purpose != HEALTH_PURPOSE:
            raise SegmentInvalid(
                f"{leaf.path}.filter",
                f"{leaf.kind.name} uses health-derived data: only for purpose {HEALTH_PURPOSE}",
                f"{leaf.kind.name} 基于健康信息：仅限目的 {HEALTH_PURPOSE}",
                rule="health_filter_needs_purpose",
            )
        if leaf.kind.name == "tag":
            names = list(getattr(leaf.params, "names", []))
            health = (
                conn.execute(
                    select(tag.c.name).where(
                        tag.c.tenant_id == tenant_id,
                        tag.c.name.in_(names),
                        tag.c.from_health.is_(True),
                    )
                )
                .scalars()
                .all()
            )
            if health:
                raise SegmentInvalid(
                    f"{leaf.path}.any_of",
                    f"tag {sorted(health)[0]!r} is derived from health data: use health_tag "
                    f"with purpose {HEALTH_PURPOSE}",
                    f"标签 {sorted(health)[0]!r} 基于健康信息：请用 health_tag 并选择目的 "
                    f"{HEALTH_PURPOSE}",
                    rule="health_tag_in_plain_filter",
                )


def checked(
    conn: Connection, catalog: Catalog, tenant_id: int, definition: object, purpose: str
) -> Node:
    check_purpose(catalog, purpose)
    tree = parse(definition)
    check_tree(conn, tenant_id, tree, purpose)
    return tree


def create_segment(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    name: str,
    definition: object,
    purpose: str,
) -> Segment:
    require_role(kernel, ctx, write=True, what="segments", record=False)
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise SegmentInvalid("name", "1 to 100 characters", "1到100个字符", rule="length")
    checked(conn, kernel.catalog, ctx.tenant_id, definition, purpose)
    tree = definition if isinstance(definition, dict) else {}
    row = Segment(new_id(), ctx.tenant_id, name, tree, purpose, ctx.actor, now_us())
    conn.execute(
        insert(segment).values(
            id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            definition=json.dumps(row.definition, ensure_ascii=False, sort_keys=True),
            purpose=row.purpose,
            created_by=row.created_by,
            created_us=row.created_us,
        )
    )
    audit(conn, kernel, ctx, Action.CREATE, {"segment": row.id}, purpose=purpose)
    return row


def _row(r: Any) -> Segment:
    return Segment(
        r.id, r.tenant_id, r.name, json.loads(r.definition), r.purpose, r.created_by, r.created_us
    )


def get_segment(conn: Connection, tenant_id: int, segment_id: str) -> Segment:
    found = conn.execute(
        select(segment).where(segment.c.tenant_id == tenant_id, segment.c.id == segment_id)
    ).first()
    if found is None:
        raise not_found("segment_id", segment_id)
    return _row(found)


def list_segments(
    conn: Connection, tenant_id: int, *, limit: int = 50, offset: int = 0
) -> tuple[list[Segment], int]:
    rows = conn.execute(
        select(segment)
        .where(segment.c.tenant_id == tenant_id)
        .order_by(segment.c.created_us.desc(), segment.c.id)
        .limit(limit)
        .offset(offset)
    ).all()
    total = conn.execute(
        select(func.count()).select_from(segment).where(segment.c.tenant_id == tenant_id)
    ).scalar_one()
    return [_row(r) for r in rows], int(total)


def compiled(
    conn: Connection,
    catalog: Catalog,
    tenant_id: int,
    definition: object,
    purpose: str,
    now: int | None = None,
) -> CompiledSegment:
    tree = checked(conn, catalog, tenant_id, definition, purpose)
    return compile_segment(
        tree, tenant_id=tenant_id, purpose=purpose, now_us=now if now is not None else now_us()
    )


def count(conn: Connection, compiled_segment: CompiledSegment) -> int:
    query = compiled_segment.query().subquery()
    return int(conn.execute(select(func.count()).select_from(query)).scalar_one())


def preview(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    definition: object,
    purpose: str,
    sample: int = 5,
    now: int | None = None,
) -> dict[str, Any]:
    """Count and a masked sample; the caller's read connection, the vault reads on its own."""
    require_role(kernel, ctx, write=False, what="segments", record=False)
    at = now if now is not None else now_us()
    seg = compiled(conn, kernel.catalog, ctx.tenant_id, definition, purpose, at)
    total = count(conn, seg)
    spec = kernel.catalog.purpose(purpose)
    channel = spec.channels[0] if spec.channels else None
    members: list[dict[str, Any]] = []
    if channel and sample > 0:
        ids = list(
            conn.execute(
                seg.query()
                .where(consented(ctx.tenant_id, seg.person, purpose, at, (channel,)))
                .order_by(seg.person)
                .limit(min(sample, SAMPLE_MAX))
            ).scalars()
        )
        if ids:
            read_ctx = AccessContext(
                ctx.actor, ctx.role, ctx.tenant_id, purpose, channel, ctx.locale
            )
            fields = ["name", CONTACT_FIELD.get(channel, "phone"), "gender", "city"]
            for view in kernel.vault.read(read_ctx, ids, fields, reveal=False):
                members.append({"person_id": view.subject_id, **view.values})
    return {"purpose": purpose, "count": total, "sample": members, "sample_channel": channel}
