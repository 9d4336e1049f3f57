"""The staff login flow: password, second factor, session, logout — each step audited.

Unlike the capability services, these functions own their transactions: a
refused login must still commit its failure count and its audit entry before
the refusal is raised, and a success commits the new session with its entry.

Steps:

1. :func:`password_login` checks throttling, then the Argon2id password; on
   success it opens a session that has *not* completed the second factor and
   says what comes next (``done``, ``verify`` or ``enrol``).
2. :func:`begin_enrolment` / :func:`confirm_enrolment` (first login of a role
   that needs MFA) or :func:`verify_second_factor` (TOTP or a recovery code)
   complete it; the session id is rotated.
3. :func:`current_session` resolves the cookie on every request and enforces
   idle and absolute timeouts (H3) and the MFA requirement (H2).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection

from pulsecrm.access import audit, sessions, throttle, totp
from pulsecrm.access.config import AuthConfig
from pulsecrm.access.errors import (
    LoginLocked,
    LoginRefused,
    SecondFactorRefused,
    SecondFactorRequired,
    SessionRequired,
)
from pulsecrm.access.roles import NOT_ASSIGNABLE, mfa_required
from pulsecrm.access.sessions import SessionInfo
from pulsecrm.kernel.accounts import find_account, verify_password
from pulsecrm.kernel.audit_records import Outcome, now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection


@dataclass(frozen=True)
class LoginResult:
    session: str
    next_step: str  # "done" | "verify" | "enrol"
    username: str
    role: str


@dataclass(frozen=True)
class EnrolmentDone:
    session: str
    recovery_codes: list[str]


def _needs_second_factor(conn: Connection, kernel: Kernel, role: str, account_id: int) -> str:
    state = totp.status(conn, account_id=account_id)
    if state == "active":
        return "verify"
    return "enrol" if mfa_required(kernel.catalog, role) else "done"


def password_login(
    kernel: Kernel,
    *,
    username: str,
    password: str,
    ip: str | None,
    config: AuthConfig,
    via: str = "web",
) -> LoginResult:
    """Check throttle and password; open a session. Raises one uniform refusal."""
    tenant_id = kernel.tenant_id()
    keys = [throttle.user_key(username), throttle.ip_key(ip)]
    typed = username.strip()[:100] or "-"
    detail = {"via": via, "ip": ip or "unknown"}
    now = now_us()
    with kernel.engine.begin() as conn:
        if throttle.locked_until(conn, tenant_id=tenant_id, keys=keys, now=now):
            audit.record(
                conn,
                kernel,
                tenant_id,
                [
                    audit.event(
                        typed,
                        "anonymous",
                        audit.LOGIN,
                        Outcome.DENIED,
                        {**detail, "reason": "locked"},
                    )
                ],
            )
            locked = True
        else:
            locked = False
    if locked:
        raise LoginLocked()
    with kernel.engine.begin() as conn:
        account = find_account(conn, typed)
        ok = (
            account is not None
            and account.tenant_id == tenant_id
            and account.role not in NOT_ASSIGNABLE
            and verify_password(conn, typed, password)
        )
        if account is None or not ok:
            events = [
                audit.event(
                    typed,
                    "anonymous",
                    audit.LOGIN,
                    Outcome.DENIED,
                    {**detail, "reason": "credentials"},
                )
            ]
            locks = [
                key
                for key, limit in zip(
                    keys, (config.login_max_failures, config.login_ip_max_failures), strict=True
                )
                if throttle.record_failure(
                    conn, tenant_id=tenant_id, key=key, limit=limit, config=config, now=now
                )
            ]
            events += [
                audit.event(
                    typed,
                    "anonymous",
                    audit.LOCKOUT,
                    Outcome.DENIED,
                    {**detail, "key": k.split(":", 1)[0], "minutes": config.lockout_minutes},
                )
                for k in locks
            ]
            audit.record(conn, kernel, tenant_id, events)
        else:
            throttle.clear(conn, tenant_id=tenant_id, key=keys[0])
            step = _needs_second_factor(conn, kernel, account.role, account.id)
            raw = sessions.create(
                conn,
                tenant_id=tenant_id,
                account_id=account.id,
                role=account.role,
                mfa_done=False,
                config=config,
            )
            audit.record(
                conn,
                kernel,
                tenant_id,
                [
                    audit.event(
                        account.username,
                        account.role,
                        audit.LOGIN,
                        Outcome.ALLOWED,
                        {**detail, "next": step},
                    )
                ],
            )
            return LoginResult(raw, step, account.username, account.role)
    if locks:
        raise LoginLocked()
    raise LoginRefused()


def current_session(
    kernel: Kernel, raw: str | None, *, config: AuthConfig, need_mfa: bool = True
) -> SessionInfo:
    """The live session behind cookie ``raw``.

    Raises :class:`SessionRequired` (no, ended, idle or expired session — the
    ending is committed and audited) or, when ``need_mfa``, :class:`SecondFactorRequired`
    for a session whose role needs a second factor it has not completed.
    """
    with read_connection(kernel.engine) as conn, conn.begin():
        info, reason, due = sessions.check(conn, raw, config=config)
    if reason is not None:
        with kernel.engine.begin() as conn:
            if sessions.end(conn, raw=str(raw)):
                audit.record(
                    conn,
                    kernel,
                    info.tenant_id,
                    [
                        audit.event(
                            info.username,
                            info.role,
                            audit.SESSION_END,
                            Outcome.ALLOWED,
                            {"reason": reason},
                        )
                    ],
                )
        raise SessionRequired(reason, username=info.username, tenant_id=info.tenant_id)
    if due:
        with kernel.engine.begin() as conn:
            sessions.touch(conn, id_hash=info.id_hash)
    if need_mfa and not info.mfa_done and needs_mfa(kernel, info):
        raise SecondFactorRequired()
    return info


def needs_mfa(kernel: Kernel, info: SessionInfo) -> bool:
    """Does this session need a completed second factor before it may do anything?"""
    if mfa_required(kernel.catalog, info.role):
        return True
    with read_connection(kernel.engine) as conn, conn.begin():
        return totp.status(conn, account_id=info.account_id) == "active"


def mfa_state(kernel: Kernel, info: SessionInfo) -> str:
    with kernel.engine.connect() as conn:
        return totp.status(conn, account_id=info.account_id)


def begin_enrolment(kernel: Kernel, info: SessionInfo, *, config: AuthConfig) -> totp.Enrolment:
    with kernel.engine.begin() as conn:
        pending = totp.pending_enrolment(
            conn,
            kernel,
            tenant_id=info.tenant_id,
            account_id=info.account_id,
            username=info.username,
            issuer=config.totp_issuer,
        )
        if pending is not None:
            return pending
        return totp.begin_enrolment(
            conn,
            kernel,
            tenant_id=info.tenant_id,
            account_id=info.account_id,
            username=info.username,
            issuer=config.totp_issuer,
        )


def _refuse_code(
    kernel: Kernel, info: SessionInfo, config: AuthConfig, action: str, ip: str | None
) -> None:
    """Count a wrong code against the account like a wrong password (and audit it)."""
    now = now_us()
    with kernel.engine.begin() as conn:
        locked = throttle.record_failure(
            conn,
            tenant_id=info.tenant_id,
            key=throttle.user_key(info.username),
            limit=config.login_max_failures,
            config=config,
            now=now,
        )
        events = [
            audit.event(info.username, info.role, action, Outcome.DENIED, {"ip": ip or "unknown"})
        ]
        if locked:
            sessions.end_all(conn, account_id=info.account_id)
            events.append(
                audit.event(
                    info.username,
                    info.role,
                    audit.LOCKOUT,
                    Outcome.DENIED,
                    {"key": "user", "minutes": config.lockout_minutes},
                )
            )
        audit.record(conn, kernel, info.tenant_id, events)
    if locked:
        raise LoginLocked()
    raise SecondFactorRefused()


def confirm_enrolment(
    kernel: Kernel, raw: str, info: SessionInfo, *, code: str, ip: str | None, config: AuthConfig
) -> EnrolmentDone:
    """First code from the new authenticator: activate it, issue recovery codes, rotate."""
    with kernel.engine.begin() as conn:
        ok = totp.verify_code(
            conn,
            kernel,
            tenant_id=info.tenant_id,
            account_id=info.account_id,
            code=code,
            confirm=True,
        )
        if ok:
            codes = totp.issue_recovery_codes(
                conn,
                tenant_id=info.tenant_id,
                account_id=info.account_id,
                count=config.recovery_codes,
            )
            fresh = sessions.rotate(conn, raw=raw, mfa_done=True)
            audit.record(
                conn,
                kernel,
                info.tenant_id,
                [
                    audit.event(
                        info.username,
                        info.role,
                        audit.MFA_ENROL,
                        Outcome.ALLOWED,
                        {"ip": ip or "unknown", "recovery_codes": len(codes)},
                    )
                ],
            )
            return EnrolmentDone(fresh, codes)
    _refuse_code(kernel, info, config, audit.MFA_ENROL, ip)
    raise AssertionError("unreachable")


def verify_second_factor(
    kernel: Kernel, raw: str, info: SessionInfo, *, code: str, ip: str | None, config: AuthConfig
) -> str:
    """A TOTP code or a recovery code completes the login; returns the rotated session id."""
    with kernel.engine.begin() as conn:
        if throttle.locked_until(
            conn, tenant_id=info.tenant_id, keys=[throttle.user_key(info.username)], now=now_us()
        ):
            sessions.end(conn, raw=raw)
            locked = True
        else:
            locked = False
    if locked:
        raise LoginLocked()
    with kernel.engine.begin() as conn:
        method = "totp"
        ok = totp.verify_code(
            conn, kernel, tenant_id=info.tenant_id, account_id=info.account_id, code=code
        )
        if not ok and "-" in code:
            method = "recovery_code"
            ok = totp.use_recovery_code(conn, account_id=info.account_id, code=code)
        if ok:
            throttle.clear(conn, tenant_id=info.tenant_id, key=throttle.user_key(info.username))
            fresh = sessions.rotate(conn, raw=raw, mfa_done=True)
            detail: dict[str, object] = {"ip": ip or "unknown", "method": method}
            if method == "recovery_code":
                detail["recovery_codes_left"] = totp.remaining_recovery_codes(
                    conn, account_id=info.account_id
                )
            audit.record(
                conn,
                kernel,
                info.tenant_id,
                [audit.event(info.username, info.role, audit.MFA, Outcome.ALLOWED, detail)],
            )
            return fresh
    _refuse_code(kernel, info, config, audit.MFA, ip)
    raise AssertionError("unreachable")


def logout(kernel: Kernel, raw: str | None, *, ip: str | None) -> bool:
    if not raw:
        return False
    with kernel.engine.begin() as conn:
        loaded = sessions.load(conn, raw)
        ended = sessions.end(conn, raw=raw)
        if ended and loaded is not None:
            info = loaded[0]
            audit.record(
                conn,
                kernel,
                info.tenant_id,
                [
                    audit.event(
                        info.username,
                        info.role,
                        audit.LOGOUT,
                        Outcome.ALLOWED,
                        {"ip": ip or "unknown"},
                    )
                ],
            )
    return ended
