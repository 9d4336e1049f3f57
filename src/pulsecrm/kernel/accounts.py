"""Staff accounts: one per person (no shared logins, H1), passwords hashed with Argon2id."""

from __future__ import annotations

import re
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from sqlalchemy import Connection, insert, select

from pulsecrm.catalog.loader import Catalog
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.tables import user_account

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
_SHARED_NAMES = frozenset(
    {"admin", "root", "shared", "staff", "frontdesk", "team", "guest", "user"}
)
_hasher = PasswordHasher()  # argon2-cffi defaults are Argon2id (RFC 9106 profile)


@dataclass(frozen=True)
class Account:
    id: int
    tenant_id: int
    username: str
    role: str
    is_local_operator: bool


def create_account(
    conn: Connection,
    catalog: Catalog,
    *,
    tenant_id: int,
    username: str,
    display_name: str,
    role: str,
    password: str | None,
    is_local_operator: bool = False,
    shared: bool = False,
) -> Account:
    """Create a named account; generic or duplicate usernames are refused (H1).

    ``shared=True`` (an account several people would use) is always refused:
    the flag exists so that an import or an integration asking for one gets
    a named error instead of silently creating it.
    """
    if shared:
        raise InvalidValue(
            "shared",
            "shared or generic accounts are not allowed; create one account per person",
            "不允许共享或通用账号，请为每位员工单独创建账号",
        )
    if not _USERNAME.match(username):
        raise InvalidValue(
            "username",
            "3–64 lower-case letters, digits, '.', '_' or '-'",
            "应为3-64位小写字母、数字、'.'、'_'或'-'",
        )
    if username in _SHARED_NAMES:
        raise InvalidValue(
            "username",
            "generic or shared account names are not allowed; name the person",
            "不允许使用通用或共享账号名，请使用个人账号",
        )
    if role not in catalog.roles:
        raise InvalidValue("role", f"unknown role {role!r}", f"未知角色 {role!r}")
    taken = conn.execute(select(user_account.c.id).where(user_account.c.username == username))
    if taken.first() is not None:
        raise InvalidValue("username", "already taken", "用户名已存在")
    if password is not None and len(password) < 10:
        raise InvalidValue("password", "at least 10 characters", "至少10个字符")
    new_id = conn.execute(
        insert(user_account)
        .values(
            tenant_id=tenant_id,
            username=username,
            display_name=display_name,
            role=role,
            password_hash=_hasher.hash(password) if password else None,
            is_local_operator=is_local_operator,
            active=True,
            created_us=now_us(),
        )
        .returning(user_account.c.id)
    ).scalar_one()
    return Account(int(new_id), tenant_id, username, role, is_local_operator)


def find_account(conn: Connection, username: str) -> Account | None:
    row = conn.execute(
        select(user_account).where(user_account.c.username == username, user_account.c.active)
    ).first()
    if row is None:
        return None
    return Account(row.id, row.tenant_id, row.username, row.role, row.is_local_operator)


def local_operator(conn: Connection, tenant_id: int) -> Account | None:
    row = conn.execute(
        select(user_account)
        .where(user_account.c.tenant_id == tenant_id, user_account.c.is_local_operator)
        .order_by(user_account.c.id)
    ).first()
    if row is None:
        return None
    return Account(row.id, row.tenant_id, row.username, row.role, row.is_local_operator)


def verify_password(conn: Connection, username: str, password: str) -> bool:
    row = conn.execute(
        select(user_account.c.password_hash).where(user_account.c.username == username)
    ).first()
    if row is None or row.password_hash is None:
        return False
    try:
        return _hasher.verify(row.password_hash, password)
    except VerificationError:
        return False
