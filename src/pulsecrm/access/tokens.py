"""Staff API tokens: 32 random bytes shown once, stored as SHA-256, expiring, revocable.

``authenticate`` resolves a presented token to its active account and writes
an audit entry (action ``login``) for every use, allowed or refused.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, insert, select, update

from pulsecrm.access.tables import api_token
from pulsecrm.kernel.accounts import Account, find_account
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.tables import user_account

PREFIX = "pct_"
DAY_US = 86_400_000_000


class TokenRefused(AccessDenied):
    code = "token_refused"
    zh = "访问令牌无效、已过期或已撤销"
    en = "API token is invalid, expired or revoked"
    http_status = 401


@dataclass(frozen=True)
class IssuedToken:
    id: str
    secret: str
    expires_us: int


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def create_token(conn: Connection, *, username: str, expires_days: int = 30) -> IssuedToken:
    if not 1 <= expires_days <= 366:
        raise InvalidValue("expires_days", "between 1 and 366", "应在1到366之间")
    account = find_account(conn, username)
    if account is None:
        raise InvalidValue(
            "user", f"unknown or inactive user {username!r}", f"用户不存在或已停用 {username!r}"
        )
    raw = PREFIX + base64.urlsafe_b64encode(os.urandom(32)).rstrip(b"=").decode()
    token_id = secrets.token_hex(8)
    now = now_us()
    expires = now + expires_days * DAY_US
    conn.execute(
        insert(api_token).values(
            id=token_id,
            tenant_id=account.tenant_id,
            account_id=account.id,
            token_hash=_digest(raw),
            created_us=now,
            expires_us=expires,
            revoked_us=None,
        )
    )
    return IssuedToken(token_id, raw, expires)


def revoke_token(conn: Connection, *, token_id: str) -> bool:
    result = conn.execute(
        update(api_token)
        .where(api_token.c.id == token_id, api_token.c.revoked_us.is_(None))
        .values(revoked_us=now_us())
    )
    return bool(result.rowcount)


def authenticate(conn: Connection, secret: str) -> tuple[str, Account]:
    """``(token id, account)`` for a valid token; :class:`TokenRefused` otherwise."""
    row = conn.execute(
        select(api_token, user_account.c.username, user_account.c.active)
        .join(user_account, user_account.c.id == api_token.c.account_id)
        .where(api_token.c.token_hash == _digest(secret))
    ).first()
    if row is None or row.revoked_us is not None or row.expires_us <= now_us() or not row.active:
        raise TokenRefused()
    account = find_account(conn, row.username)
    if account is None:
        raise TokenRefused()
    return row.id, account
