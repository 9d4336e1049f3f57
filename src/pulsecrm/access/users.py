"""Staff account administration for the privacy officer and the administrator.

Every change is audited and ends the account's live sessions where it changes
what they may do (role change, MFA reset, deactivation), so a session never
outlives the permissions it was opened with.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, update

from pulsecrm.access import audit, sessions, throttle, totp
from pulsecrm.access.roles import NOT_ASSIGNABLE, mfa_required
from pulsecrm.access.tables import login_throttle, mfa_totp
from pulsecrm.kernel.accounts import Account, create_account
from pulsecrm.kernel.audit_records import Outcome, now_us
from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import user_account

ADMIN_ROLES = frozenset({"admin", "privacy_officer"})


def _audit(
    conn: Connection,
    kernel: Kernel,
    tenant_id: int,
    actor: str,
    actor_role: str,
    action: str,
    detail: dict[str, Any],
) -> None:
    """An allowed account change, written in the change's own transaction (H6)."""
    audit.record(
        conn, kernel, tenant_id, [audit.event(actor, actor_role, action, Outcome.ALLOWED, detail)]
    )


def _require_admin(actor_role: str) -> None:
    if actor_role not in ADMIN_ROLES:
        raise AccessDenied("only an administrator or the privacy officer manages accounts")


def _check_role(kernel: Kernel, role: str) -> None:
    if role in NOT_ASSIGNABLE or role not in kernel.catalog.roles:
        raise InvalidValue("role", f"not an assignable role: {role!r}", f"不可分配的角色 {role!r}")


def list_users(conn: Connection, kernel: Kernel, *, tenant_id: int) -> list[dict[str, Any]]:
    now = now_us()
    locked = {
        r.key[5:]
        for r in conn.execute(
            select(login_throttle.c.key).where(
                login_throttle.c.tenant_id == tenant_id,
                login_throttle.c.key.like("user:%"),
                login_throttle.c.locked_until_us > now,
            )
        )
    }
    factors = {
        r.account_id: r.confirmed_us is not None
        for r in conn.execute(
            select(mfa_totp.c.account_id, mfa_totp.c.confirmed_us).where(
                mfa_totp.c.tenant_id == tenant_id
            )
        )
    }
    rows = conn.execute(
        select(user_account)
        .where(user_account.c.tenant_id == tenant_id)
        .order_by(user_account.c.username)
    )
    return [
        {
            "id": r.id,
            "username": r.username,
            "display_name": r.display_name,
            "role": r.role,
            "active": bool(r.active),
            "mfa": "active" if factors.get(r.id) else ("pending" if r.id in factors else "none"),
            "mfa_required": mfa_required(kernel.catalog, r.role),
            "locked": r.username in locked,
        }
        for r in rows
    ]


def create_user(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    actor: str,
    actor_role: str,
    username: str,
    display_name: str,
    role: str,
    password: str,
) -> Account:
    """A named account for one person (H1: unique, never shared)."""
    _require_admin(actor_role)
    _check_role(kernel, role)
    account = create_account(
        conn,
        kernel.catalog,
        tenant_id=tenant_id,
        username=username,
        display_name=display_name,
        role=role,
        password=password,
    )
    _audit(
        conn,
        kernel,
        tenant_id,
        actor,
        actor_role,
        audit.ACCOUNT,
        {"op": "create", "user": username, "role": role},
    )
    return account


def _account(conn: Connection, tenant_id: int, account_id: int) -> Any:
    row = conn.execute(
        select(user_account).where(
            user_account.c.tenant_id == tenant_id, user_account.c.id == account_id
        )
    ).first()
    if row is None:
        raise InvalidValue("account", "no such account", "账号不存在")
    return row


def set_role(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    actor: str,
    actor_role: str,
    account_id: int,
    role: str,
) -> None:
    _require_admin(actor_role)
    _check_role(kernel, role)
    row = _account(conn, tenant_id, account_id)
    conn.execute(update(user_account).where(user_account.c.id == account_id).values(role=role))
    sessions.end_all(conn, account_id=account_id)
    _audit(
        conn,
        kernel,
        tenant_id,
        actor,
        actor_role,
        audit.ACCOUNT,
        {"op": "role", "user": row.username, "from": row.role, "to": role},
    )


def reset_mfa(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    actor: str,
    actor_role: str,
    account_id: int,
) -> None:
    """Remove a lost authenticator; the user enrols a new one at next login."""
    _require_admin(actor_role)
    row = _account(conn, tenant_id, account_id)
    totp.reset(conn, account_id=account_id)
    sessions.end_all(conn, account_id=account_id)
    _audit(conn, kernel, tenant_id, actor, actor_role, audit.MFA_RESET, {"user": row.username})


def unlock(
    conn: Connection, kernel: Kernel, *, tenant_id: int, actor: str, actor_role: str, username: str
) -> bool:
    _require_admin(actor_role)
    cleared = throttle.clear(conn, tenant_id=tenant_id, key=throttle.user_key(username))
    _audit(
        conn,
        kernel,
        tenant_id,
        actor,
        actor_role,
        audit.UNLOCK,
        {"user": username, "was_locked": cleared},
    )
    return cleared


def set_active(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    actor: str,
    actor_role: str,
    account_id: int,
    active: bool,
) -> None:
    _require_admin(actor_role)
    row = _account(conn, tenant_id, account_id)
    if row.is_local_operator and not active:
        raise InvalidValue(
            "account", "the local operator cannot be deactivated", "本机操作员不可停用"
        )
    conn.execute(update(user_account).where(user_account.c.id == account_id).values(active=active))
    if not active:
        sessions.end_all(conn, account_id=account_id)
    _audit(
        conn,
        kernel,
        tenant_id,
        actor,
        actor_role,
        audit.ACCOUNT,
        {"op": "activate" if active else "deactivate", "user": row.username},
    )
