"""Template lint (C2) and medical-ad lint (C6): golden positive and negative samples,
robust to spacing, full-width forms and punctuation; quiet hours; HIPAA classes (C7)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest

from pulsecrm.marketing.ad_lint import banned_claims, check_certificate, lint_ad
from pulsecrm.marketing.errors import AdRejected, TemplateRejected
from pulsecrm.marketing.hipaa import classify
from pulsecrm.marketing.quiet_hours import next_allowed_us
from pulsecrm.marketing.template_lint import lint_template

SENDER = "示例口腔"


def _lint(channel: str, body: str, subject: str | None = None, locale: str = "zh-CN") -> None:
    lint_template(channel=channel, locale=locale, body=body, subject=subject, sender_name=SENDER)


@pytest.mark.req("C2")
@pytest.mark.parametrize(
    ("channel", "body", "locale"),
    [
        ("sms", "{sender}春季洁牙季，欢迎预约。回复TD退订", "zh-CN"),
        ("sms", "【示例口腔】春季洁牙季。回复 ＴＤ 退订", "zh-CN"),
        ("sms", "{sender} Spring cleaning week. Reply TD to unsubscribe", "en"),
        ("sms", "{sender} Spring cleaning week. reply td to UNSUBSCRIBE.", "en"),
        ("wechat", "{sender} 春季活动 退订：{unsubscribe_url}", "zh-CN"),
        ("outbox", "{sender} 春季活动，回T退订", "zh-CN"),
    ],
)
def test_templates_with_sender_and_opt_out_pass(channel: str, body: str, locale: str) -> None:
    _lint(channel, body, locale=locale)


def test_email_template_with_subject_sender_and_unsubscribe_link_passes() -> None:
    _lint("email", "{sender} 春季洁牙季。\n退订：{unsubscribe_url}", subject="春季活动")


@pytest.mark.req("C2")
@pytest.mark.parametrize(
    ("channel", "body", "subject", "field", "rule"),
    [
        ("sms", "春季洁牙季，欢迎预约。回复TD退订", None, "body", "sender_identity_required"),
        ("sms", "{sender}春季洁牙季，欢迎预约。", None, "body", "unsubscribe_required"),
        ("sms", "{sender}春季洁牙季 {unsubscribe_url}", None, "body", "unsubscribe_required"),
        ("email", "{sender} 春季洁牙季。回复TD退订", "春季", "body", "unsubscribe_required"),
        ("email", "{sender} 退订 {unsubscribe_url}", None, "subject", "required"),
        ("sms", "{sender}{name}您好，回复TD退订", None, "body", "unknown_placeholder"),
        ("wechat", "{sender} 春季活动", None, "body", "unsubscribe_required"),
    ],
)
def test_templates_without_sender_or_opt_out_are_refused_naming_the_rule(
    channel: str, body: str, subject: str | None, field: str, rule: str
) -> None:
    with pytest.raises(TemplateRejected) as caught:
        _lint(channel, body, subject)
    assert caught.value.field == f"templates.zh-CN.{field}"
    assert caught.value.code == rule
    assert rule in caught.value.message("en")


# -- C6 -------------------------------------------------------------------------------
BANNED = [
    ("cure_guarantee", "种植牙保证治愈，无效退款"),
    ("cure_guarantee", "保 证-治 愈"),
    ("cure_guarantee", "牙周病包治"),
    ("cure_guarantee", "Guaranteed   cure for gum disease"),
    ("cure_rate", "本院治愈率高达９５％"),
    ("cure_rate", "有 效 率 98%"),
    ("cure_rate", "98%的患者满意"),
    ("cure_rate", "Our success rate is 99%"),
    ("superlative", "上海最佳口腔医院"),
    ("superlative", "国家级专家坐诊"),
    ("superlative", "全国第一"),
    ("superlative", "顶·级·设·备"),
    ("superlative", "The BEST clinic in town"),
    ("superlative", "Ｎｏ．１ implant centre"),
    ("testimonial", "患者现身说法：三天恢复"),
    ("testimonial", "康复案例分享"),
    ("testimonial", "see our patient testimonial"),
    ("endorsement", "专家推荐的种植方案"),
    ("endorsement", "Doctor recommended whitening"),
    ("absolute_safety", "无痛拔牙，无副作用"),
    ("absolute_safety", "零 风 险"),
    ("absolute_safety", "Painless and risk-free"),
    ("absolute_safety", "no side\u200beffects"),
    ("price_lure", "种植牙限时秒杀"),
    ("price_lure", "洁牙5折"),
    ("price_lure", "Free treatment this week"),
]
CLEAN = [
    "示例口腔门诊部，地址：上海市徐汇区示例路1号，诊疗科目：口腔科，接诊时间9:00-18:00。广告",
    "第一次就诊请携带身份证；最好提前预约。",
    "Example Dental Clinic, 1 Example Road. Open 9-18. Reply STOP to unsubscribe. Ad",
    "Stop by our new branch; topics: dental hygiene.",
]


@pytest.mark.req("C6")
@pytest.mark.parametrize(("category", "text"), BANNED)
def test_each_banned_claim_is_caught_and_named(category: str, text: str) -> None:
    found = banned_claims(text)
    assert category in [f.category for f in found], found
    hit = next(f for f in found if f.category == category)
    assert hit.phrase and hit.law


@pytest.mark.req("C6")
@pytest.mark.parametrize("text", CLEAN)
def test_clean_creatives_pass(text: str) -> None:
    assert banned_claims(text) == []


TODAY = date(2026, 12, 3)
CERT = "（沪）医广【2026】第12-03-001号"


@pytest.mark.req("C6")
def test_a_clean_labelled_medical_ad_with_a_valid_certificate_passes() -> None:
    lint_ad(
        locale="zh-CN",
        body=CLEAN[0],
        subject=None,
        cert_id=CERT,
        expires=TODAY + timedelta(days=200),
        on=TODAY,
    )


@pytest.mark.req("C6")
@pytest.mark.parametrize(
    ("cert", "expires", "body", "field", "rule"),
    [
        (
            None,
            TODAY + timedelta(days=10),
            CLEAN[0],
            "review_cert_id",
            "review_certificate_required",
        ),
        (
            "12345",
            TODAY + timedelta(days=10),
            CLEAN[0],
            "review_cert_id",
            "review_certificate_required",
        ),
        (CERT, None, CLEAN[0], "review_cert_expires", "review_certificate_required"),
        (
            CERT,
            TODAY - timedelta(days=1),
            CLEAN[0],
            "review_cert_expires",
            "review_certificate_expired",
        ),
        (
            CERT,
            TODAY + timedelta(days=800),
            CLEAN[0],
            "review_cert_expires",
            "review_certificate_implausible",
        ),
        (CERT, TODAY + timedelta(days=10), "种植牙保证治愈 广告", "body", "banned_cure_guarantee"),
        (CERT, TODAY + timedelta(days=10), "示例口腔门诊部，欢迎来电", "body", "ad_label_required"),
    ],
)
def test_medical_ads_are_refused_without_a_valid_certificate_label_or_with_banned_claims(
    cert: str | None, expires: date | None, body: str, field: str, rule: str
) -> None:
    with pytest.raises(AdRejected) as caught:
        lint_ad(locale="zh-CN", body=body, subject=None, cert_id=cert, expires=expires, on=TODAY)
    assert (caught.value.field, caught.value.code) == (f"templates.zh-CN.{field}", rule)


def test_the_ad_error_names_the_offending_phrase_in_both_languages() -> None:
    with pytest.raises(AdRejected) as caught:
        lint_ad(
            locale="zh-CN",
            body="治愈率95%，国家级专家 广告",
            subject=None,
            cert_id=CERT,
            expires=TODAY + timedelta(days=10),
            on=TODAY,
        )
    assert "治愈率" in caught.value.message("zh-CN") and "国家级" in caught.value.message("en")


def test_certificate_number_formats() -> None:
    for good in (CERT, "沪医广[2025]第0312001号", "(粤)医广【2026】第11-20-1234号"):
        check_certificate(locale="zh-CN", cert_id=good, expires=TODAY, on=TODAY)


# -- quiet hours ----------------------------------------------------------------------
def _us(local: str, tz: str = "Asia/Shanghai") -> int:
    from zoneinfo import ZoneInfo

    at = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(tz))
    return int(at.astimezone(UTC).timestamp() * 1_000_000)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-12-03 12:00", "2026-12-03 12:00"),
        ("2026-12-03 21:00", "2026-12-04 08:00"),
        ("2026-12-03 23:59", "2026-12-04 08:00"),
        ("2026-12-04 03:00", "2026-12-04 08:00"),
        ("2026-12-04 08:00", "2026-12-04 08:00"),
    ],
)
def test_quiet_hours_default_21_to_08_in_the_campaign_time_zone(now: str, expected: str) -> None:
    window = SimpleNamespace(timezone="Asia/Shanghai", quiet_start_min=1260, quiet_end_min=480)
    assert next_allowed_us(window, _us(now)) == _us(expected)  # type: ignore[arg-type]


def test_quiet_hours_follow_daylight_saving_time() -> None:
    window = SimpleNamespace(timezone="America/New_York", quiet_start_min=1260, quiet_end_min=480)
    # the night the clocks go forward: 08:00 local is still 08:00 on the wall
    got = next_allowed_us(window, _us("2026-03-08 01:00", "America/New_York"))  # type: ignore[arg-type]
    assert got == _us("2026-03-08 08:00", "America/New_York")


# -- C7 -------------------------------------------------------------------------------
@pytest.mark.req("C7")
@pytest.mark.parametrize(
    ("uses_phi", "declared", "sponsor_paid", "expected"),
    [
        (False, None, False, None),
        (True, None, False, "marketing"),
        (True, "treatment", False, "treatment"),
        (True, "care_coordination", False, "care_coordination"),
        (True, "operations", False, "operations"),
        (True, "fundraising", False, "fundraising"),
        (True, "treatment", True, "marketing"),
        (True, "refill_reminder", True, "refill_reminder"),
    ],
)
def test_hipaa_classification(
    uses_phi: bool, declared: str | None, sponsor_paid: bool, expected: str | None
) -> None:
    assert classify(uses_phi=uses_phi, declared=declared, sponsor_paid=sponsor_paid) == expected
