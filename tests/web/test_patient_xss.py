"""Script typed into a name or free text, or stored by staff, is shown as text, never run."""

from __future__ import annotations

from typing import Any

import pytest

from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import requests as rights
from pulsecrm.store.engine import read_connection
from tests.consent.conftest import notice_doc, publish
from tests.helpers import ctx

pytestmark = pytest.mark.xdist_group("browser")

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"


def _watch_dialogs(page: Any) -> list[str]:
    fired: list[str] = []

    def on_dialog(dialog: Any) -> None:
        fired.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    return fired


def test_payload_as_a_name_and_in_free_text_is_inert(
    live_server: str, page: Any, shot: Any, capture_form: str, app: Kernel
) -> None:
    fired = _watch_dialogs(page)
    # As a person's name on the capture form (stored, then shown again beside an error).
    page.goto(f"{live_server}/p/forms/{capture_form}")
    page.get_by_label("姓名").fill(IMG)
    page.get_by_label("手机号").fill("not-a-phone")
    page.get_by_label("健康问卷").fill(SCRIPT)
    page.get_by_role("button", name="提交").click()
    assert page.get_by_label("姓名").input_value() == IMG
    assert page.get_by_label("健康问卷").input_value() == SCRIPT
    assert page.locator("img[src=x]").count() == 0
    assert "&lt;script&gt;" in page.content()
    # In the free-text field of a data request, stored and shown to the officer.
    page.goto(f"{live_server}/p/requests")
    page.get_by_label("请诊所解释").check()
    page.get_by_label("姓名").fill(IMG)
    page.get_by_label("电子邮箱").fill("x@example.com")
    page.get_by_label("补充说明").fill(SCRIPT + IMG)
    page.get_by_role("button", name="提交请求").click()
    page.wait_for_url("**/p/requests/track/**")
    officer = ctx(app, "privacy_officer", "compliance.dsr", actor="po.li")
    with read_connection(app.engine) as conn:
        [stored] = rights.list_queue(conn, app, officer)
    with app.engine.begin() as conn:
        rights.extend(conn, officer, request_id=stored.id, reason=SCRIPT + " " + IMG)
    page.reload()
    assert SCRIPT + " " + IMG in page.locator("dl.facts").inner_text()  # shown as text
    assert page.locator("dl.facts img").count() == 0
    page.wait_for_timeout(300)
    assert fired == []
    shot(page, "inert")


def test_a_notice_with_markup_is_shown_as_text(
    live_server: str, page: Any, shot: Any, app: Kernel
) -> None:
    fired = _watch_dialogs(page)
    doc = notice_doc()
    doc["handler"] = {"name": IMG, "contact": SCRIPT}
    publish(app, doc)
    page.goto(f"{live_server}/p/notice")
    handler = page.locator("dl.facts dd").first.inner_text()
    assert IMG in handler and SCRIPT in handler
    assert page.locator("main img").count() == 0
    page.wait_for_timeout(300)
    assert fired == []
    shot(page, "notice")
