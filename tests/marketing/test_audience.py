"""Audience = segment ∩ consent − suppression − withdrawn − capped − minors − renewal (B5, C1):
each exclusion counted under its first reason; recipients never intersect suppression."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import insert, select, update

from pulsecrm.consent.ledger import Kind
from pulsecrm.crm.ids import DAY_US, new_id, now_us
from pulsecrm.crm.tables import person_profile
from pulsecrm.marketing import audience
from pulsecrm.marketing.personalisation import set_personalisation
from pulsecrm.marketing.send_tables import message
from pulsecrm.marketing.suppression import is_suppressed, suppress
from pulsecrm.marketing.tables import campaign_audience, suppression
from tests.consent.conftest import decide, notice_doc
from tests.crm.conftest import Clinic
from tests.helpers import ctx
from tests.marketing.population import campaign_for, event, grant, person, publish, withdraw

SMS = ("marketing.sms", "sms")


def _sent(
    clinic: Clinic, who: str, days_ago: float, channel: str = "sms", purpose: str = "marketing.sms"
) -> None:
    at = now_us() - int(days_ago * DAY_US)
    with clinic.kernel.engine.begin() as conn:
        conn.execute(
            insert(message).values(
                id=new_id(),
                tenant_id=clinic.tenant_id,
                campaign_id=new_id(),
                person_id=who,
                channel=channel,
                purpose=purpose,
                status="sent",
                attempts=1,
                queued_us=at,
                sent_us=at,
            )
        )


def _suppress(clinic: Clinic, who: str, channel: str) -> None:
    with clinic.kernel.engine.begin() as conn:
        suppress(
            conn,
            tenant_id=clinic.tenant_id,
            person_id=who,
            channel=channel,
            reason="td_reply",
            source="test",
            now_us=now_us(),
        )


@pytest.mark.req("B5", "C1", "C3", "C4")
def test_exclusions_are_counted_under_their_first_reason(clinic: Clinic) -> None:
    k = clinic.kernel
    first = publish(k)
    p: dict[str, str] = {}
    # consented under the first notice; a new SMS recipient then asks them to renew
    p["renewal"] = person(k, city="上海")
    grant(k, first, p["renewal"], SMS)
    doc = notice_doc(label="2026-12")
    doc["recipients"] = doc["recipients"] + [
        {
            "name": "另一短信服务商",
            "role": "processor",
            "purposes": ["marketing.sms"],
            "categories": ["contact"],
        }
    ]
    notice = publish(k, doc)
    for name in (
        "ok1",
        "ok2",
        "off",
        "supp_all",
        "supp_sms_and_withdrawn",
        "withdrawn",
        "refused",
        "none",
        "email_only",
        "minor",
        "capped",
        "capped_long_ago",
    ):
        p[name] = person(k, city="上海", birth_date="1990-01-01")
    outside = person(k, city="北京")
    for name in (
        "ok1",
        "ok2",
        "off",
        "supp_all",
        "supp_sms_and_withdrawn",
        "withdrawn",
        "minor",
        "capped",
        "capped_long_ago",
    ):
        grant(k, notice, p[name], SMS)
    grant(k, notice, outside, SMS)
    grant(k, notice, p["email_only"], ("marketing.email", "email"))
    decide(k, p["refused"], notice, ("marketing.sms", "sms", Kind.REFUSE))
    withdraw(k, notice, p["withdrawn"], *SMS)
    withdraw(k, notice, p["supp_sms_and_withdrawn"], *SMS)
    _suppress(clinic, p["supp_all"], "*")
    _suppress(clinic, p["supp_sms_and_withdrawn"], "sms")
    staff = ctx(k)
    with k.engine.begin() as conn:
        set_personalisation(conn, k, staff, person_id=p["off"], enabled=False, source="portal")
        # the birth date was corrected after the grant: now a minor, no guardian consent
        conn.execute(
            update(person_profile)
            .where(person_profile.c.person_id == p["minor"])
            .values(birth_year=date.today().year - 10)
        )
    _sent(clinic, p["capped"], 1)
    _sent(clinic, p["capped"], 2)
    _sent(clinic, p["capped"], 3, channel="email")  # other channels do not count
    _sent(clinic, p["capped_long_ago"], 1, purpose="service.appointment")  # nor reminders
    _sent(clinic, p["capped_long_ago"], 10)
    _sent(clinic, p["capped_long_ago"], 11)
    campaign_id = campaign_for(clinic, {"filter": "city", "in": ["上海"]})
    who = clinic.staff["li.marketing"]
    with k.engine.begin() as conn:
        report = audience.build_for(conn, k, who, campaign_id, now_us())
    assert report.excluded == {
        "personalisation_off": 1,
        "suppressed": 2,
        "withdrawn": 2,
        "no_consent": 2,
        "renewal_needed": 1,
        "minor_without_guardian": 1,
        "frequency_capped": 1,
    }
    assert list(report.excluded) == [r for r in audience.REASONS if r in report.excluded]
    assert report.included == 3 and report.segment_count == 13
    with k.engine.connect() as conn:
        included = set(
            conn.execute(
                select(campaign_audience.c.person_id).where(
                    campaign_audience.c.campaign_id == campaign_id
                )
            ).scalars()
        )
        stored = audience.stored_report(conn, clinic.tenant_id, campaign_id)
    assert included == {p["ok1"], p["ok2"], p["capped_long_ago"]}
    assert stored is not None and stored.excluded == report.excluded


@pytest.mark.req("C1")
def test_recipients_never_intersect_the_suppression_list(clinic: Clinic) -> None:
    """Property: for any mix of suppressions (channel or every channel) and rebuilds,
    audience ∩ suppression(channel or *) = ∅."""
    import random

    k = clinic.kernel
    notice = publish(k)
    people = [person(k, source="douyin") for _ in range(12)]
    for who in people:
        grant(k, notice, who, SMS)
    campaign_id = campaign_for(clinic, {"filter": "source", "in": ["douyin"]})
    rng = random.Random(5)
    for _round in range(3):
        for who in rng.sample(people, 3):
            _suppress(clinic, who, rng.choice(["sms", "*", "email"]))
        with k.engine.begin() as conn:
            report = audience.build_audience(
                k, conn, tenant_id=clinic.tenant_id, campaign_id=campaign_id, now_us=now_us()
            )
        with k.engine.connect() as conn:
            recipients = set(
                conn.execute(
                    select(campaign_audience.c.person_id).where(
                        campaign_audience.c.campaign_id == campaign_id
                    )
                ).scalars()
            )
            blocked = set(
                conn.execute(
                    select(suppression.c.person_id).where(suppression.c.channel.in_(["sms", "*"]))
                ).scalars()
            )
            assert all(
                is_suppressed(conn, tenant_id=clinic.tenant_id, person_id=b, channel="sms")
                for b in blocked
            )
        assert recipients and not recipients & blocked
        assert report.included == len(recipients)
        assert report.excluded.get("suppressed", 0) == len(blocked)


def test_suppress_is_idempotent_and_keeps_the_first_reason(clinic: Clinic) -> None:
    k = clinic.kernel
    who = person(k)
    _suppress(clinic, who, "sms")
    with k.engine.begin() as conn:
        suppress(
            conn,
            tenant_id=clinic.tenant_id,
            person_id=who,
            channel="sms",
            reason="complaint",
            source="x",
            now_us=1,
        )
        assert is_suppressed(conn, tenant_id=clinic.tenant_id, person_id=who, channel="sms")
        assert not is_suppressed(conn, tenant_id=clinic.tenant_id, person_id=who, channel="email")
        reasons = (
            conn.execute(select(suppression.c.reason).where(suppression.c.person_id == who))
            .scalars()
            .all()
        )
    assert reasons == ["td_reply"]


@pytest.mark.req("B5")
def test_a_person_with_only_a_service_relation_is_never_in_a_marketing_audience(
    clinic: Clinic,
) -> None:
    k = clinic.kernel
    publish(k)
    patient = person(k, city="上海")  # collected for service.appointment only
    event(clinic, "appointment", patient, 2, status="arrived")
    event(clinic, "visit", patient, 2)
    campaign_id = campaign_for(clinic, {"filter": "visited", "within_days": 30})
    with k.engine.begin() as conn:
        report = audience.build_audience(
            k, conn, tenant_id=clinic.tenant_id, campaign_id=campaign_id, now_us=now_us()
        )
    assert report.included == 0 and report.excluded == {"no_consent": 1}


def test_locale_follows_the_consent_language_when_both_templates_exist(clinic: Clinic) -> None:
    k = clinic.kernel
    zh = publish(k)
    en_doc = notice_doc(locale="en", label="2026-11-en")
    en = publish(k, en_doc)
    a, b = person(k, source="douyin"), person(k, source="douyin")
    grant(k, zh, a, SMS)
    grant(k, en, b, SMS)
    campaign_id = campaign_for(
        clinic,
        {"filter": "source", "in": ["douyin"]},
        templates={
            "zh-CN": {"body": "{sender}春季活动，回复TD退订"},
            "en": {"body": "{sender} Spring offers. Reply TD to unsubscribe"},
        },
    )
    with k.engine.begin() as conn:
        audience.build_audience(
            k, conn, tenant_id=clinic.tenant_id, campaign_id=campaign_id, now_us=now_us()
        )
    with k.engine.connect() as conn:
        rows = conn.execute(
            select(campaign_audience.c.person_id, campaign_audience.c.locale).where(
                campaign_audience.c.campaign_id == campaign_id
            )
        ).all()
        locales = {row[0]: row[1] for row in rows}
    assert locales == {a: "zh-CN", b: "en"}


@pytest.mark.req("C3", "B6")
def test_a_refused_sms_request_is_never_put_again_by_a_campaign(clinic: Clinic) -> None:
    """No reply = refused (the consent module's timeout); a refusal is final for marketing:
    every SMS audience leaves the person out, rebuild after rebuild, until they opt in."""
    from pulsecrm.consent.service import may_ask

    k = clinic.kernel
    notice = publish(k)
    refused, granted = person(k, source="douyin"), person(k, source="douyin")
    decide(k, refused, notice, ("marketing.sms", "sms", Kind.REFUSE))
    grant(k, notice, granted, SMS)
    campaign_id = campaign_for(clinic, {"filter": "source", "in": ["douyin"]})
    for _ in range(2):
        with k.engine.begin() as conn:
            report = audience.build_audience(
                k, conn, tenant_id=clinic.tenant_id, campaign_id=campaign_id, now_us=now_us()
            )
        assert report.included == 1 and report.excluded == {"withdrawn": 1}
    with k.engine.connect() as conn:
        assert not may_ask(conn, clinic.tenant_id, refused, "marketing.sms", "sms")
    grant(k, notice, refused, SMS)  # they start it themselves: now included
    with k.engine.begin() as conn:
        report = audience.build_audience(
            k, conn, tenant_id=clinic.tenant_id, campaign_id=campaign_id, now_us=now_us()
        )
    assert report.included == 2
