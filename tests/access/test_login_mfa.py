"""Login, second factor, lockout and sessions against real SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import select

from pulsecrm.access import login, sessions, totp, users
from pulsecrm.access.config import AuthConfig
from pulsecrm.access.errors import (
    LoginLocked,
    LoginRefused,
    SecondFactorRefused,
    SecondFactorRequired,
    SessionRequired,
)
from pulsecrm.access.roles import assignable_roles, mfa_required
from pulsecrm.access.tables import mfa_recovery_code, mfa_totp
from pulsecrm.kernel.accounts import create_account
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel
from tests.access.conftest import PASSWORD, make_user
from tests.helpers import audit_rows

IP = "192.0.2.10"


def _enrolled(kernel: Kernel, config: AuthConfig, username: str, role: str) -> tuple[str, str]:
    """Log in, enrol a TOTP factor; returns (session id, base32 secret)."""
    make_user(kernel, username, role)
    result = login.password_login(
        kernel, username=username, password=PASSWORD, ip=IP, config=config
    )
    assert result.next_step == "enrol"
    info = login.current_session(kernel, result.session, config=config, need_mfa=False)
    enrolment = login.begin_enrolment(kernel, info, config=config)
    done = login.confirm_enrolment(
        kernel,
        result.session,
        info,
        code=pyotp.TOTP(enrolment.secret).now(),
        ip=IP,
        config=config,
    )
    assert len(done.recovery_codes) == 10
    return done.session, enrolment.secret


@pytest.mark.req("H2")
def test_mfa_is_required_for_every_role_that_can_reveal(app: Kernel) -> None:
    required = {r for r in app.catalog.roles if mfa_required(app.catalog, r)}
    for role in ("consultant", "branch_manager", "front_desk", "privacy_officer", "admin"):
        assert role in required
    assert "auditor" not in required
    for role in required - {"admin"}:
        assert any(g.reveal for g in app.catalog.roles[role].grants)
    assert "break_glass" not in assignable_roles(app.catalog)


@pytest.mark.req("H2", "H6")
def test_revealing_role_without_second_factor_is_refused(app: Kernel, config: AuthConfig) -> None:
    make_user(app, "amy.consult", "consultant")
    result = login.password_login(
        app, username="amy.consult", password=PASSWORD, ip=IP, config=config
    )
    assert result.next_step == "enrol"
    with pytest.raises(SecondFactorRequired) as refused:
        login.current_session(app, result.session, config=config)
    assert refused.value.http_status == 401
    # An auditor (no personal data) needs no second factor.
    make_user(app, "zed.auditor", "auditor")
    plain = login.password_login(
        app, username="zed.auditor", password=PASSWORD, ip=IP, config=config
    )
    assert plain.next_step == "done"
    assert login.current_session(app, plain.session, config=config).role == "auditor"
    logins = audit_rows(app, action="login", outcome="allowed")
    assert {r["actor"] for r in logins} == {"amy.consult", "zed.auditor"}


@pytest.mark.req("H2", "H6")
def test_totp_login_rotates_session_and_refuses_replay(app: Kernel, config: AuthConfig) -> None:
    enrolled_session, secret = _enrolled(app, config, "ben.consult", "consultant")
    assert login.current_session(app, enrolled_session, config=config).mfa_done
    # The factor secret is stored sealed, never in clear.
    with app.engine.connect() as conn:
        blob = conn.execute(select(mfa_totp.c.secret_sealed)).scalar_one()
    assert secret.encode() not in bytes(blob)
    login.logout(app, enrolled_session, ip=IP)
    with pytest.raises(SessionRequired):
        login.current_session(app, enrolled_session, config=config)

    result = login.password_login(
        app, username="ben.consult", password=PASSWORD, ip=IP, config=config
    )
    assert result.next_step == "verify"
    info = login.current_session(app, result.session, config=config, need_mfa=False)
    # Wait for a fresh step: the enrolment already spent the current one.
    code = pyotp.TOTP(secret)
    step = int(time.time() // 30)
    while int(time.time() // 30) == step:
        time.sleep(0.2)
    now_code = code.now()
    fresh = login.verify_second_factor(
        app, result.session, info, code=now_code, ip=IP, config=config
    )
    assert fresh != result.session
    with pytest.raises(SessionRequired):  # the pre-MFA id stopped working
        login.current_session(app, result.session, config=config, need_mfa=False)
    assert login.current_session(app, fresh, config=config).mfa_done

    # The same code, again (another login): refused as a replay.
    again = login.password_login(
        app, username="ben.consult", password=PASSWORD, ip=IP, config=config
    )
    info2 = login.current_session(app, again.session, config=config, need_mfa=False)
    with pytest.raises(SecondFactorRefused):
        login.verify_second_factor(app, again.session, info2, code=now_code, ip=IP, config=config)
    assert audit_rows(app, action="mfa", outcome="denied")


@pytest.mark.req("H2")
def test_totp_window_and_replay_at_the_service(app: Kernel) -> None:
    account_id = make_user(app, "cai.consult", "consultant")
    tenant = app.tenant_id()
    with app.engine.begin() as conn:
        enrolment = totp.begin_enrolment(
            conn, app, tenant_id=tenant, account_id=account_id, username="cai", issuer="T"
        )
    assert enrolment.uri.startswith("otpauth://totp/")
    assert enrolment.qr_svg_data_uri.startswith("data:image/svg+xml")
    otp = pyotp.TOTP(enrolment.secret)
    t0 = 1_800_000_000.0

    def check(code: str, at: float, confirm: bool = False) -> bool:
        with app.engine.begin() as conn:
            return totp.verify_code(
                conn,
                app,
                tenant_id=tenant,
                account_id=account_id,
                code=code,
                at=at,
                confirm=confirm,
            )

    assert not check(otp.at(t0), t0)  # pending: not usable until confirmed
    assert check(otp.at(t0), t0, confirm=True)
    assert not check(otp.at(t0), t0)  # replay of the same step
    assert not check(otp.at(t0 - 30), t0 + 1)  # an older step, even inside the window
    assert check(otp.at(t0 + 60), t0 + 30)  # +1 step drift accepted
    assert not check(otp.at(t0 + 200), t0 + 60)  # outside ±1 step
    assert not check("12345", t0 + 90)


@pytest.mark.req("H2")
def test_recovery_code_works_once(app: Kernel, config: AuthConfig) -> None:
    make_user(app, "dan.consult", "consultant")
    result = login.password_login(
        app, username="dan.consult", password=PASSWORD, ip=IP, config=config
    )
    info = login.current_session(app, result.session, config=config, need_mfa=False)
    enrolment = login.begin_enrolment(app, info, config=config)
    done = login.confirm_enrolment(
        app, result.session, info, code=pyotp.TOTP(enrolment.secret).now(), ip=IP, config=config
    )
    with app.engine.connect() as conn:
        hashes = [r.code_hash for r in conn.execute(select(mfa_recovery_code))]
    assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
    assert not any(code in h for code in done.recovery_codes for h in hashes)
    code = done.recovery_codes[3]
    first = login.password_login(
        app, username="dan.consult", password=PASSWORD, ip=IP, config=config
    )
    info = login.current_session(app, first.session, config=config, need_mfa=False)
    assert login.verify_second_factor(app, first.session, info, code=code, ip=IP, config=config)
    second = login.password_login(
        app, username="dan.consult", password=PASSWORD, ip=IP, config=config
    )
    info = login.current_session(app, second.session, config=config, need_mfa=False)
    with pytest.raises(SecondFactorRefused):
        login.verify_second_factor(app, second.session, info, code=code, ip=IP, config=config)
    used = audit_rows(app, action="mfa", outcome="allowed")
    assert '"method":"recovery_code"' in str(used[-1]["detail"])


@pytest.mark.req("H2", "H6")
def test_lockout_after_repeated_failures_uniform_for_unknown_names(
    app: Kernel, config: AuthConfig
) -> None:
    make_user(app, "eve.desk", "front_desk")
    make_user(app, "ola.admin", "admin")
    for _attempt in range(4):
        with pytest.raises(LoginRefused) as refused:
            login.password_login(app, username="eve.desk", password="wrong", ip=IP, config=config)
    unknown_msgs = []
    for _attempt in range(4):
        with pytest.raises(LoginRefused) as unknown:
            login.password_login(
                app, username="nobody.here", password="wrong", ip=IP, config=config
            )
        unknown_msgs.append(unknown.value.message("en"))
    assert refused.value.message("en") == unknown_msgs[0]  # no enumeration
    with pytest.raises(LoginLocked):
        login.password_login(app, username="eve.desk", password="wrong", ip=IP, config=config)
    with pytest.raises(LoginLocked):  # even the right password, while locked
        login.password_login(app, username="eve.desk", password=PASSWORD, ip=IP, config=config)
    with pytest.raises(LoginLocked):  # an invented name locks the same way
        login.password_login(app, username="nobody.here", password="wrong", ip=IP, config=config)
    # The lock is per name: another user from the same address still logs in.
    assert login.password_login(
        app, username="ola.admin", password=PASSWORD, ip=IP, config=config
    ).session
    with app.engine.begin() as conn:
        assert users.unlock(
            conn,
            app,
            tenant_id=app.tenant_id(),
            actor="ola.admin",
            actor_role="admin",
            username="eve.desk",
        )
    assert (
        login.password_login(
            app, username="eve.desk", password=PASSWORD, ip=IP, config=config
        ).next_step
        == "enrol"
    )
    assert len(audit_rows(app, action="lockout")) == 2
    assert len(audit_rows(app, action="unlock")) == 1
    assert len(audit_rows(app, action="login", outcome="denied")) >= 10


@pytest.mark.req("H2")
def test_lockout_per_address(app: Kernel) -> None:
    config = AuthConfig(login_max_failures=50, login_ip_max_failures=3)
    make_user(app, "fay.desk2", "front_desk")
    for name in ("a.one", "b.two"):
        with pytest.raises(LoginRefused):
            login.password_login(app, username=name, password="x", ip="198.51.100.7", config=config)
    with pytest.raises(LoginLocked):
        login.password_login(
            app, username="c.three", password="x", ip="198.51.100.7", config=config
        )
    with pytest.raises(LoginLocked):
        login.password_login(
            app, username="fay.desk2", password=PASSWORD, ip="198.51.100.7", config=config
        )
    assert login.password_login(
        app, username="fay.desk2", password=PASSWORD, ip="198.51.100.8", config=config
    )


@pytest.mark.req("H3", "H6")
def test_idle_session_is_refused_and_ended(app: Kernel) -> None:
    config = AuthConfig(idle_timeout_minutes=0.02)  # 1.2 seconds
    make_user(app, "gus.auditor", "auditor")
    result = login.password_login(
        app, username="gus.auditor", password=PASSWORD, ip=IP, config=config
    )
    assert login.current_session(app, result.session, config=config)
    time.sleep(1.5)
    with pytest.raises(SessionRequired) as idle:
        login.current_session(app, result.session, config=config)
    assert idle.value.detail == "idle"
    # Ended for good: a later request, even within a long timeout, is refused.
    with pytest.raises(SessionRequired):
        login.current_session(app, result.session, config=AuthConfig())
    ended = audit_rows(app, action="session_end")
    assert ended and ended[-1]["actor"] == "gus.auditor" and "idle" in str(ended[-1]["detail"])


@pytest.mark.req("H3")
def test_default_idle_timeout_is_fifteen_minutes_and_absolute_lifetime(app: Kernel) -> None:
    assert AuthConfig().idle_timeout_minutes == 15
    config = AuthConfig()
    account = make_user(app, "hal.auditor", "auditor")
    with app.engine.begin() as conn:
        raw = sessions.create(
            conn,
            tenant_id=app.tenant_id(),
            account_id=account,
            role="auditor",
            mfa_done=False,
            config=config,
        )
        info = sessions.resolve(conn, raw, config=config)
        with pytest.raises(SessionRequired):
            sessions.resolve(conn, raw, config=config, now=info.last_seen_us + config.idle_us + 1)
        raw2 = sessions.create(
            conn,
            tenant_id=app.tenant_id(),
            account_id=account,
            role="auditor",
            mfa_done=False,
            config=AuthConfig(session_max_hours=0.001),
        )
        info2 = sessions.resolve(conn, raw2, config=config)
        with pytest.raises(SessionRequired):
            sessions.resolve(conn, raw2, config=config, now=info2.created_us + 3_700_000)


@pytest.mark.req("H1")
def test_unique_named_accounts_only(app: Kernel) -> None:
    make_user(app, "ivy.consult", "consultant")
    tenant = app.tenant_id()
    with pytest.raises(InvalidValue) as dup:
        make_user(app, "ivy.consult", "front_desk")
    assert dup.value.field == "username"
    with app.engine.begin() as conn, pytest.raises(InvalidValue) as shared:
        create_account(
            conn,
            app.catalog,
            tenant_id=tenant,
            username="north.desk",
            display_name="desk",
            role="front_desk",
            password=PASSWORD,
            shared=True,
        )
    assert shared.value.field == "shared"
    with app.engine.begin() as conn, pytest.raises(InvalidValue):
        users.create_user(
            conn,
            app,
            tenant_id=tenant,
            actor="x",
            actor_role="admin",
            username="frontdesk",
            display_name="generic",
            role="front_desk",
            password=PASSWORD,
        )
    with app.engine.begin() as conn, pytest.raises(InvalidValue):
        users.create_user(
            conn,
            app,
            tenant_id=tenant,
            actor="x",
            actor_role="admin",
            username="bg.user",
            display_name="bg",
            role="break_glass",
            password=PASSWORD,
        )


@pytest.mark.req("H2", "H6")
def test_admin_changes_end_sessions(app: Kernel, config: AuthConfig) -> None:
    session, _secret = _enrolled(app, config, "joy.consult", "consultant")
    make_user(app, "kim.privacy", "privacy_officer")
    with app.engine.connect() as conn:
        joy = next(
            u
            for u in users.list_users(conn, app, tenant_id=app.tenant_id())
            if u["username"] == "joy.consult"
        )
    assert joy["mfa"] == "active" and joy["mfa_required"]
    with app.engine.begin() as conn:
        users.reset_mfa(
            conn,
            app,
            tenant_id=app.tenant_id(),
            actor="kim.privacy",
            actor_role="privacy_officer",
            account_id=joy["id"],
        )
    with pytest.raises(SessionRequired):
        login.current_session(app, session, config=config)
    again = login.password_login(
        app, username="joy.consult", password=PASSWORD, ip=IP, config=config
    )
    assert again.next_step == "enrol"
    assert audit_rows(app, action="mfa_reset")
