"""Login throttling: failures counted per account name and per client address.

The counter is keyed by the name *as typed*, whether or not such an account
exists, so "locked" is said of real and invented names alike (no username
enumeration). A key that reaches its limit inside the window is locked for
``lockout_minutes``; a success clears the account key (not the address key, so
one valid login cannot launder an address's guessing); an administrator can
unlock early.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert, select, update

from pulsecrm.access.config import AuthConfig
from pulsecrm.access.tables import login_throttle


def user_key(username: str) -> str:
    return "user:" + username.strip().lower()[:150]


def ip_key(ip: str | None) -> str:
    return "ip:" + (ip or "unknown")[:100]


def locked_until(conn: Connection, *, tenant_id: int, keys: list[str], now: int) -> int | None:
    """The latest lock expiry among ``keys`` still in force, or ``None``."""
    rows = conn.execute(
        select(login_throttle.c.locked_until_us).where(
            login_throttle.c.tenant_id == tenant_id,
            login_throttle.c.key.in_(keys),
            login_throttle.c.locked_until_us > now,
        )
    ).scalars()
    until = [int(r) for r in rows if r is not None]
    return max(until) if until else None


def record_failure(
    conn: Connection, *, tenant_id: int, key: str, limit: int, config: AuthConfig, now: int
) -> bool:
    """Count one failure for ``key``; ``True`` when this failure locks it."""
    row = conn.execute(
        select(login_throttle).where(
            login_throttle.c.tenant_id == tenant_id, login_throttle.c.key == key
        )
    ).first()
    if row is None or now - row.first_failure_us > config.window_us:
        failures, first = 1, now
    else:
        failures, first = row.failures + 1, row.first_failure_us
    locks = failures >= limit
    values = {
        "failures": 0 if locks else failures,
        "first_failure_us": first,
        "locked_until_us": now + config.lockout_us if locks else None,
    }
    if row is None:
        conn.execute(insert(login_throttle).values(tenant_id=tenant_id, key=key, **values))
    else:
        conn.execute(
            update(login_throttle)
            .where(login_throttle.c.tenant_id == tenant_id, login_throttle.c.key == key)
            .values(**values)
        )
    return locks


def clear(conn: Connection, *, tenant_id: int, key: str) -> bool:
    """Forget failures and any lock on ``key``; ``True`` if there was a lock in force."""
    result = conn.execute(
        delete(login_throttle).where(
            login_throttle.c.tenant_id == tenant_id, login_throttle.c.key == key
        )
    )
    return bool(result.rowcount)
