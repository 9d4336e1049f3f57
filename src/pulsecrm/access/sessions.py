"""Server-side staff sessions: the cookie holds a random id, the table holds its SHA-256.

A session ends when it is idle longer than ``idle_timeout_minutes`` (H3), when
it reaches its absolute lifetime, at logout, or when an administrator changes
the account (role, second factor, deactivation). The id is replaced at login
and again when the second factor completes, so an id seen before login is
worthless after it (session fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, delete, or_, select, update

from pulsecrm.access.config import AuthConfig
from pulsecrm.access.errors import SessionRequired
from pulsecrm.access.tables import web_session
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.tables import user_account

PURGE_AFTER_US = 7 * 86_400_000_000
TOUCH_EVERY_US = 15_000_000
"""``last_seen`` is written at most this often (or a quarter of the idle timeout,
if shorter), so browsing does not cost a database write per click."""


@dataclass(frozen=True)
class SessionInfo:
    id_hash: bytes
    tenant_id: int
    account_id: int
    username: str
    display_name: str
    role: str
    mfa_done: bool
    created_us: int
    last_seen_us: int
    expires_us: int

    @property
    def key(self) -> str:
        """A stable, non-secret name for the session (CSRF binding, logs)."""
        return self.id_hash.hex()[:32]


def digest(raw: str) -> bytes:
    return hashlib.sha256(raw.encode()).digest()


def new_id() -> str:
    return secrets.token_urlsafe(32)


def create(
    conn: Connection,
    *,
    tenant_id: int,
    account_id: int,
    role: str,
    mfa_done: bool,
    config: AuthConfig,
) -> str:
    raw = new_id()
    now = now_us()
    # Housekeeping: the account's sessions that ended or expired over a week ago go
    # (the audit log keeps every login and logout; the table only serves live ones).
    conn.execute(
        delete(web_session).where(
            web_session.c.account_id == account_id,
            or_(web_session.c.ended_us.is_not(None), web_session.c.expires_us < now),
            web_session.c.last_seen_us < now - PURGE_AFTER_US,
        )
    )
    conn.execute(
        web_session.insert().values(
            id_hash=digest(raw),
            tenant_id=tenant_id,
            account_id=account_id,
            role=role,
            mfa_done=mfa_done,
            created_us=now,
            last_seen_us=now,
            expires_us=now + config.lifetime_us,
            ended_us=None,
        )
    )
    return raw


def load(conn: Connection, raw: str) -> tuple[SessionInfo, int | None, bool] | None:
    row = conn.execute(
        select(
            web_session,
            user_account.c.username,
            user_account.c.display_name,
            user_account.c.active,
            user_account.c.role.label("account_role"),
        )
        .join(user_account, user_account.c.id == web_session.c.account_id)
        .where(web_session.c.id_hash == digest(raw))
    ).first()
    if row is None:
        return None
    info = SessionInfo(
        row.id_hash,
        row.tenant_id,
        row.account_id,
        row.username,
        row.display_name,
        row.role,
        bool(row.mfa_done),
        row.created_us,
        row.last_seen_us,
        row.expires_us,
    )
    valid_account = bool(row.active) and row.account_role == row.role
    return info, row.ended_us, valid_account


def check(
    conn: Connection, raw: str | None, *, config: AuthConfig, now: int | None = None
) -> tuple[SessionInfo, str | None, bool]:
    """Read-only: ``(session, reason it must end or None, last_seen due for a write)``.

    Raises :class:`SessionRequired` for no, unknown or already ended sessions. Kept
    free of writes so the common request reads only (on SQLite a write transaction
    would queue behind the audit group commit).
    """
    if not raw:
        raise SessionRequired("none")
    loaded = load(conn, raw)
    if loaded is None:
        raise SessionRequired("unknown")
    info, ended, valid_account = loaded
    now = now_us() if now is None else now
    if ended is not None:
        raise SessionRequired("ended")
    reason = None
    if not valid_account:
        reason = "account changed"
    elif now - info.last_seen_us > config.idle_us:
        reason = "idle"
    elif now >= info.expires_us:
        reason = "lifetime"
    touch = now - info.last_seen_us > min(TOUCH_EVERY_US, config.idle_us // 4)
    return info, reason, touch


def touch(conn: Connection, *, id_hash: bytes, now: int | None = None) -> None:
    conn.execute(
        update(web_session)
        .where(web_session.c.id_hash == id_hash, web_session.c.ended_us.is_(None))
        .values(last_seen_us=now_us() if now is None else now)
    )


def resolve(
    conn: Connection, raw: str | None, *, config: AuthConfig, now: int | None = None
) -> SessionInfo:
    """The live session for cookie value ``raw`` (in a write transaction); :class:`SessionRequired`
    otherwise. An idle or expired session is ended here, so it can never be revived."""
    now = now_us() if now is None else now
    info, reason, due = check(conn, raw, config=config, now=now)
    if reason is not None:
        end(conn, raw=str(raw), now=now)
        raise SessionRequired(reason, username=info.username, tenant_id=info.tenant_id)
    if due:
        touch(conn, id_hash=info.id_hash, now=now)
    return info


def rotate(conn: Connection, *, raw: str, mfa_done: bool | None = None) -> str:
    """Give the session a new id (and optionally mark MFA done); the old id stops working."""
    fresh = new_id()
    values: dict[str, object] = {"id_hash": digest(fresh), "last_seen_us": now_us()}
    if mfa_done is not None:
        values["mfa_done"] = mfa_done
    result = conn.execute(
        update(web_session)
        .where(web_session.c.id_hash == digest(raw), web_session.c.ended_us.is_(None))
        .values(**values)
    )
    if not result.rowcount:
        raise SessionRequired("ended")
    return fresh


def end(conn: Connection, *, raw: str, now: int | None = None) -> bool:
    result = conn.execute(
        update(web_session)
        .where(web_session.c.id_hash == digest(raw), web_session.c.ended_us.is_(None))
        .values(ended_us=now_us() if now is None else now)
    )
    return bool(result.rowcount)


def end_all(conn: Connection, *, account_id: int) -> int:
    """End every live session of an account (role change, MFA reset, deactivation)."""
    result = conn.execute(
        update(web_session)
        .where(web_session.c.account_id == account_id, web_session.c.ended_us.is_(None))
        .values(ended_us=now_us())
    )
    return int(result.rowcount)
