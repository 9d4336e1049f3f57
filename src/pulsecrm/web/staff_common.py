"""What every staff page shares: rendering with the signed-in user, the unit of work with
the caller's row scope, the purposes a role may use, and small display helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from sqlalchemy import Connection
from starlette.responses import HTMLResponse

from pulsecrm.access import users
from pulsecrm.crm.scope import Scope, scope_for
from pulsecrm.kernel.policy import Access
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import Staff, kernel_of
from pulsecrm.web.templating import render

SERVICE = "service.appointment"
# Purposes a people list may be read for, in order of preference per role. No marketing
# or analytics purpose: those roles work on pseudonymous segments and aggregates
# (DESIGN principle 3), not by browsing identities.
LIST_PURPOSES = (
    "service.appointment",
    "service.followup",
    "compliance.audit",
    "compliance.dsr",
)


def page(
    request: Request,
    staff: Staff,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    section: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        template,
        {
            "staff": staff,
            "section": section,
            **catalog_names(kernel_of(request), staff.locale),
            **(context or {}),
        },
        status_code=status_code,
    )


def catalog_names(kernel: Kernel, locale: str) -> dict[str, Callable[[str], str]]:
    """``role_name`` and ``purpose_name`` for templates, from the catalog (never stale)."""
    roles, purposes = kernel.catalog.roles, kernel.catalog.purposes

    def role_name(role: str) -> str:
        spec = roles.get(role)
        return spec.name.get(locale) if spec else role

    def purpose_name(purpose: str) -> str:
        spec = purposes.get(purpose)
        return spec.name.get(locale) if spec else purpose

    return {"role_name": role_name, "purpose_name": purpose_name}


@contextmanager
def unit(
    kernel: Kernel, staff: Staff, *, write: bool = False
) -> Iterator[tuple[Connection, Scope]]:
    """A transaction (read-only unless ``write``) and the caller's row scope (crm.scope)."""
    ctx = staff.context(SERVICE)
    if write:
        with kernel.engine.begin() as conn:
            yield conn, scope_for(conn=conn, ctx=ctx)
    else:
        with read_connection(kernel.engine) as conn, conn.begin():
            yield conn, scope_for(conn=conn, ctx=ctx)


_GRANTS: dict[int, dict[tuple[str, str], dict[str, Access]]] = {}


def _fields_for(kernel: Kernel, role: str, purpose: str) -> dict[str, Access]:
    """``policy.fields_for``, memoised per policy (it scans the whole table; pages ask often)."""
    table = _GRANTS.setdefault(id(kernel.policy), {})
    found = table.get((role, purpose))
    if found is None:
        found = table[(role, purpose)] = kernel.policy.fields_for(role, purpose)
    return found


def list_purpose(kernel: Kernel, role: str) -> str | None:
    """The first purpose for which ``role`` may see (masked) names and phones, if any."""
    for purpose in LIST_PURPOSES:
        fields = _fields_for(kernel, role, purpose)
        if "phone" in fields or "name" in fields:
            return purpose
    return None


def reveal_purposes(kernel: Kernel, role: str, field: str) -> list[str]:
    """Purposes under which ``role`` may reveal ``field`` (what the reveal form offers)."""
    return [
        p
        for p in kernel.catalog.purposes
        if _fields_for(kernel, role, p).get(field) is Access.REVEAL
    ]


def fields_for(kernel: Kernel, role: str, purpose: str) -> dict[str, Access]:
    return _fields_for(kernel, role, purpose)


def staff_names(kernel: Kernel, tenant_id: int) -> dict[int, str]:
    with read_connection(kernel.engine) as conn:
        return {
            int(u["id"]): str(u["display_name"] or u["username"])
            for u in users.list_users(conn, kernel, tenant_id=tenant_id)
        }


def request_kernel(request: Request) -> Kernel:
    return kernel_of(request)
