"""Data-subject request intake and its clock (F1): record, verify, extend, close.

A request is recorded the moment it arrives, whatever the channel (the "my
data" page, a signed link, the front desk), with a reference the requester
can quote, its received time and its legal due time (``rights.clock``). What the
requester typed is sealed by the kernel under the request's own vault subject;
the queue shows it masked, and every read of it is audited.

Status machine::

    received ──▶ verifying ──▶ in_progress ──▶ fulfilled
        │            │              │
        └────────────┴──────────────┴──▶ rejected

``verified`` is set only by the privacy officer (``mark_verified``), and a
request cannot be fulfilled — nothing can be released — before it is
(``assert_releasable``). Fulfilment itself (export, erasure) is a later issue.
Every change appends a row to ``dsr_request_event``. Service functions never
commit: the caller's transaction is the unit of work.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.normalisers import normalise_email, normalise_phone
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import clock
from pulsecrm.rights.errors import (
    ExtensionRefused,
    InvalidTransition,
    NotVerified,
    RequestNotFound,
    RightsError,
)
from pulsecrm.rights.tables import dsr_request, dsr_request_event

REQUEST_TYPES: tuple[str, ...] = (
    "access",
    "copy",
    "correction",
    "deletion",
    "withdrawal",
    "explanation",
)
CHANNELS = frozenset({"web_form", "signed_link", "offline"})
OPEN = ("received", "verifying", "in_progress")
CLOSED = ("fulfilled", "rejected")
TRANSITIONS: dict[str, frozenset[str]] = {
    "received": frozenset({"verifying", "rejected"}),
    "verifying": frozenset({"in_progress", "rejected"}),
    "in_progress": frozenset({"fulfilled", "rejected"}),
    "fulfilled": frozenset(),
    "rejected": frozenset(),
}
OFFICER_ROLES = frozenset({"privacy_officer"})
NEEDS_DETAILS = frozenset({"correction", "explanation"})
CONTACT_FIELDS = {
    "name": "dsr_requester_name",
    "phone": "dsr_requester_phone",
    "email": "dsr_requester_email",
    "details": "dsr_request_details",
}
MAX_NAME, MAX_DETAILS = 100, 2000
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone


@dataclass(frozen=True)
class RequestIntake:
    """What arrives with a request; contact details are personal data (sealed on write)."""

    request_type: str
    channel: str = "web_form"
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    details: str | None = None
    # Known when the request came through the person's own signed link.
    person_id: str | None = None
    locale: str = "zh-CN"


@dataclass
class RequestView:
    id: str
    reference: str
    request_type: str
    status: str
    channel: str
    locale: str
    received_us: int
    due_us: int
    extended_due_us: int | None
    extension_reason: str | None
    verified: bool
    linked_to_person: bool
    closed_us: int | None
    outcome: str | None
    contact: dict[str, str | None] = field(default_factory=dict)

    @property
    def effective_due_us(self) -> int:
        return self.extended_due_us or self.due_us

    def clock(self, at_us: int | None = None) -> dict[str, Any]:
        at = at_us if at_us is not None else now_us()
        open_ = self.status in OPEN
        return {
            "received_us": self.received_us,
            "due_us": self.due_us,
            "extended_due_us": self.extended_due_us,
            "effective_due_us": self.effective_due_us,
            "days_left": clock.days_left(self.effective_due_us, at) if open_ else None,
            "overdue": open_ and at > self.effective_due_us,
            "can_extend": open_
            and self.extended_due_us is None
            and clock.within_original_window(self.received_us, self.due_us, at),
        }

    def as_dict(self, at_us: int | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "reference": self.reference,
            "type": self.request_type,
            "status": self.status,
            "channel": self.channel,
            "locale": self.locale,
            "verified": self.verified,
            "linked_to_person": self.linked_to_person,
            "extension_reason": self.extension_reason,
            "closed_us": self.closed_us,
            "outcome": self.outcome,
            "clock": self.clock(at_us),
            "contact": dict(self.contact),
        }


def _view(row: Any) -> RequestView:
    return RequestView(
        id=row.id,
        reference=row.reference,
        request_type=row.request_type,
        status=row.status,
        channel=row.channel,
        locale=row.locale,
        received_us=row.received_us,
        due_us=row.due_us,
        extended_due_us=row.extended_due_us,
        extension_reason=row.extension_reason,
        verified=bool(row.verified),
        linked_to_person=row.person_id is not None,
        closed_us=row.closed_us,
        outcome=row.outcome,
    )


# -- intake ---------------------------------------------------------------------------
def _normalised(
    intake: RequestIntake,
) -> tuple[RequestIntake, list[RightsError | InvalidValue]]:
    """The intake with contact details normalised, and every rule it breaks (each names a field)."""
    problems: list[RightsError | InvalidValue] = []
    if intake.request_type not in REQUEST_TYPES:
        problems.append(
            RightsError(
                "request_type",
                f"one of {', '.join(REQUEST_TYPES)}",
                f"应为 {'、'.join(REQUEST_TYPES)} 之一",
            )
        )
    if intake.channel not in CHANNELS:
        problems.append(
            RightsError("channel", f"one of {', '.join(sorted(CHANNELS))}", "请求渠道无效")
        )
    cleaned: dict[str, str | None] = {}
    for key in ("name", "phone", "email", "details"):
        raw = getattr(intake, key)
        value = raw.strip() if isinstance(raw, str) else None
        if value and "\x00" in value:
            problems.append(RightsError(key, "NUL characters are not allowed", "不允许包含空字符"))
            value = None
        cleaned[key] = value or None
    name, phone, email, details = (cleaned[k] for k in ("name", "phone", "email", "details"))
    if name and len(name) > MAX_NAME:
        problems.append(
            RightsError("name", f"at most {MAX_NAME} characters", f"不超过{MAX_NAME}个字符")
        )
    if details and len(details) > MAX_DETAILS:
        problems.append(
            RightsError(
                "details", f"at most {MAX_DETAILS} characters", f"不超过{MAX_DETAILS}个字符"
            )
        )
    if phone:
        try:
            phone = normalise_phone(phone)
        except InvalidValue as exc:
            problems.append(exc)
    if email:
        try:
            email = normalise_email(email)
        except InvalidValue as exc:
            problems.append(exc)
    if intake.person_id is None and not (cleaned["phone"] or cleaned["email"]):
        problems.append(
            RightsError(
                "phone",
                "a phone number or an e-mail address, so we can reach you and check it is you",
                "请填写手机号或电子邮箱，以便联系您并核实身份",
            )
        )
    if intake.request_type in NEEDS_DETAILS and not details:
        problems.append(
            RightsError(
                "details",
                "tell us what to correct or what you would like explained",
                "请说明需要更正的内容或希望我们解释的问题",
            )
        )
    locale = "en" if intake.locale.lower().startswith("en") else "zh-CN"
    fixed = RequestIntake(
        intake.request_type,
        intake.channel,
        name,
        phone,
        email,
        details,
        intake.person_id,
        locale,
    )
    return fixed, problems


def intake_problems(intake: RequestIntake) -> list[RightsError | InvalidValue]:
    """Every rule the intake breaks, so a form can mark all its fields at once."""
    return _normalised(intake)[1]


def check_intake(intake: RequestIntake) -> RequestIntake:
    """The intake with contact details normalised; the first broken rule is raised."""
    fixed, problems = _normalised(intake)
    if problems:
        raise problems[0]
    return fixed


def _reference() -> str:
    return "DSR-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def _event(
    conn: Connection,
    *,
    tenant_id: int,
    request_id: str,
    at: int,
    kind: str,
    from_status: str | None,
    to_status: str,
    actor: str,
    note: str | None = None,
) -> None:
    conn.execute(
        insert(dsr_request_event).values(
            id=uuid.uuid4().hex,
            tenant_id=tenant_id,
            request_id=request_id,
            at_us=at,
            kind=kind,
            from_status=from_status,
            to_status=to_status,
            actor=actor[:100],
            note=note,
        )
    )


def submit_request(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    intake: RequestIntake,
    received_us: int | None = None,
) -> RequestView:
    """Record a request: its clock starts now; the requester's details are sealed by the kernel."""
    intake = check_intake(intake)
    received = received_us if received_us is not None else now_us()
    request_id = uuid.uuid4().hex
    requester_id = uuid.uuid4().hex
    kernel.vault.write(
        conn,
        ctx,
        {
            requester_id: {
                CONTACT_FIELDS["name"]: intake.name,
                CONTACT_FIELDS["phone"]: intake.phone,
                CONTACT_FIELDS["email"]: intake.email,
                CONTACT_FIELDS["details"]: intake.details,
            }
        },
        new_subjects=[requester_id],
    )
    due = clock.due_us(received)
    row = {
        "id": request_id,
        "tenant_id": ctx.tenant_id,
        "reference": _reference(),
        "request_type": intake.request_type,
        "status": "received",
        "channel": intake.channel,
        "locale": intake.locale,
        "requester_id": requester_id,
        "person_id": intake.person_id,
        "received_us": received,
        "due_us": due,
        "verified": False,
        "updated_us": received,
    }
    conn.execute(insert(dsr_request).values(**row))
    _event(
        conn,
        tenant_id=ctx.tenant_id,
        request_id=request_id,
        at=received,
        kind="received",
        from_status=None,
        to_status="received",
        actor=ctx.actor,
    )
    return _view(conn.execute(select(dsr_request).where(dsr_request.c.id == request_id)).one())


# -- reading --------------------------------------------------------------------------
def _load(conn: Connection, tenant_id: int, request_id: str) -> Any:
    row = conn.execute(
        select(dsr_request).where(
            dsr_request.c.tenant_id == tenant_id, dsr_request.c.id == request_id
        )
    ).first()
    if row is None:
        raise RequestNotFound("request_id", "no such request", "没有该请求")
    return row


def get_request(conn: Connection, *, tenant_id: int, request_id: str) -> RequestView:
    """The request's workflow facts (no personal data)."""
    return _view(_load(conn, tenant_id, request_id))


def find_by_reference(conn: Connection, *, tenant_id: int, reference: str) -> RequestView:
    """The request a requester quotes (``DSR-…``, any case); no personal data."""
    row = conn.execute(
        select(dsr_request).where(
            dsr_request.c.tenant_id == tenant_id,
            dsr_request.c.reference == reference.strip().upper(),
        )
    ).first()
    if row is None:
        raise RequestNotFound("reference", "no request with this reference", "没有该编号的请求")
    return _view(row)


def requests_of_person(
    conn: Connection, *, tenant_id: int, person_id: str, limit: int = 20
) -> list[RequestView]:
    """A person's own requests (those tied to them), newest first; no personal data."""
    rows = conn.execute(
        select(dsr_request)
        .where(dsr_request.c.tenant_id == tenant_id, dsr_request.c.person_id == person_id)
        .order_by(dsr_request.c.received_us.desc())
        .limit(limit)
    ).all()
    return [_view(r) for r in rows]


def history(conn: Connection, *, tenant_id: int, request_id: str) -> list[dict[str, Any]]:
    _load(conn, tenant_id, request_id)
    rows = conn.execute(
        select(dsr_request_event)
        .where(
            dsr_request_event.c.tenant_id == tenant_id,
            dsr_request_event.c.request_id == request_id,
        )
        .order_by(dsr_request_event.c.at_us, dsr_request_event.c.id)
    ).all()
    return [
        {
            "at_us": r.at_us,
            "kind": r.kind,
            "from": r.from_status,
            "to": r.to_status,
            "actor": r.actor,
            "note": r.note,
        }
        for r in rows
    ]


def require_officer(ctx: AccessContext) -> None:
    if ctx.role not in OFFICER_ROLES:
        raise AccessDenied(f"role {ctx.role} does not handle data-subject requests")


def list_queue(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    statuses: Sequence[str] = OPEN,
    limit: int = 200,
) -> list[RequestView]:
    """The queue, most urgent first, with the requester's details masked (reads audited).

    Call it on a read connection (``store.engine.read_connection``): the kernel
    writes the audit entries of the read before returning, and on SQLite a
    caller holding a write transaction would block that write.
    """
    require_officer(ctx)
    unknown = [s for s in statuses if s not in TRANSITIONS]
    if unknown:
        raise RightsError("status", f"unknown status {unknown[0]!r}", f"未知状态 {unknown[0]!r}")
    effective_due = func.coalesce(dsr_request.c.extended_due_us, dsr_request.c.due_us)
    rows = conn.execute(
        select(dsr_request)
        .where(dsr_request.c.tenant_id == ctx.tenant_id, dsr_request.c.status.in_(statuses))
        .order_by(effective_due, dsr_request.c.received_us)
        .limit(max(1, min(limit, 1000)))
    ).all()
    views = [_view(r) for r in rows]
    if rows:
        people = kernel.vault.read(
            ctx, [r.requester_id for r in rows], list(CONTACT_FIELDS.values())
        )
        for view, person in zip(views, people, strict=True):
            view.contact = {
                short: person.values.get(name) for short, name in CONTACT_FIELDS.items()
            }
    return views


# -- workflow -------------------------------------------------------------------------
def _move(
    conn: Connection,
    ctx: AccessContext,
    request_id: str,
    to_status: str,
    *,
    kind: str | None = None,
    note: str | None = None,
    values: dict[str, Any] | None = None,
    at_us: int | None = None,
) -> RequestView:
    require_officer(ctx)
    row = _load(conn, ctx.tenant_id, request_id)
    if to_status not in TRANSITIONS[row.status]:
        raise InvalidTransition(
            "status",
            f"a {row.status} request cannot become {to_status}",
            f"处于“{row.status}”状态的请求不能变为“{to_status}”",
        )
    at = at_us if at_us is not None else now_us()
    changes: dict[str, Any] = {"status": to_status, "updated_us": at, **(values or {})}
    if to_status in CLOSED:
        changes["closed_us"] = at
    conn.execute(
        update(dsr_request)
        .where(dsr_request.c.tenant_id == ctx.tenant_id, dsr_request.c.id == request_id)
        .values(**changes)
    )
    _event(
        conn,
        tenant_id=ctx.tenant_id,
        request_id=request_id,
        at=at,
        kind=kind or to_status,
        from_status=row.status,
        to_status=to_status,
        actor=ctx.actor,
        note=note,
    )
    return get_request(conn, tenant_id=ctx.tenant_id, request_id=request_id)


def begin_verification(
    conn: Connection, ctx: AccessContext, *, request_id: str, at_us: int | None = None
) -> RequestView:
    return _move(conn, ctx, request_id, "verifying", at_us=at_us)


def mark_verified(
    conn: Connection,
    ctx: AccessContext,
    *,
    request_id: str,
    method: str,
    person_id: str | None = None,
    at_us: int | None = None,
) -> RequestView:
    """Identity checked (``method`` says how, e.g. ``id_document_at_desk``); work can start."""
    method = (method or "").strip()
    if not method:
        raise RightsError("method", "say how the identity was verified", "请说明核实身份的方式")
    at = at_us if at_us is not None else now_us()
    values: dict[str, Any] = {"verified": True, "verified_us": at, "verified_by": ctx.actor}
    if person_id:
        values["person_id"] = person_id
    return _move(
        conn,
        ctx,
        request_id,
        "in_progress",
        kind="verified",
        note=method[:200],
        values=values,
        at_us=at,
    )


def assert_releasable(view: RequestView) -> None:
    """F1: no data leaves for a requester whose identity has not been verified."""
    if not view.verified:
        raise NotVerified(
            "verified",
            "the requester's identity has not been verified; nothing may be released",
            "尚未核实请求人身份，不得提供任何数据",
        )


def fulfil(
    conn: Connection, ctx: AccessContext, *, request_id: str, at_us: int | None = None
) -> RequestView:
    assert_releasable(get_request(conn, tenant_id=ctx.tenant_id, request_id=request_id))
    return _move(conn, ctx, request_id, "fulfilled", at_us=at_us)


def reject(
    conn: Connection,
    ctx: AccessContext,
    *,
    request_id: str,
    reason: str,
    at_us: int | None = None,
) -> RequestView:
    reason = (reason or "").strip()
    if not reason:
        raise RightsError("reason", "a rejection needs its reason", "拒绝须说明理由")
    return _move(
        conn,
        ctx,
        request_id,
        "rejected",
        note=reason[:500],
        values={"outcome": reason[:64]},
        at_us=at_us,
    )


def extend(
    conn: Connection,
    ctx: AccessContext,
    *,
    request_id: str,
    reason: str,
    days: int = 30,
    at_us: int | None = None,
) -> RequestView:
    """Record an extension with its reason, only inside the original window and only once."""
    require_officer(ctx)
    reason = (reason or "").strip()
    if not reason:
        raise ExtensionRefused("reason", "an extension needs its reason", "延期须说明理由")
    if not 1 <= days <= clock.MAX_EXTENSION_DAYS:
        raise ExtensionRefused(
            "days",
            f"between 1 and {clock.MAX_EXTENSION_DAYS} days",
            f"延期天数应在1至{clock.MAX_EXTENSION_DAYS}天之间",
        )
    row = _load(conn, ctx.tenant_id, request_id)
    at = at_us if at_us is not None else now_us()
    if row.status not in OPEN:
        raise ExtensionRefused("status", "the request is closed", "该请求已结束")
    if row.extended_due_us is not None:
        raise ExtensionRefused("days", "already extended once", "已延期过一次")
    if not clock.within_original_window(row.received_us, row.due_us, at):
        raise ExtensionRefused(
            "extended_at",
            "too late: an extension must be recorded within the original 30-day window",
            "已超过原定期限：延期须在最初的30天期限内作出",
        )
    new_due = row.due_us + days * clock.DAY_US
    conn.execute(
        update(dsr_request)
        .where(dsr_request.c.tenant_id == ctx.tenant_id, dsr_request.c.id == request_id)
        .values(
            extended_due_us=new_due,
            extension_reason=reason[:500],
            extended_us=at,
            updated_us=at,
        )
    )
    _event(
        conn,
        tenant_id=ctx.tenant_id,
        request_id=request_id,
        at=at,
        kind="extended",
        from_status=row.status,
        to_status=row.status,
        actor=ctx.actor,
        note=reason[:500],
    )
    return get_request(conn, tenant_id=ctx.tenant_id, request_id=request_id)
