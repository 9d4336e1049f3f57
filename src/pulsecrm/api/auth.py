"""Staff authentication for the API: pluggable, returning an ``AccessContext`` builder.

Today a bearer API token (``access.tokens``); the web console will add
sessions and MFA as other authenticators with the same shape. Every use of a
token is audited (action ``login``), refused ones too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from pulsecrm.access.tokens import TokenRefused, authenticate
from pulsecrm.api.errors import locale_of
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection


@dataclass(frozen=True)
class StaffPrincipal:
    username: str
    role: str
    tenant_id: int
    locale: str

    def context(self, purpose: str, channel: str | None = None) -> AccessContext:
        return AccessContext(
            self.username, self.role, self.tenant_id, purpose, channel, self.locale
        )


Authenticator = Callable[[Request, Kernel], StaffPrincipal]


def bearer_token(request: Request, kernel: Kernel) -> StaffPrincipal:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    try:
        if scheme.lower() != "bearer" or not secret.strip():
            raise TokenRefused()
        with read_connection(kernel.engine) as conn, conn.begin():
            token_id, account = authenticate(conn, secret.strip())
    except TokenRefused:
        kernel.audit_writer.record(
            kernel.tenant_id(),
            [
                AuditEvent(
                    "api",
                    "anonymous",
                    "compliance.audit",
                    Action.LOGIN,
                    Outcome.DENIED,
                    None,
                    (),
                    {"via": "api_token", "path": request.url.path},
                )
            ],
        )
        raise
    kernel.audit_writer.record(
        account.tenant_id,
        [
            AuditEvent(
                account.username,
                account.role,
                "compliance.audit",
                Action.LOGIN,
                Outcome.ALLOWED,
                None,
                (),
                {"via": "api_token", "token": token_id, "path": request.url.path},
            )
        ],
    )
    return StaffPrincipal(account.username, account.role, account.tenant_id, locale_of(request))
