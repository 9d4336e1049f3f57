"""FastAPI dependencies: the kernel, the staff principal, the public (self-service) context."""

from __future__ import annotations

from fastapi import Request

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.errors import locale_of
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel

INTAKE_ROLE = "consent_intake"
INTAKE_PURPOSE = "compliance.dsr"


def get_kernel(request: Request) -> Kernel:
    kernel: Kernel = request.app.state.kernel
    return kernel


def staff(request: Request) -> StaffPrincipal:
    kernel = get_kernel(request)
    principal: StaffPrincipal = request.app.state.authenticator(request, kernel)
    return principal


def intake_context(request: Request, tenant_id: int, actor: str) -> AccessContext:
    """The context of a person acting for themselves (public page, reply, unsubscribe)."""
    return AccessContext(
        actor[:100], INTAKE_ROLE, tenant_id, INTAKE_PURPOSE, None, locale_of(request)
    )


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None
