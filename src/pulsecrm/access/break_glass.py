"""Break-glass emergency access (H4): time-boxed, reason required, alerted, reviewed.

A staff member who must act outside their grants — a front-desk clerk who
needs an aftercare phone number, a consultant who must open a patient of
another team in an emergency — asks for a grant naming a reason and either a
``service.*`` purpose their role lacks or one person. The grant:

* lasts at most ``break_glass_max_minutes`` (default 30) and expires by itself
  (every check compares the clock with ``expires_us``; nothing needs to run);
* raises a high-severity :data:`alert` row and opens an :data:`access_review`
  task for the privacy officer, due in ``break_glass_review_days``;
* is used through the catalog role ``break_glass`` (reveal of the service
  purposes only) with the actor ``<username>#bg-<grant id>``, so every audit
  entry written under it — reads, reveals, denials — names the grant.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, select, update

from pulsecrm.access import audit
from pulsecrm.access.config import AuthConfig
from pulsecrm.access.roles import BREAK_GLASS_ROLE
from pulsecrm.access.tables import access_review, alert, break_glass
from pulsecrm.kernel.audit_records import Outcome, now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import user_account

MINUTE_US = 60_000_000
DAY_US = 86_400_000_000
MIN_REASON = 10
REVIEWER_ROLE = "privacy_officer"


@dataclass(frozen=True)
class Grant:
    id: str
    account_id: int
    purpose: str | None
    person_id: str | None
    created_us: int
    expires_us: int

    def covers(self, *, purpose: str, person_id: str | None) -> bool:
        if self.person_id is not None:
            return person_id == self.person_id and purpose.startswith("service.")
        return purpose == self.purpose

    def context(
        self, username: str, tenant_id: int, locale: str = "zh-CN", purpose: str | None = None
    ) -> AccessContext:
        """The kernel context for an access under this grant (role ``break_glass``).

        ``purpose`` picks one the grant covers (a grant for a person covers every
        service purpose); by default the grant's own, else ``service.appointment``.
        """
        chosen = self.purpose or "service.appointment"
        if purpose is not None and self.person_id is not None and purpose.startswith("service."):
            chosen = purpose
        return AccessContext(
            f"{username}#bg-{self.id}", BREAK_GLASS_ROLE, tenant_id, chosen, None, locale
        )


def service_purposes(kernel: Kernel) -> list[str]:
    return sorted(p for p in kernel.catalog.purposes if p.startswith("service."))


def request(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    account_id: int,
    username: str,
    role: str,
    reason: str,
    purpose: str | None = None,
    person_id: str | None = None,
    minutes: int = 30,
    config: AuthConfig,
) -> Grant:
    """Open a grant (in the caller's transaction, with its alert, review task and audit entry)."""
    reason = reason.strip()
    if len(reason) < MIN_REASON:
        raise InvalidValue(
            "reason", f"at least {MIN_REASON} characters", f"请填写原因（至少{MIN_REASON}个字）"
        )
    if len(reason) > 1000:
        raise InvalidValue("reason", "at most 1000 characters", "不超过1000个字符")
    if not 1 <= minutes <= config.break_glass_max_minutes:
        raise InvalidValue(
            "minutes",
            f"between 1 and {config.break_glass_max_minutes}",
            f"应在1到{config.break_glass_max_minutes}分钟之间",
        )
    if (purpose is None) == (person_id is None):
        raise InvalidValue("purpose", "name a purpose or a person", "请选择目的或指定人员")
    if purpose is not None and purpose not in service_purposes(kernel):
        raise InvalidValue(
            "purpose",
            f"one of {', '.join(service_purposes(kernel))}",
            f"应为 {'、'.join(service_purposes(kernel))}",
        )
    if person_id is not None and (len(person_id) != 32 or not person_id.isalnum()):
        raise InvalidValue("person_id", "a person id", "应为人员编号")
    grant_id = uuid.uuid4().hex
    now = now_us()
    expires = now + minutes * MINUTE_US
    conn.execute(
        break_glass.insert().values(
            id=grant_id,
            tenant_id=tenant_id,
            account_id=account_id,
            reason=reason,
            purpose=purpose,
            person_id=person_id,
            created_us=now,
            expires_us=expires,
            ended_us=None,
        )
    )
    conn.execute(
        alert.insert().values(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            severity="high",
            kind="break_glass",
            ref_id=grant_id,
            account_id=account_id,
            created_us=now,
            acknowledged_us=None,
        )
    )
    conn.execute(
        access_review.insert().values(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            kind="break_glass",
            ref_id=grant_id,
            assignee_role=REVIEWER_ROLE,
            created_us=now,
            due_us=now + config.break_glass_review_days * DAY_US,
            done_us=None,
            done_by=None,
            outcome=None,
        )
    )
    detail: dict[str, Any] = {"grant": grant_id, "minutes": minutes}
    if purpose:
        detail["for_purpose"] = purpose
    audit.record(
        conn,
        kernel,
        tenant_id,
        [
            audit.event(
                username, role, audit.BREAK_GLASS, Outcome.ALLOWED, detail, subject=person_id
            )
        ],
    )
    return Grant(grant_id, account_id, purpose, person_id, now, expires)


def active(
    conn: Connection, *, tenant_id: int, account_id: int, now: int | None = None
) -> list[Grant]:
    now = now_us() if now is None else now
    rows = conn.execute(
        select(break_glass)
        .where(
            break_glass.c.tenant_id == tenant_id,
            break_glass.c.account_id == account_id,
            break_glass.c.expires_us > now,
            break_glass.c.ended_us.is_(None),
        )
        .order_by(break_glass.c.created_us)
    )
    return [
        Grant(r.id, r.account_id, r.purpose, r.person_id, r.created_us, r.expires_us) for r in rows
    ]


def grant_for(
    conn: Connection,
    *,
    tenant_id: int,
    account_id: int,
    purpose: str,
    person_id: str | None,
    now: int | None = None,
) -> Grant | None:
    """The active grant covering ``purpose`` (and ``person_id``), if any."""
    for grant in active(conn, tenant_id=tenant_id, account_id=account_id, now=now):
        if grant.covers(purpose=purpose, person_id=person_id):
            return grant
    return None


def end(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    account_id: int,
    username: str,
    role: str,
    grant_id: str,
) -> bool:
    """End a grant early (the user is done)."""
    result = conn.execute(
        update(break_glass)
        .where(
            break_glass.c.tenant_id == tenant_id,
            break_glass.c.id == grant_id,
            break_glass.c.account_id == account_id,
            break_glass.c.ended_us.is_(None),
        )
        .values(ended_us=now_us())
    )
    if result.rowcount:
        audit.record(
            conn,
            kernel,
            tenant_id,
            [
                audit.event(
                    username,
                    role,
                    audit.BREAK_GLASS,
                    Outcome.ALLOWED,
                    {"grant": grant_id, "ended": True},
                )
            ],
        )
    return bool(result.rowcount)


def open_reviews(conn: Connection, *, tenant_id: int) -> list[dict[str, Any]]:
    """Break-glass grants waiting for the privacy officer's review, oldest first."""
    rows = conn.execute(
        select(
            access_review.c.id,
            access_review.c.due_us,
            break_glass.c.id.label("grant_id"),
            break_glass.c.reason,
            break_glass.c.purpose,
            break_glass.c.person_id,
            break_glass.c.created_us,
            break_glass.c.expires_us,
            user_account.c.username,
        )
        .join(
            break_glass,
            and_(break_glass.c.id == access_review.c.ref_id, break_glass.c.tenant_id == tenant_id),
        )
        .join(user_account, user_account.c.id == break_glass.c.account_id)
        .where(access_review.c.tenant_id == tenant_id, access_review.c.done_us.is_(None))
        .order_by(access_review.c.due_us)
    )
    return [dict(r._mapping) for r in rows]


def open_alerts(conn: Connection, *, tenant_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        select(alert)
        .where(alert.c.tenant_id == tenant_id, alert.c.acknowledged_us.is_(None))
        .order_by(alert.c.created_us.desc())
    )
    return [dict(r._mapping) for r in rows]


def complete_review(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    review_id: str,
    reviewer_id: int,
    reviewer: str,
    reviewer_role: str,
    outcome: str,
) -> bool:
    """Record the privacy officer's verdict (``justified`` or ``misuse``) and close the alert."""
    if reviewer_role != REVIEWER_ROLE:
        raise InvalidValue("role", "only the privacy officer reviews", "仅个人信息保护负责人可审核")
    if outcome not in ("justified", "misuse"):
        raise InvalidValue("outcome", "justified or misuse", "应为 justified 或 misuse")
    row = conn.execute(
        select(access_review.c.ref_id).where(
            access_review.c.tenant_id == tenant_id,
            access_review.c.id == review_id,
            access_review.c.done_us.is_(None),
        )
    ).first()
    if row is None:
        return False
    now = now_us()
    conn.execute(
        update(access_review)
        .where(access_review.c.id == review_id)
        .values(done_us=now, done_by=reviewer_id, outcome=outcome)
    )
    conn.execute(
        update(alert)
        .where(
            alert.c.tenant_id == tenant_id,
            alert.c.ref_id == row.ref_id,
            alert.c.acknowledged_us.is_(None),
        )
        .values(acknowledged_us=now)
    )
    audit.record(
        conn,
        kernel,
        tenant_id,
        [
            audit.event(
                reviewer,
                reviewer_role,
                audit.BREAK_GLASS,
                Outcome.ALLOWED,
                {"grant": row.ref_id, "review": outcome},
            )
        ],
    )
    return True
