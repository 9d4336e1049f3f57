"""The staff console in a real browser (Debian Chromium via Playwright), SQLite and PostgreSQL.

Each test saves screenshots under ``test-artifacts/screenshots/`` — look at them.
"""

from __future__ import annotations

import time
from typing import Any

import pyotp
import pytest

from pulsecrm.access.config import AuthConfig
from pulsecrm.kernel.runtime import Kernel
from tests.access.support import PASSWORD, add_person, enrol, make_user
from tests.helpers import audit_rows

DESKTOP = {"width": 1280, "height": 900}
XSS = "<img src=x onerror=\"document.title='pwned'\">"
PHONE, EMAIL, ID_NUMBER = "13812345678", "li.na@example.cn", "11010519491231002X"

pytestmark = [pytest.mark.xdist_group("browser"), pytest.mark.browser_context(viewport=DESKTOP)]


def _sign_in(page: Any, base: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/staff/")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def _totp(page: Any, secret: str) -> None:
    page.get_by_label("验证码或恢复码").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="验证").click()


@pytest.mark.req("H2", "H6")
def test_login_with_totp_then_lockout(
    app: Kernel, live_server: str, page: Any, new_context: Any, shot: Any
) -> None:
    owner = make_user(app, "amy.consult", "consultant")
    secret = enrol(app, "amy.consult")
    add_person(app, owner, {"name": "李娜", "phone": PHONE})
    _sign_in(page, live_server, "amy.consult")
    page.wait_for_url("**/staff/mfa**")
    shot(page, "second-factor")
    # Before the code: no page with personal data opens.
    page.goto(f"{live_server}/staff/people")
    assert "/staff/mfa" in page.url
    _totp(page, secret)
    page.wait_for_url(f"{live_server}/staff/")
    assert page.get_by_role("heading", level=1).inner_text() == "经营概览"
    shot(page, "dashboard")
    assert audit_rows(app, action="mfa", outcome="allowed")

    other = new_context(viewport=DESKTOP).new_page()
    for _ in range(5):
        _sign_in(other, live_server, "amy.consult", "not-the-password")
    alert = other.get_by_role("alert")
    assert "锁定" in alert.inner_text()
    shot(other, "locked")
    _sign_in(other, live_server, "amy.consult")  # the right password, still locked
    assert "锁定" in other.get_by_role("alert").inner_text()
    assert "/staff/login" in other.url
    assert len(audit_rows(app, action="lockout")) == 1


@pytest.mark.req("H3")
def test_idle_logoff_lands_on_login(
    app: Kernel, web_app: Any, live_server: str, page: Any, shot: Any
) -> None:
    web_app.state.auth_config = AuthConfig(idle_timeout_minutes=0.04)  # 2.4 seconds
    make_user(app, "bea.audit", "auditor")
    _sign_in(page, live_server, "bea.audit")
    page.wait_for_url(f"{live_server}/staff/")
    page.goto(f"{live_server}/staff/privacy/audit")
    assert page.get_by_role("heading", level=1).inner_text() == "审计日志"
    time.sleep(3)
    page.goto(f"{live_server}/staff/privacy/audit")
    assert "/staff/login" in page.url and "expired=1" in page.url
    assert "自动退出" in page.get_by_role("status").first.inner_text()
    shot(page, "idle-logged-off")
    ended = audit_rows(app, action="session_end")
    assert ended and ended[-1]["actor"] == "bea.audit"


@pytest.mark.req("H6", "D2")
def test_reveal_with_purpose_writes_exactly_one_audit_entry(
    app: Kernel, live_server: str, page: Any, shot: Any
) -> None:
    owner = make_user(app, "cai.consult", "consultant")
    secret = enrol(app, "cai.consult")
    pid = add_person(app, owner, {"name": "王芳", "phone": PHONE, "email": EMAIL})
    _sign_in(page, live_server, "cai.consult")
    _totp(page, secret)
    page.wait_for_url(f"{live_server}/staff/")
    page.goto(f"{live_server}/staff/people/{pid}")
    body = page.inner_text("main")
    assert PHONE not in body and EMAIL not in body and "138****5678" in body
    shot(page, "masked")
    before = len(audit_rows(app, action="reveal"))
    page.select_option("#purpose-phone", "service.followup")
    page.locator("#f-phone").get_by_role("button", name="显示").click()
    page.locator("#f-phone .revealed-value").wait_for()
    assert page.inner_text("#f-phone .revealed-value").endswith(PHONE)
    shot(page, "revealed")
    reveals = audit_rows(app, action="reveal")
    assert len(reveals) == before + 1
    entry = reveals[-1]
    assert (entry["actor"], entry["purpose"], entry["subject"], entry["fields"]) == (
        "cai.consult",
        "service.followup",
        pid,
        "phone",
    )
    # It hides itself again (htmx swaps the mask back in after 30 s).
    assert page.get_attribute("#f-phone", "hx-trigger") == "load delay:30s"


@pytest.mark.req("D2")
def test_xss_name_is_inert_and_identifiers_masked(
    app: Kernel, live_server: str, page: Any, shot: Any
) -> None:
    owner = make_user(app, "dan.consult", "consultant")
    secret = enrol(app, "dan.consult")
    pid = add_person(
        app, owner, {"name": XSS, "phone": PHONE, "email": EMAIL, "id_number": ID_NUMBER}
    )
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    _sign_in(page, live_server, "dan.consult")
    _totp(page, secret)
    page.wait_for_url(f"{live_server}/staff/")
    page.goto(f"{live_server}/staff/people")
    table = page.inner_text("#people-table")
    for secret_value in (PHONE, EMAIL, ID_NUMBER):
        assert secret_value not in table
    assert page.locator("#people-table img").count() == 0
    shot(page, "people-list")
    page.goto(f"{live_server}/staff/people/{pid}")
    main = page.inner_text("main")
    for secret_value in (PHONE, EMAIL, ID_NUMBER):
        assert secret_value not in main
    page.select_option("#purpose-name", "service.appointment")
    page.locator("#f-name").get_by_role("button", name="显示").click()
    page.locator("#f-name .revealed-value").wait_for()
    assert page.inner_text("#f-name .revealed-value") == XSS  # shown as text
    assert page.locator("main img").count() == 0
    assert page.title() != "pwned" and not dialogs
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
    shot(page, "xss-revealed-as-text")
