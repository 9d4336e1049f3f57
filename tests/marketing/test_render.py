"""`campaigns.render` (the contract the sender uses): sender identity and opt-out filled in,
links rewritten for click tracking only when a click URL builder is given (C9), the
unsubscribe link never rewritten; e-mail gets an HTML part; `load_campaign` round-trips."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pulsecrm.marketing.campaigns import load_campaign, pick_template, render
from tests.crm.conftest import Clinic
from tests.marketing.population import campaign_for


@pytest.mark.req("C2", "C9")
def test_render_fills_sender_and_unsubscribe_and_tracks_links_only_when_asked(
    clinic: Clinic,
) -> None:
    cid = campaign_for(
        clinic,
        {"filter": "city", "in": ["上海"]},
        purpose="marketing.email",
        channel="email",
        templates={
            "zh-CN": {
                "subject": "{sender} 春季活动",
                "body": "{sender} 春季洁牙季 https://clinic.example/spring\n退订：{unsubscribe_url}",
            },
            "en": {
                "subject": "Spring at {sender}",
                "body": "Spring week https://clinic.example/spring by {sender}. "
                "Unsubscribe: {unsubscribe_url}",
            },
        },
    )
    with clinic.kernel.engine.connect() as conn:
        found = load_campaign(conn, clinic.tenant_id, cid)
    assert set(found.templates) == {"zh-CN", "en"} and found.status == "draft"
    unsub = "https://crm.example/u/tok123"
    plain = render(found, "zh-CN", unsubscribe_url=unsub, click_url=None)
    assert plain.subject == "示例口腔 春季活动"
    assert "https://clinic.example/spring" in plain.text and unsub in plain.text
    assert plain.html is not None and f'<a href="{unsub}">' in plain.html
    tracked = render(
        found, "en", unsubscribe_url=unsub, click_url=lambda u: f"https://t.example/c?u={len(u)}"
    )
    assert "https://t.example/c?u=29" in tracked.text and unsub in tracked.text
    assert "clinic.example/spring" not in tracked.text
    assert pick_template(found, "fr").locale == "zh-CN"


def test_sms_sender_is_the_signature(clinic: Clinic) -> None:
    cid = campaign_for(clinic, {"filter": "city", "in": ["上海"]})
    with clinic.kernel.engine.connect() as conn:
        found = load_campaign(conn, clinic.tenant_id, cid)
    message = render(found, "zh-CN", unsubscribe_url=None, click_url=None)
    assert message.text.startswith("【示例口腔】") and message.html is None
    assert message.text.endswith("回复TD退订")


def test_medical_ad_certificate_round_trips_as_a_date(clinic: Clinic) -> None:
    expires = date.today() + timedelta(days=30)
    cid = campaign_for(
        clinic,
        {"filter": "city", "in": ["上海"]},
        medical_ad=True,
        templates={
            "zh-CN": {
                "body": "{sender}门诊部，诊疗科目：口腔科。广告 回复TD退订",
                "review_cert_id": "（沪）医广【2026】第12-03-001号",
                "review_cert_expires": expires.isoformat(),
            }
        },
    )
    with clinic.kernel.engine.connect() as conn:
        found = load_campaign(conn, clinic.tenant_id, cid)
    assert found.medical_ad and found.templates["zh-CN"].review_cert_expires == expires
