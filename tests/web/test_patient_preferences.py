"""The preference centre in a real browser (B9): signed link, history, one-click withdrawal."""

from __future__ import annotations

import time
from typing import Any

import pytest

from pulsecrm.consent import service
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.tokens import make_link_token
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection
from tests.consent.conftest import decide
from tests.helpers import ctx

pytestmark = pytest.mark.xdist_group("browser")


def _states(app: Kernel, person: str) -> dict[tuple[str, str], str]:
    with read_connection(app.engine) as conn, conn.begin():
        found = service.status(conn, app, app.tenant_id(), person)["consents"]
    return {(c["purpose"], c["channel"]): c["status"] for c in found}


def _sms_readable(app: Kernel, person: str) -> bool:
    reader = ctx(app, "consultant", "marketing.sms", channel="sms")
    return bool(app.vault.read(reader, [person], ["phone"])[0].values.get("phone"))


class Clicks:
    """Counts the clicks a person makes, so the two paths can be compared (B9)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, locator: Any) -> None:
        self.count += 1
        locator.click()


@pytest.mark.req("B9")
def test_preference_centre_from_a_signed_link_lists_every_consent_with_history(
    live_server: str,
    page: Any,
    shot: Any,
    app: Kernel,
    person: str,
    prefs_token: str,
    notices: dict[str, str],
) -> None:
    decide(app, person, notices["zh-CN"], ("marketing.sms", "sms", Kind.GRANT))
    decide(app, person, notices["zh-CN"], ("marketing.email", "email", Kind.GRANT))
    decide(app, person, notices["zh-CN"], ("marketing.email", "email", Kind.WITHDRAW))
    decide(app, person, notices["zh-CN"], ("marketing.email", "email", Kind.GRANT))
    response = page.goto(f"{live_server}/p/preferences/{prefs_token}")
    assert response.status == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"  # the link never leaks
    sms = page.locator("#purpose-marketing-sms")
    email = page.locator("#purpose-marketing-email")
    assert "已同意" in sms.inner_text() and "已同意" in email.inner_text()
    # History: every event of that consent, newest first.
    email.locator("summary").click()
    history = email.locator(".history li").all_inner_texts()
    assert len(history) == 3
    assert "同意" in history[0] and "撤回" in history[1]
    # Purposes not agreed to are offered unticked (health, partner, the rest).
    assert page.locator("#purpose-sharing-partner input[type=checkbox]").is_checked() is False
    assert page.locator("input[type=checkbox]:checked").count() == 0
    shot(page, "phone")
    # One click: withdrawn, effective for the very next read; no login, no confirmation page.
    page.get_by_role("button", name="撤回：短信营销（短信）").click()
    page.wait_for_url("**done=withdrawn**")
    assert "已撤回" in page.get_by_role("status").inner_text()
    assert _states(app, person)[("marketing.sms", "sms")] == "withdrawn"
    assert not _sms_readable(app, person)
    assert "您已撤回" in sms.inner_text()
    shot(page, "withdrawn")


@pytest.mark.req("B9")
def test_withdrawing_takes_no_more_clicks_than_giving(
    live_server: str, page: Any, shot: Any, app: Kernel, person: str, prefs_token: str
) -> None:
    page.goto(f"{live_server}/p/preferences/{prefs_token}")
    give = Clicks()
    give(page.get_by_label("我同意：短信营销"))
    give(page.get_by_role("button", name="保存我的选择"))
    page.wait_for_url("**done=given**")
    assert _states(app, person)[("marketing.sms", "sms")] == "granted"
    assert _sms_readable(app, person)
    shot(page, "given")

    withdraw = Clicks()
    withdraw(page.get_by_role("button", name="撤回：短信营销（短信）"))
    page.wait_for_url("**done=withdrawn**")
    assert _states(app, person)[("marketing.sms", "sms")] == "withdrawn"
    assert withdraw.count == 1 and withdraw.count <= give.count

    # Withdraw all: one click for everything, however many consents there are.
    give_all = Clicks()
    for label in ("我同意：短信营销", "我同意：邮件营销"):
        give_all(page.get_by_label(label))
    give_all(page.get_by_role("button", name="保存我的选择"))
    page.wait_for_url("**done=given**")
    withdraw_all = Clicks()
    withdraw_all(page.get_by_role("button", name="撤回全部同意"))
    page.wait_for_url("**done=withdrawn_all**")
    assert set(_states(app, person).values()) == {"withdrawn"}
    assert withdraw_all.count == 1 < give_all.count
    assert page.get_by_role("button", name="撤回全部同意").count() == 0
    shot(page, "withdrawn-all")


@pytest.mark.req("B9")
def test_expired_or_tampered_link_shows_a_friendly_page(
    live_server: str, page: Any, shot: Any, app: Kernel, person: str, prefs_token: str
) -> None:
    expired = make_link_token(app, app.tenant_id(), person, now=time.time() - 91 * 86400)
    response = page.goto(f"{live_server}/p/preferences/{expired}")
    assert response.status == 410
    assert "text/html" in response.headers["content-type"]
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    alert = page.get_by_role("alert")
    assert "链接已失效" in alert.inner_text() and "如何获取新链接" in alert.inner_text()
    body = page.content()
    assert "Traceback" not in body and person not in body
    shot(page, "expired")
    # A withdrawal posted through an expired link changes nothing and explains the same way.
    with read_connection(app.engine) as conn, conn.begin():
        before = service.status(conn, app, app.tenant_id(), person)
    posted = page.request.post(f"{live_server}/p/preferences/{expired}/withdraw-all")
    assert posted.status in (403, 410)
    with read_connection(app.engine) as conn, conn.begin():
        assert service.status(conn, app, app.tenant_id(), person) == before

    payload, mac = prefs_token.split(".")
    tampered = f"{payload}.{mac[:-2]}{'AA' if not mac.endswith('AA') else 'BB'}"
    response = page.goto(f"{live_server}/p/preferences/{tampered}")
    assert response.status == 403
    assert "链接已失效" in page.get_by_role("alert").inner_text()
    # A receipt or request-tracking link is not a preference link.
    other = make_link_token(app, app.tenant_id(), person, scope="receipt:x")
    assert page.goto(f"{live_server}/p/preferences/{other}").status == 403
    shot(page, "tampered")


@pytest.mark.req("B9")
def test_locale_switch_on_the_preference_centre(
    live_server: str, page: Any, shot: Any, person: str, prefs_token: str
) -> None:
    page.goto(f"{live_server}/p/preferences/{prefs_token}")
    assert page.get_by_role("heading", level=1).inner_text() == "我的同意与偏好"
    page.get_by_role("link", name="English").click()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "My consents and preferences"
    assert page.get_by_label("I agree: SMS marketing").is_checked() is False
    shot(page, "en")
    # The choice sticks (cookie) on the next page, without ?lang=.
    page.goto(f"{live_server}/p/requests")
    assert page.get_by_role("heading", level=1).inner_text() == "My data requests"
    page.get_by_role("link", name="中文").click()
    assert page.locator("html").get_attribute("lang") == "zh-CN"


@pytest.mark.req("A2", "B5")
def test_consent_to_renew_after_a_material_notice_change_is_confirmed_on_the_page(
    live_server: str,
    page: Any,
    shot: Any,
    app: Kernel,
    person: str,
    prefs_token: str,
    notices: dict[str, str],
) -> None:
    from tests.consent.conftest import notice_doc, publish

    decide(app, person, notices["zh-CN"], ("marketing.sms", "sms", Kind.GRANT))
    changed = notice_doc(label="2026-12")
    changed["purposes"][1]["text"] = "经您同意，通过短信发送优惠和新品信息，回复TD退订。"
    publish(app, changed)
    assert not _sms_readable(app, person)  # paused until the person confirms again
    page.goto(f"{live_server}/p/preferences/{prefs_token}")
    sms = page.locator("#purpose-marketing-sms")
    assert "告知已更新" in sms.inner_text()
    renew = page.get_by_label("按新告知再次确认：短信营销（短信）")
    assert renew.is_checked() is False
    renew.check()
    page.get_by_role("button", name="保存我的选择").click()
    page.wait_for_url("**done=given**")
    assert _sms_readable(app, person)
    assert "告知已更新" not in sms.inner_text()
    shot(page, "renewed")
