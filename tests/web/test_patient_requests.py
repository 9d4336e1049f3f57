"""The "my data" request form in a real browser (F1): recorded at once, with its legal due date."""

from __future__ import annotations

from typing import Any

import pytest

from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import clock
from pulsecrm.rights import requests as rights
from pulsecrm.store.engine import read_connection
from pulsecrm.web.templating import _datetime_us
from tests.helpers import ctx

pytestmark = pytest.mark.xdist_group("browser")


def _queue(app: Kernel) -> list[rights.RequestView]:
    officer = ctx(app, "privacy_officer", "compliance.dsr", actor="po.li")
    with read_connection(app.engine) as conn:
        return rights.list_queue(conn, app, officer)


@pytest.mark.req("F1")
def test_request_form_records_a_request_and_shows_its_due_date(
    live_server: str, page: Any, shot: Any, app: Kernel
) -> None:
    page.goto(f"{live_server}/p/requests")
    shot(page, "form")
    page.get_by_label("删除我的信息").check()
    page.get_by_label("姓名").fill("王小明")
    page.get_by_label("手机号").fill("138 0013 8000")
    page.get_by_label("补充说明").fill("我已不再就诊，请删除我的资料")
    page.get_by_role("button", name="提交请求").click()
    page.wait_for_url("**/p/requests/track/**")
    assert "已收到您的请求" in page.get_by_role("status").inner_text()
    [stored] = _queue(app)
    assert stored.request_type == "deletion" and stored.channel == "web_form"
    assert stored.status == "received" and not stored.verified
    assert stored.due_us == clock.due_us(stored.received_us)
    assert page.locator("#reference").inner_text() == stored.reference
    assert page.locator("#due-date").inner_text() == _datetime_us(stored.due_us, "%Y-%m-%d")
    assert stored.contact["phone"] != "13800138000"  # masked for the officer, sealed at rest
    shot(page, "recorded")
    # The tracking link works later, without a login, and shows no personal data.
    page.goto(page.locator("a", has_text="本页链接").get_attribute("href"))
    assert page.locator("#reference").inner_text() == stored.reference
    assert "王小明" not in page.content() and "13800138000" not in page.content()


@pytest.mark.req("F1")
def test_request_from_the_preference_link_is_tied_to_the_person(
    live_server: str, page: Any, app: Kernel, prefs_token: str
) -> None:
    page.goto(f"{live_server}/p/preferences/{prefs_token}")
    page.get_by_role("link", name="查看、复制、更正或删除我的信息").click()
    assert "您是通过本人专属链接进入的" in page.content()
    page.get_by_label("获取我的信息副本").check()
    page.get_by_role("button", name="提交请求").click()  # no contact details needed
    page.wait_for_url("**/p/requests/track/**")
    [stored] = _queue(app)
    assert stored.channel == "signed_link" and stored.linked_to_person
    assert stored.request_type == "copy"
    # Back on the preference centre, the request is listed with its due date.
    page.goto(f"{live_server}/p/preferences/{prefs_token}")
    listed = page.locator("#requests-title + ul").inner_text()
    assert stored.reference in listed and "获取我的信息副本" in listed
    assert _datetime_us(stored.due_us, "%Y-%m-%d") in listed


@pytest.mark.req("F1")
def test_errors_are_announced_and_named_per_field_in_the_users_language(
    live_server: str, page: Any, shot: Any, new_context: Any, app: Kernel
) -> None:
    page.goto(f"{live_server}/p/requests")
    page.get_by_label("更正我的信息").check()
    page.get_by_label("手机号").fill("12")
    page.get_by_role("button", name="提交请求").click()
    alert = page.get_by_role("alert")
    text = alert.inner_text()
    assert "手机号：" in text and "补充说明：" in text
    assert page.evaluate("document.activeElement.id") == "error-summary"  # focus moved there
    assert page.get_by_label("手机号").get_attribute("aria-invalid") == "true"
    assert page.get_by_label("补充说明").get_attribute("aria-invalid") == "true"
    described = page.get_by_label("手机号").get_attribute("aria-describedby")
    assert "error-phone" in described
    assert page.get_by_label("更正我的信息").is_checked()  # the choice is kept
    shot(page, "errors-zh")
    en = new_context(locale="en-GB").new_page()
    en.goto(f"{live_server}/p/requests")
    en.get_by_role("button", name="Send request").click()
    text = en.get_by_role("alert").inner_text()
    assert "What would you like to do:" in text and "Mobile number:" in text
    shot(en, "errors-en")
    assert _queue(app) == []  # nothing recorded
