"""Consent capture in a real browser (B2): boxes unchecked, separate boxes, evidence, receipt."""

from __future__ import annotations

from typing import Any

import pytest

from pulsecrm.consent import service
from pulsecrm.consent.ledger import events_of
from pulsecrm.consent.receipts import open_evidence
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection
from tests.helpers import ctx
from tests.web.conftest import DESKTOP

pytestmark = pytest.mark.xdist_group("browser")


def _person_by_phone(app: Kernel, phone: str) -> str:
    who = ctx(app, "consultant")
    found = app.vault.find_by(who, "phone", phone)
    assert len(found) == 1, found
    return found[0].subject_id


@pytest.mark.req("B2", "B4")
def test_every_consent_box_is_unchecked_at_first(
    live_server: str, page: Any, shot: Any, capture_form: str, new_context: Any
) -> None:
    response = page.goto(f"{live_server}/p/forms/{capture_form}")
    assert response.status == 200
    boxes = page.locator("input[type=checkbox]")
    # sms, email, health x3 channels, partner sharing: one box per purpose and channel.
    assert boxes.count() == 6
    for i in range(boxes.count()):
        assert boxes.nth(i).is_checked() is False
        assert boxes.nth(i).get_attribute("checked") is None
    # Health data and third-party provision each sit apart, in their own fieldset.
    health = page.locator("#separate-marketing-personalized_health")
    sharing = page.locator("#separate-sharing-partner")
    assert health.locator("input[type=checkbox]").count() == 3
    assert sharing.locator("input[type=checkbox]").count() == 1
    assert "单独同意" in health.locator("legend").inner_text()
    # The notice is on the page in plain language, with the handler and the rights.
    assert "示例口腔诊所" in page.locator("#notice-title + p + dl").inner_text()
    shot(page, "phone")
    # No horizontal scrolling on a phone.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    desktop = new_context(viewport=DESKTOP).new_page()
    desktop.goto(f"{live_server}/p/forms/{capture_form}")
    shot(desktop, "desktop")


@pytest.mark.req("B2", "B3", "B4")
def test_submit_records_only_the_ticked_boxes_with_evidence_and_shows_a_receipt(
    live_server: str, page: Any, shot: Any, capture_form: str, app: Kernel, notices: dict[str, str]
) -> None:
    page.goto(f"{live_server}/p/forms/{capture_form}")
    page.get_by_label("姓名").fill("张三")
    page.get_by_label("手机号").fill("13900139000")
    page.get_by_label("健康问卷").fill("牙龈出血两周")
    page.locator("#consent-marketing-sms-sms").check()
    page.locator("#consent-marketing-personalized_health-sms").check()
    page.locator("#consent-marketing-personalized_health-email").check()
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/p/receipt/**")
    assert page.get_by_role("heading", level=1).inner_text() == "已收到您的信息"
    receipt = page.locator("#chosen-title + ul").inner_text()
    assert "短信营销" in receipt and "基于健康信息的个性化推荐" in receipt
    assert "邮件营销" not in receipt
    shot(page, "receipt")

    person = _person_by_phone(app, "13900139000")
    with read_connection(app.engine) as conn, conn.begin():
        status = service.status(conn, app, app.tenant_id(), person)
        events = list(events_of(conn, app.tenant_id(), person))
    granted = {(c["purpose"], c["channel"]) for c in status["consents"]}
    assert granted == {
        ("marketing.sms", "sms"),
        ("marketing.personalized_health", "sms"),
        ("marketing.personalized_health", "email"),
    }
    # Silence is not consent, and not a refusal either: nothing else was recorded.
    assert {e["kind"] for e in events} == {"grant"}
    assert all(e["notice_hash"] == notices["zh-CN"] for e in events)
    assert all(e["method"] == "web_form" and e["origin"] == "subject" for e in events)
    assert all(e["evidence_digest"] for e in events)
    # The evidence (IP, user agent) is sealed under the person's key; the officer can open it.
    officer = ctx(app, "privacy_officer", "compliance.dsr", actor="po.li")
    with read_connection(app.engine) as conn:
        items = open_evidence(app, officer, app.tenant_id(), person, conn)
    opened = app.records.open(officer, items, reveal=True)
    assert "127.0.0.1" in opened
    assert any(v and "HeadlessChrome" in v for v in opened)


@pytest.mark.req("B4", "D1")
def test_health_answers_without_the_separate_box_are_refused_on_the_field(
    live_server: str, page: Any, shot: Any, capture_form: str, app: Kernel
) -> None:
    page.goto(f"{live_server}/p/forms/{capture_form}")
    page.get_by_label("姓名").fill("李四")
    page.get_by_label("手机号").fill("13600136000")
    page.get_by_label("健康问卷").fill("怕疼")
    page.locator("#consent-marketing-sms-sms").check()
    page.get_by_role("button", name="提交").click()
    alert = page.get_by_role("alert")
    assert "健康问卷" in alert.inner_text() and "单独同意" in alert.inner_text()
    field = page.get_by_label("健康问卷")
    assert field.get_attribute("aria-invalid") == "true"
    assert field.input_value() == "怕疼"  # what they typed is kept
    assert page.locator("#consent-marketing-sms-sms").is_checked()  # and what they ticked
    shot(page, "refused")
    with pytest.raises(AssertionError):
        _person_by_phone(app, "13600136000")  # nothing stored


@pytest.mark.req("B2")
@pytest.mark.browser_context(locale="en-US")
def test_capture_form_in_english(live_server: str, page: Any, shot: Any, capture_form: str) -> None:
    page.goto(f"{live_server}/p/forms/{capture_form}")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("button", name="Send").is_visible()
    assert "Example Dental Clinic" in page.locator("#notice-title + p + dl").inner_text()
    assert all(
        not page.locator("input[type=checkbox]").nth(i).is_checked()
        for i in range(page.locator("input[type=checkbox]").count())
    )
    shot(page, "en")


@pytest.mark.req("B3", "A2")
def test_a_notice_replaced_while_the_form_was_open_is_shown_again_before_consent(
    live_server: str, page: Any, shot: Any, capture_form: str, app: Kernel
) -> None:
    from tests.consent.conftest import notice_doc, publish

    page.goto(f"{live_server}/p/forms/{capture_form}")
    shown = page.locator("input[name=notice_hash]").input_value()
    changed = notice_doc(label="2026-12", retention="最后一次就诊后2年")
    newer = publish(app, changed)
    page.get_by_label("姓名").fill("王五")
    page.get_by_label("手机号").fill("13700137001")
    page.locator("#consent-marketing-email-email").check()
    page.get_by_role("button", name="提交").click()
    alert = page.get_by_role("alert")
    assert "告知刚刚更新了" in alert.inner_text()
    assert "最后一次就诊后2年" in page.locator("#field-notice_hash").inner_text()
    assert page.locator("input[name=notice_hash]").input_value() == newer != shown
    assert page.locator("#consent-marketing-email-email").is_checked()
    shot(page, "superseded")
    page.get_by_role("button", name="提交").click()
    page.wait_for_url("**/p/receipt/**")
    person = _person_by_phone(app, "13700137001")
    with read_connection(app.engine) as conn, conn.begin():
        [event] = list(events_of(conn, app.tenant_id(), person))
    assert event["notice_hash"] == newer
