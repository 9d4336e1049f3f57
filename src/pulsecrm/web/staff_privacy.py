"""The privacy officer's area: alerts and break-glass reviews, notices (current version per
language, history, publish), purposes and role grants from the catalog, users and roles
(create, change role, reset MFA, unlock, deactivate), and the audit log with a
"verify" button (Merkle recomputation and the latest signed checkpoint).

Visible to the privacy officer, the administrator and the auditor (read-only
for the auditor); every change goes through ``pulsecrm.access`` or
``pulsecrm.consent`` and is audited there; opening the audit log is audited too.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from pulsecrm.access import audit, audit_view, break_glass, users
from pulsecrm.access.roles import assignable_roles, mfa_required
from pulsecrm.consent.notices import current_notice, get_notice, parse_notice, publish_notice
from pulsecrm.kernel.audit_records import Outcome
from pulsecrm.kernel.errors import AccessDenied, InvalidValue, KernelError
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import Staff, StaffRoute, current_staff, kernel_of, staff_form
from pulsecrm.web.i18n import LOCALES
from pulsecrm.web.staff_common import page
from pulsecrm.web.templating import render

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)
AREA_ROLES = frozenset({"privacy_officer", "admin", "auditor"})
MANAGER_ROLES = frozenset({"privacy_officer", "admin"})
AccountId = Annotated[int, Path(ge=1, lt=2**31)]


def _area(staff: Staff, *, manage: bool = False) -> None:
    allowed = MANAGER_ROLES if manage else AREA_ROLES
    if staff.role not in allowed:
        raise AccessDenied("privacy area: privacy officer, administrator or auditor only")


def _back(path: str, **params: str) -> RedirectResponse:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


@router.get("/staff/privacy")
def overview(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    _area(staff)
    kernel = kernel_of(request)
    with read_connection(kernel.engine) as conn:
        alerts = break_glass.open_alerts(conn, tenant_id=staff.tenant_id)
        reviews = break_glass.open_reviews(conn, tenant_id=staff.tenant_id)
    return page(
        request,
        staff,
        "staff/privacy_overview.html",
        {"alerts": alerts, "reviews": reviews, "tab": "overview"},
        section="privacy",
    )


@router.post("/staff/privacy/reviews/{review_id}")
def review(
    request: Request,
    review_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    outcome: Annotated[Literal["justified", "misuse"], Form()],
    staff: Staff = Depends(staff_form),
) -> Response:
    _area(staff, manage=True)
    kernel = kernel_of(request)
    with kernel.engine.begin() as conn:
        break_glass.complete_review(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            review_id=review_id,
            reviewer_id=staff.session.account_id,
            reviewer=staff.username,
            reviewer_role=staff.role,
            outcome=outcome,
        )
    return _back("/staff/privacy", done="1")


# -- notices -------------------------------------------------------------------------
def _notice_history(kernel: Kernel, tenant_id: int) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    with read_connection(kernel.engine) as conn:
        for locale in LOCALES:
            chain: list[Any] = []
            notice = current_notice(conn, tenant_id, locale)
            while notice is not None and len(chain) < 20:
                chain.append(notice)
                notice = (
                    get_notice(conn, tenant_id, notice.supersedes) if notice.supersedes else None
                )
            out[locale] = chain
    return out


@router.get("/staff/privacy/notices")
def notices(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    _area(staff)
    kernel = kernel_of(request)
    return page(
        request,
        staff,
        "staff/privacy_notices.html",
        {
            "history": _notice_history(kernel, staff.tenant_id),
            "tab": "notices",
            "error": None,
            "draft": "",
            "published": request.query_params.get("published"),
        },
        section="privacy",
    )


@router.post("/staff/privacy/notices")
def publish(
    request: Request,
    document: Annotated[str, Form(max_length=100_000)],
    staff: Staff = Depends(staff_form),
) -> Response:
    _area(staff, manage=True)
    kernel = kernel_of(request)
    error = None
    try:
        raw = yaml.safe_load(document)
        doc = parse_notice(raw)
        with kernel.engine.begin() as conn:
            published = publish_notice(conn, kernel, staff.context("compliance.audit"), doc)
    except yaml.YAMLError:
        error = InvalidValue(
            "document", "not valid YAML or JSON", "不是有效的 YAML 或 JSON"
        ).message(staff.locale)
    except KernelError as exc:
        error = exc.message(staff.locale)
    except ValueError as exc:  # pydantic validation of the document
        error = str(exc)[:500]
    if error is not None:
        return page(
            request,
            staff,
            "staff/privacy_notices.html",
            {
                "history": _notice_history(kernel, staff.tenant_id),
                "tab": "notices",
                "error": error,
                "draft": document,
                "published": None,
            },
            section="privacy",
            status_code=422,
        )
    return _back("/staff/privacy/notices", published=published.version_hash[:12])


# -- purposes and roles ----------------------------------------------------------------
@router.get("/staff/privacy/purposes")
def purposes(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    _area(staff)
    kernel = kernel_of(request)
    roles = [
        {
            "id": r.id,
            "name": r.name.get(staff.locale),
            "grants": r.grants,
            "mfa": mfa_required(kernel.catalog, r.id),
            "reads": r.reads_personal_data,
        }
        for r in kernel.catalog.roles.values()
    ]
    return page(
        request,
        staff,
        "staff/privacy_purposes.html",
        {"purposes": list(kernel.catalog.purposes.values()), "roles": roles, "tab": "purposes"},
        section="privacy",
    )


# -- users --------------------------------------------------------------------------
@router.get("/staff/privacy/users")
def users_page(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    _area(staff)
    kernel = kernel_of(request)
    with read_connection(kernel.engine) as conn:
        accounts = users.list_users(conn, kernel, tenant_id=staff.tenant_id)
    return page(
        request,
        staff,
        "staff/privacy_users.html",
        {
            "accounts": accounts,
            "roles": assignable_roles(kernel.catalog),
            "tab": "users",
            "error": request.query_params.get("error"),
            "done": request.query_params.get("done"),
            "can_manage": staff.role in MANAGER_ROLES,
        },
        section="privacy",
    )


def _user_change(request: Request, staff: Staff, change: Any) -> Response:
    _area(staff, manage=True)
    kernel = kernel_of(request)
    try:
        with kernel.engine.begin() as conn:
            change(conn, kernel)
    except KernelError as exc:
        kernel_error = exc.message(staff.locale)
        with read_connection(kernel.engine) as conn:
            accounts = users.list_users(conn, kernel, tenant_id=staff.tenant_id)
        return page(
            request,
            staff,
            "staff/privacy_users.html",
            {
                "accounts": accounts,
                "roles": assignable_roles(kernel.catalog),
                "tab": "users",
                "error": kernel_error,
                "done": None,
                "can_manage": True,
            },
            section="privacy",
            status_code=422,
        )
    return _back("/staff/privacy/users", done="1")


@router.post("/staff/privacy/users")
def create_user(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    display_name: Annotated[str, Form(min_length=1, max_length=200)],
    role: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1000)],
    staff: Staff = Depends(staff_form),
) -> Response:
    return _user_change(
        request,
        staff,
        lambda conn, kernel: users.create_user(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            actor=staff.username,
            actor_role=staff.role,
            username=username.strip(),
            display_name=display_name.strip(),
            role=role,
            password=password,
        ),
    )


@router.post("/staff/privacy/users/{account_id}/role")
def change_role(
    request: Request,
    account_id: AccountId,
    role: Annotated[str, Form(max_length=64)],
    staff: Staff = Depends(staff_form),
) -> Response:
    return _user_change(
        request,
        staff,
        lambda conn, kernel: users.set_role(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            actor=staff.username,
            actor_role=staff.role,
            account_id=account_id,
            role=role,
        ),
    )


@router.post("/staff/privacy/users/{account_id}/reset-mfa")
def reset_mfa(
    request: Request, account_id: AccountId, staff: Staff = Depends(staff_form)
) -> Response:
    return _user_change(
        request,
        staff,
        lambda conn, kernel: users.reset_mfa(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            actor=staff.username,
            actor_role=staff.role,
            account_id=account_id,
        ),
    )


@router.post("/staff/privacy/users/unlock")
def unlock(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    staff: Staff = Depends(staff_form),
) -> Response:
    return _user_change(
        request,
        staff,
        lambda conn, kernel: users.unlock(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            actor=staff.username,
            actor_role=staff.role,
            username=username,
        ),
    )


@router.post("/staff/privacy/users/{account_id}/active")
def set_active(
    request: Request,
    account_id: AccountId,
    active: Annotated[Literal["1", "0"], Form()],
    staff: Staff = Depends(staff_form),
) -> Response:
    return _user_change(
        request,
        staff,
        lambda conn, kernel: users.set_active(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            actor=staff.username,
            actor_role=staff.role,
            account_id=account_id,
            active=active == "1",
        ),
    )


# -- audit log ----------------------------------------------------------------------
@router.get("/staff/privacy/audit")
def audit_log(
    request: Request,
    before: Annotated[int | None, Query(ge=1, lt=2**62)] = None,
    actor: Annotated[str | None, Query(max_length=100)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    staff: Staff = Depends(current_staff),
) -> Response:
    _area(staff)
    kernel = kernel_of(request)
    with kernel.engine.begin() as conn:
        rows, total = audit_view.entries(
            conn,
            tenant_id=staff.tenant_id,
            limit=50,
            before_seq=before,
            actor=actor or None,
            action=action or None,
        )
        audit.record(
            conn,
            kernel,
            staff.tenant_id,
            [
                audit.event(
                    staff.username,
                    staff.role,
                    "audit_view",
                    Outcome.ALLOWED,
                    {"before": before, "actor": actor, "action": action},
                )
            ],
        )
    for row in rows:
        try:
            row["detail_obj"] = json.loads(row["detail"])
        except ValueError:
            row["detail_obj"] = {}
    return page(
        request,
        staff,
        "staff/privacy_audit.html",
        {
            "rows": rows,
            "total": total,
            "actor": actor or "",
            "action": action or "",
            "next_before": rows[-1]["seq"] if len(rows) == 50 else None,
            "tab": "audit",
        },
        section="privacy",
    )


@router.post("/staff/privacy/audit/verify")
def verify(request: Request, staff: Staff = Depends(staff_form)) -> Response:
    _area(staff)
    kernel = kernel_of(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        result = audit_view.verify(kernel, conn, tenant_id=staff.tenant_id)
    return render(request, "staff/_verify.html", {"v": result})
