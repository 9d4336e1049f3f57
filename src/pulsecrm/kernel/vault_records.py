"""What the vault returns for one person, and the audit events that record it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext


@dataclass
class PersonView:
    """What a caller gets for one person: values (masked unless revealed) and why others are not."""

    subject_id: str
    values: dict[str, str | None] = field(default_factory=dict)
    revealed: set[str] = field(default_factory=set)
    denied: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def events_for(ctx: AccessContext, view: PersonView, action: Action) -> list[AuditEvent]:
    events = []
    if view.values:
        detail: dict[str, object] = {"revealed": sorted(view.revealed)} if view.revealed else {}
        if view.denied:
            detail["denied"] = view.denied
        events.append(
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                action,
                Outcome.ALLOWED,
                view.subject_id,
                tuple(view.values),
                detail,
            )
        )
    elif view.denied:
        events.append(
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                action,
                Outcome.DENIED,
                view.subject_id,
                tuple(view.denied),
                {"denied": view.denied},
            )
        )
    if view.failed:
        events.append(
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.DECRYPT,
                Outcome.FAILED,
                view.subject_id,
                tuple(view.failed),
                {"failed": view.failed},
            )
        )
    return events
