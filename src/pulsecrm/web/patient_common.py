"""What the patient pages share: the tenant and notice to show, the person's own context,
evidence of an action, and turning a service's refusal into a message on its field.

A person on these pages acts for themselves: the context is the consent-intake
role (``api.deps.intake_context``), the actor ``subject:<person>`` when a signed
link names them, and every consent carries the evidence the ledger seals (IP,
user agent, the notice version they saw).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from sqlalchemy import Connection

from pulsecrm.api.deps import client_ip, get_kernel, intake_context
from pulsecrm.consent import service as consent_service
from pulsecrm.consent.errors import ConsentError, LinkInvalid
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import PublishedNotice, current_notice
from pulsecrm.consent.tokens import PREFS, LinkClaims, read_link_token
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue, KernelError
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.web import i18n

NO_CHANNEL = "-"


def notice_for(conn: Connection, tenant_id: int, locale: str) -> PublishedNotice | None:
    """The current notice in the visitor's language, else the Chinese one (the legal text)."""
    return current_notice(conn, tenant_id, locale) or current_notice(
        conn, tenant_id, i18n.DEFAULT_LOCALE
    )


def claims_for(kernel: Kernel, token: str, scope: str = PREFS) -> LinkClaims:
    """The person a signed link names; a forged, altered, expired or misused link is refused."""
    claims = read_link_token(kernel, token)
    if claims.scope != scope:
        raise LinkInvalid("token", "this link is for another action", "此链接不适用于该操作")
    return claims


def subject_context(request: Request, tenant_id: int, person_id: str | None) -> AccessContext:
    actor = f"subject:{person_id}" if person_id else "public:web"
    return intake_context(request, tenant_id, actor)


def evidence(request: Request, form_id: str | None = None) -> consent_service.Evidence:
    return consent_service.Evidence(
        form_id=form_id,
        ip=client_ip(request),
        user_agent=(request.headers.get("user-agent") or "")[:500] or None,
    )


def parse_box(value: str) -> tuple[str, str | None]:
    """A consent box's value ``purpose|channel`` (``-`` for a purpose without channels)."""
    purpose, _, channel = value.partition("|")
    return purpose, (None if channel in ("", NO_CHANNEL) else channel)


def grant_submissions(
    kernel: Kernel,
    request: Request,
    *,
    person_id: str,
    boxes: list[tuple[str, str | None]],
    notice_hash: str,
    method: str,
    form_id: str | None = None,
    language: str,
    kind: Kind = Kind.GRANT,
) -> list[consent_service.Submission]:
    """One submission per ticked box: each box is its own act, so nothing is bundled (B4)."""
    return [
        consent_service.Submission(
            person_id=person_id,
            decisions=[consent_service.Decision(purpose, channel, kind)],
            method=method,
            notice_hash=notice_hash,
            origin="subject",
            evidence=evidence(request, form_id),
            language=language,
        )
        for purpose, channel in boxes
    ]


@dataclass
class FieldErrors:
    """Errors to show beside their fields (and in the summary), in the visitor's language."""

    by_field: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: str) -> None:
        self.by_field.setdefault(name, message)

    def __bool__(self) -> bool:
        return bool(self.by_field)

    def items(self) -> list[tuple[str, str]]:
        return list(self.by_field.items())


def rule_message(exc: KernelError, locale: str) -> str:
    """The rule a service refused, without the field prefix (the page names the field)."""
    if isinstance(exc, InvalidValue | ConsentError):
        return exc.rule_en if locale == "en" else exc.rule_zh
    return exc.message(locale)


def error_field(exc: KernelError) -> str:
    found = getattr(exc, "field", None)
    return str(found) if found else "form"


def page_kernel(request: Request) -> Kernel:
    return get_kernel(request)


def form_values(form: Any, names: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name in names:
        raw = form.get(name)
        if isinstance(raw, str):
            values[name] = raw.strip()
    return values
