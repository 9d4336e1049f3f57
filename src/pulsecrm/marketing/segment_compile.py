"""Compile a checked filter tree to ONE set-based query over the pseudonymous profile.

``person_profile`` of the tenant is the universe (a shredded person has no
profile row, so never matches); each leaf is a predicate correlated to its
``person_id`` and the tree becomes ``AND``/``OR``/``NOT`` of them, so the
database plans semi-joins over its indexes — no ids travel through Python.

Two rules are added here, not in the filters, so no filter module can forget
them:

* a tree using a health-derived filter matches only people with a usable
  separate consent to ``marketing.personalized_health`` (C4);
* a profile-based tree (any profiling leaf) drops people whose latest
  preference is "personalisation off" (C4). The empty tree ``{"all": []}``
  does not profile anybody and keeps them: it is the non-personalised option.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, not_, or_, select, true

from pulsecrm.crm.tables import person_profile
from pulsecrm.marketing.consent_sql import HEALTH_PURPOSE, consented, personalisation_off
from pulsecrm.marketing.filters import CompileContext
from pulsecrm.marketing.segment_tree import Group, Leaf, Node, is_profiling, uses_health

PERSON = person_profile.c.person_id


def compile_node(node: Node, ctx: CompileContext) -> ColumnElement[bool]:
    if isinstance(node, Leaf):
        return node.kind.compile(node.params, ctx)
    if isinstance(node, Group):
        parts = [compile_node(child, ctx) for child in node.children]
        if not parts:
            return true()
        return and_(*parts) if node.op == "all" else or_(*parts)
    return not_(compile_node(node.child, ctx))


@dataclass(frozen=True)
class CompiledSegment:
    """The segment as predicates on ``person_profile``: what it matches, and the C4 drop."""

    tenant_id: int
    match: ColumnElement[bool]
    # people who switched personalisation off (None when the tree does not profile)
    personalisation_off: ColumnElement[bool] | None

    @property
    def person(self) -> Any:
        return PERSON

    def raw_query(self) -> Select[Any]:
        """Segment members before the personalisation drop (the audience reports it as a reason)."""
        return select(PERSON).where(person_profile.c.tenant_id == self.tenant_id, self.match)

    def query(self) -> Select[Any]:
        query = self.raw_query()
        if self.personalisation_off is not None:
            query = query.where(not_(self.personalisation_off))
        return query


def compile_segment(tree: Node, *, tenant_id: int, purpose: str, now_us: int) -> CompiledSegment:
    ctx = CompileContext(tenant_id=tenant_id, now_us=now_us, purpose=purpose, person=PERSON)
    match = compile_node(tree, ctx)
    if uses_health(tree):
        match = and_(match, consented(tenant_id, PERSON, HEALTH_PURPOSE, now_us))
    off = personalisation_off(tenant_id, PERSON) if is_profiling(tree) else None
    return CompiledSegment(tenant_id, match, off)
