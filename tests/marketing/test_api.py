"""The marketing API: segments and campaigns end to end, 4xx naming field and rule on bad
input (never a 5xx), role refusal (audited), masked previews, lints at save time (C2, C6),
HIPAA authorisation gate at launch (C7), personalisation switch (C4)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pulsecrm.access.tokens import create_token
from pulsecrm.api.app import create_app
from pulsecrm.consent.ledger import Kind
from pulsecrm.kernel.runtime import Kernel
from tests.consent.conftest import decide, notice_doc
from tests.crm.conftest import Clinic
from tests.helpers import audit_rows, ctx
from tests.marketing.population import SMS_BODY, grant, person, publish

SMS = ("marketing.sms", "sms")
CERT = "（沪）医广【2026】第12-03-001号"
CLEAN_AD = "{sender}门诊部，地址：上海市徐汇区示例路1号，诊疗科目：口腔科。广告 回复TD退订"


@pytest.fixture
def client(clinic: Clinic, installed: object) -> Iterator[TestClient]:
    app = create_app(installed, kernel=clinic.kernel)  # type: ignore[arg-type]
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _auth(kernel: Kernel, user: str, role: str) -> dict[str, str]:
    who = ctx(kernel, role, actor=user)
    with kernel.engine.begin() as conn:
        issued = create_token(conn, username=who.actor)
    return {"Authorization": f"Bearer {issued.secret}", "Accept-Language": "en"}


@pytest.fixture
def mm(clinic: Clinic) -> dict[str, str]:
    return _auth(clinic.kernel, "li.marketing", "marketing_manager")


def _segment(client: TestClient, mm: dict[str, str], **over: Any) -> str:
    body = {
        "name": "上海抖音",
        "purpose": "marketing.sms",
        "definition": {"all": [{"filter": "city", "in": ["上海"]}]},
        **over,
    }
    r = client.post("/api/v1/segments", headers=mm, json=body)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def _campaign_body(segment_id: str, **over: Any) -> dict[str, Any]:
    return {
        "name": "春季活动",
        "purpose": "marketing.sms",
        "channel": "sms",
        "segment_id": segment_id,
        "sender_name": "示例口腔",
        "templates": {"zh-CN": {"body": SMS_BODY}},
        **over,
    }


def _error(r: Any) -> tuple[int, str, str]:
    e = r.json()["error"]
    return r.status_code, e["field"], e["rule"]


@pytest.mark.req("B5", "C1")
def test_segment_to_scheduled_campaign_end_to_end(
    clinic: Clinic, client: TestClient, mm: dict[str, str]
) -> None:
    k = clinic.kernel
    notice = publish(k)
    a = person(k, city="上海")
    person(k, city="上海")
    grant(k, notice, a, SMS)
    seg = _segment(client, mm)
    assert client.get(f"/api/v1/segments/{seg}", headers=mm).json()["purpose"] == "marketing.sms"
    assert client.get("/api/v1/segments", headers=mm).json()["total"] == 1
    preview = client.post(f"/api/v1/segments/{seg}/preview", headers=mm).json()
    assert preview["count"] == 2
    [sample] = preview["sample"]  # only people the vault may show for the purpose
    assert sample["person_id"] == a and "*" in sample["phone"] and sample["name"] != "测试"
    made = client.post("/api/v1/campaigns", headers=mm, json=_campaign_body(seg))
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert made.json()["status"] == "draft" and made.json()["quiet_start_min"] == 1260
    patched = client.patch(f"/api/v1/campaigns/{cid}", headers=mm, json={"frequency_cap": 3})
    assert patched.status_code == 200 and patched.json()["frequency_cap"] == 3
    early = client.post(f"/api/v1/campaigns/{cid}/schedule", headers=mm, json={})
    assert _error(early) == (409, "audience", "audience_not_built")
    report = client.post(f"/api/v1/campaigns/{cid}/audience", headers=mm).json()
    assert report["included"] == 1 and report["excluded"] == {"no_consent": 1}
    assert report["order"][0] == "personalisation_off"
    at = "2030-01-15T23:00:00+08:00"  # in quiet hours: moved to 08:00 next morning
    scheduled = client.post(f"/api/v1/campaigns/{cid}/schedule", headers=mm, json={"at": at})
    assert scheduled.status_code == 200, scheduled.text
    body = scheduled.json()
    assert body["status"] == "scheduled" and body["audience"]["included"] == 1
    from datetime import datetime

    assert body["scheduled_us"] == int(
        datetime.fromisoformat("2030-01-16T08:00:00+08:00").timestamp() * 1_000_000
    )
    locked = client.patch(f"/api/v1/campaigns/{cid}", headers=mm, json={"frequency_cap": 1})
    assert _error(locked) == (409, "status", "not_draft")
    cancelled = client.post(f"/api/v1/campaigns/{cid}/cancel", headers=mm)
    assert cancelled.json()["status"] == "cancelled"
    again = client.post(f"/api/v1/campaigns/{cid}/cancel", headers=mm)
    assert _error(again) == (409, "status", "not_cancellable")
    listed = client.get("/api/v1/campaigns?status=cancelled", headers=mm).json()
    assert [c["id"] for c in listed["items"]] == [cid]
    actions = {(r["action"], r["outcome"]) for r in audit_rows(k, actor="li.marketing")}
    assert {("create", "allowed"), ("write", "allowed"), ("read", "allowed")} <= actions


@pytest.mark.parametrize(
    ("path", "body", "status", "field", "rule"),
    [
        (
            "/api/v1/segments",
            {"name": "x", "purpose": "marketing.sms"},
            422,
            "definition",
            "missing",
        ),
        (
            "/api/v1/segments",
            {"name": "x", "purpose": "marketing.sms", "definition": {"all": [{"filter": "city"}]}},
            422,
            "definition.all[0].in",
            "missing",
        ),
        (
            "/api/v1/segments",
            {"name": "x", "purpose": "service.followup", "definition": {"all": []}},
            422,
            "purpose",
            "marketing_purpose_required",
        ),
        (
            "/api/v1/segments",
            {"name": "x", "purpose": "marketing.sms", "definition": {"all": []}, "extra": 1},
            422,
            "extra",
            "extra_forbidden",
        ),
        (
            "/api/v1/segments/preview",
            {
                "purpose": "marketing.sms",
                "definition": {"any": [{"filter": "age", "min": 50, "max": 20}]},
            },
            422,
            "definition.any[0]",
            "value_error",
        ),
        ("/api/v1/campaigns", {"name": "x"}, 422, "purpose", "missing"),
    ],
)
def test_bad_input_is_a_4xx_naming_field_and_rule(
    client: TestClient,
    mm: dict[str, str],
    path: str,
    body: dict[str, Any],
    status: int,
    field: str,
    rule: str,
) -> None:
    r = client.post(path, headers=mm, json=body)
    assert _error(r) == (status, field, rule), r.text
    assert field in r.json()["error"]["message"]


@pytest.mark.req("C2", "C6")
@pytest.mark.parametrize(
    ("over", "status", "field", "rule"),
    [
        (
            {"templates": {"zh-CN": {"body": "春季洁牙季，回复TD退订"}}},
            422,
            "templates.zh-CN.body",
            "sender_identity_required",
        ),
        (
            {"templates": {"zh-CN": {"body": "{sender}春季洁牙季"}}},
            422,
            "templates.zh-CN.body",
            "unsubscribe_required",
        ),
        (
            {"templates": {"en": {"body": "{sender} Spring offers"}}},
            422,
            "templates.en.body",
            "unsubscribe_required",
        ),
        (
            {
                "channel": "email",
                "templates": {"zh-CN": {"subject": "春季", "body": "{sender} 回复TD退订"}},
            },
            422,
            "channel",
            "channel_not_in_purpose",
        ),
        (
            {
                "purpose": "marketing.email",
                "channel": "email",
                "templates": {"zh-CN": {"subject": "春季", "body": "{sender} 回复TD退订"}},
            },
            422,
            "templates.zh-CN.body",
            "unsubscribe_required",
        ),
        (
            {"purpose": "marketing.analytics", "channel": "sms"},
            422,
            "purpose",
            "marketing_purpose_required",
        ),
        (
            {"medical_ad": True, "templates": {"zh-CN": {"body": CLEAN_AD}}},
            422,
            "templates.zh-CN.review_cert_id",
            "review_certificate_required",
        ),
        (
            {
                "medical_ad": True,
                "templates": {
                    "zh-CN": {
                        "body": CLEAN_AD,
                        "review_cert_id": CERT,
                        "review_cert_expires": (date.today() - timedelta(days=2)).isoformat(),
                    }
                },
            },
            422,
            "templates.zh-CN.review_cert_expires",
            "review_certificate_expired",
        ),
        (
            {
                "medical_ad": True,
                "templates": {
                    "zh-CN": {
                        "body": "{sender}种植牙 治 愈 率 98%！广告 回复TD退订",
                        "review_cert_id": CERT,
                        "review_cert_expires": (date.today() + timedelta(days=90)).isoformat(),
                    }
                },
            },
            422,
            "templates.zh-CN.body",
            "banned_cure_rate",
        ),
        ({"quiet_start_min": 1500}, 422, "quiet_start_min", "less_than_equal"),
        ({"timezone": "Mars/Olympus"}, 422, "timezone", "timezone"),
    ],
)
def test_campaigns_that_break_a_rule_cannot_be_saved(
    client: TestClient,
    mm: dict[str, str],
    over: dict[str, Any],
    status: int,
    field: str,
    rule: str,
) -> None:
    seg = _segment(client, mm)
    r = client.post("/api/v1/campaigns", headers=mm, json=_campaign_body(seg, **over))
    assert _error(r) == (status, field, rule), r.text
    assert client.get("/api/v1/campaigns", headers=mm).json()["total"] == 0


@pytest.mark.req("C6")
def test_a_clean_medical_ad_with_a_valid_certificate_is_saved_and_its_expiry_rechecked_at_launch(
    clinic: Clinic, client: TestClient, mm: dict[str, str]
) -> None:
    seg = _segment(client, mm)
    expires = date.today() + timedelta(days=20)
    template = {
        "body": CLEAN_AD,
        "review_cert_id": CERT,
        "review_cert_expires": expires.isoformat(),
    }
    r = client.post(
        "/api/v1/campaigns",
        headers=mm,
        json=_campaign_body(seg, medical_ad=True, templates={"zh-CN": template}),
    )
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    assert client.post(f"/api/v1/campaigns/{cid}/audience", headers=mm).status_code == 200
    late = (date.today() + timedelta(days=40)).isoformat() + "T10:00:00+08:00"
    refused = client.post(f"/api/v1/campaigns/{cid}/schedule", headers=mm, json={"at": late})
    assert _error(refused) == (
        422,
        "templates.zh-CN.review_cert_expires",
        "review_certificate_expired",
    )
    soon = (date.today() + timedelta(days=5)).isoformat() + "T10:00:00+08:00"
    ok = client.post(f"/api/v1/campaigns/{cid}/schedule", headers=mm, json={"at": soon})
    assert ok.status_code == 200 and ok.json()["status"] == "scheduled"


@pytest.mark.req("B5", "C4")
def test_a_health_segment_only_feeds_a_personalised_health_campaign(
    client: TestClient, mm: dict[str, str]
) -> None:
    health = {"all": [{"filter": "health_tag", "any_of": ["种植意向"]}]}
    r = client.post(
        "/api/v1/segments",
        headers=mm,
        json={"name": "h", "purpose": "marketing.sms", "definition": health},
    )
    assert _error(r) == (422, "definition.all[0].filter", "health_filter_needs_purpose")
    seg = _segment(client, mm, purpose="marketing.personalized_health", definition=health)
    wrong = client.post("/api/v1/campaigns", headers=mm, json=_campaign_body(seg))
    assert _error(wrong) == (422, "segment_id", "purpose_mismatch")
    right = client.post(
        "/api/v1/campaigns",
        headers=mm,
        json=_campaign_body(seg, purpose="marketing.personalized_health"),
    )
    assert right.status_code == 201, right.text


@pytest.mark.parametrize(
    ("user", "role"),
    [("amy.consultant", "consultant"), ("chen.auditor", "auditor"), ("wu.admin", "admin")],
)
def test_roles_other_than_marketing_manager_are_refused_and_audited(
    clinic: Clinic, client: TestClient, mm: dict[str, str], user: str, role: str
) -> None:
    seg = _segment(client, mm)
    other = _auth(clinic.kernel, user, role)
    for method, path, body in (
        (
            "post",
            "/api/v1/segments",
            {"name": "x", "purpose": "marketing.sms", "definition": {"all": []}},
        ),
        ("get", "/api/v1/segments", None),
        ("post", f"/api/v1/segments/{seg}/preview", None),
        ("post", "/api/v1/campaigns", _campaign_body(seg)),
        ("get", "/api/v1/campaigns", None),
    ):
        r = client.request(method, path, headers=other, json=body)
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["rule"] == "role_refused"
    denied = audit_rows(clinic.kernel, actor=user, outcome="denied")
    assert len(denied) >= 5


def test_a_privacy_officer_may_read_but_not_change(
    clinic: Clinic, client: TestClient, mm: dict[str, str]
) -> None:
    seg = _segment(client, mm)
    officer = _auth(clinic.kernel, "zhao.privacy", "privacy_officer")
    assert client.get(f"/api/v1/segments/{seg}", headers=officer).status_code == 200
    assert client.get("/api/v1/segments/filters", headers=officer).status_code == 200
    r = client.post("/api/v1/campaigns", headers=officer, json=_campaign_body(seg))
    assert r.status_code == 403


def test_unknown_ids_are_404(client: TestClient, mm: dict[str, str]) -> None:
    missing = "0" * 32
    assert _error(client.get(f"/api/v1/segments/{missing}", headers=mm))[0] == 404
    assert _error(client.post(f"/api/v1/campaigns/{missing}/audience", headers=mm))[0] == 404
    r = client.post("/api/v1/campaigns", headers=mm, json=_campaign_body(missing))
    assert _error(r) == (404, "segment_id", "not_found")
    assert client.get("/api/v1/segments/not-an-id", headers=mm).status_code == 422


@pytest.mark.req("C4")
def test_personalisation_switch_over_the_api_empties_the_persons_profile_segments(
    clinic: Clinic, client: TestClient, mm: dict[str, str]
) -> None:
    k = clinic.kernel
    who = person(k, city="上海")
    seg = _segment(client, mm)
    count = lambda: client.post(f"/api/v1/segments/{seg}/preview", headers=mm).json()["count"]  # noqa: E731
    assert count() == 1
    amy = _auth(k, "amy.consultant", "consultant")
    r = client.put(f"/api/v1/people/{who}/personalization", headers=amy, json={"enabled": False})
    assert r.status_code == 200 and r.json()["personalization"] is False
    assert count() == 0
    client.put(f"/api/v1/people/{who}/personalization", headers=amy, json={"enabled": True})
    assert count() == 1


@pytest.mark.req("C7")
def test_hipaa_marketing_with_phi_needs_every_recipients_authorisation(
    clinic: Clinic, client: TestClient, mm: dict[str, str]
) -> None:
    k = clinic.kernel
    notice = publish(k, notice_doc(profile="hipaa"))
    auth = {
        "description": "Offers based on your visits",
        "recipients": ["Clinic"],
        "expires_at": (date.today() + timedelta(days=300)).isoformat(),
        "revocation_statement": "You may revoke in writing at any time.",
        "remuneration_statement": "The clinic receives no third-party payment.",
    }
    authorised, plain = person(k, city="上海"), person(k, city="上海")
    decide(
        k,
        authorised,
        notice,
        ("marketing.personalized_health", "sms", Kind.GRANT),
        authorization=auth,
    )
    seg = _segment(client, mm, purpose="marketing.personalized_health")
    made = client.post(
        "/api/v1/campaigns",
        headers=mm,
        json=_campaign_body(
            seg, purpose="marketing.personalized_health", hipaa_class="treatment", sponsor_paid=True
        ),
    )
    assert made.status_code == 201, made.text
    assert made.json()["hipaa_class"] == "marketing"  # a paid communication is marketing
    cid = made.json()["id"]
    report = client.post(f"/api/v1/campaigns/{cid}/audience", headers=mm).json()
    # sponsor-paid: the authorisation must disclose the remuneration; this one does not
    assert report["included"] == 0
    assert report["excluded"] == {"no_consent": 1, "hipaa_authorization_missing": 1}
    unpaid = client.patch(
        f"/api/v1/campaigns/{cid}",
        headers=mm,
        json={"sponsor_paid": False, "hipaa_class": "treatment"},
    )
    assert unpaid.json()["hipaa_class"] == "treatment"
    client.patch(f"/api/v1/campaigns/{cid}", headers=mm, json={"hipaa_class": "marketing"})
    report = client.post(f"/api/v1/campaigns/{cid}/audience", headers=mm).json()
    assert report["included"] == 1
    # the authorisation is revoked after the audience was built: the launch is blocked
    decide(
        k,
        authorised,
        None,
        ("marketing.personalized_health", "sms", Kind.WITHDRAW),
        origin="subject",
    )
    blocked = client.post(f"/api/v1/campaigns/{cid}/schedule", headers=mm, json={})
    assert _error(blocked) == (409, "audience", "hipaa_authorization_required")
    assert plain  # never authorised: never in the audience
