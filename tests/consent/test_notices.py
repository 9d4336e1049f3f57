"""Notices: required elements on publish, immutable by hash, renewal on material change."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pulsecrm.consent.errors import NoticeIncomplete, NoticeNotPublished, NoticeSuperseded
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import notice_hash, parse_notice
from pulsecrm.kernel.errors import AccessDenied
from tests.consent.conftest import NOTICE_ZH, add_person, decide, notice_doc, publish
from tests.helpers import ctx


def _without(path: str) -> dict:  # type: ignore[type-arg]
    doc = copy.deepcopy(NOTICE_ZH)
    *parents, last = path.split(".")
    node = doc
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if isinstance(node, list):
        node.pop(int(last))
    else:
        node[last] = "" if isinstance(node.get(last), str) else None
    return doc


@pytest.mark.req("A1", "A4")
@pytest.mark.parametrize(
    ("missing", "field"),
    [
        ("handler.name", "handler.name"),
        ("handler.contact", "handler.contact"),
        ("privacy_officer.contact", "privacy_officer.contact"),
        ("retention", "retention"),
        ("rights", "rights"),
        ("recipients", "recipients"),
        ("purposes.1.text", "purposes[1].text"),
    ],
)
def test_publishing_refuses_a_notice_missing_a_required_element(app, missing, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoticeIncomplete) as caught:
        publish(app, _without(missing))
    assert caught.value.field == field
    assert "(rule: notice_incomplete)" in caught.value.message("en")


@pytest.mark.req("A3")
@pytest.mark.parametrize("part", ["necessity", "impact"])
def test_sensitive_purpose_without_necessity_or_impact_is_refused(app, part) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(NOTICE_ZH)
    health = next(p for p in doc["purposes"] if p["id"] == "marketing.personalized_health")
    health[part] = ""
    with pytest.raises(NoticeIncomplete) as caught:
        publish(app, doc)
    assert caught.value.field == f"purposes[3].{part}"
    assert caught.value.rule == f"sensitive_{part}"


@pytest.mark.req("C3")
def test_sms_purpose_must_state_type_frequency_and_period(app) -> None:  # type: ignore[no-untyped-def]
    doc = copy.deepcopy(NOTICE_ZH)
    doc["purposes"][1]["sms_terms"] = {"type": "优惠", "frequency": "每月4条", "period": ""}
    with pytest.raises(NoticeIncomplete) as caught:
        publish(app, doc)
    assert caught.value.field == "purposes[1].sms_terms.period"


@pytest.mark.req("A1")
def test_version_is_the_hash_of_the_text_and_publishing_is_idempotent_and_immutable(app) -> None:  # type: ignore[no-untyped-def]
    first = publish(app)
    assert first == notice_hash(parse_notice(NOTICE_ZH).canonical_text())
    assert publish(app) == first
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("UPDATE notice_version SET body = 'x'"))


@pytest.mark.req("A1")
def test_only_a_privacy_officer_publishes(app) -> None:  # type: ignore[no-untyped-def]
    from pulsecrm.consent.notices import publish_notice

    who = ctx(app, "consultant", "compliance.audit")
    with pytest.raises(AccessDenied), app.engine.begin() as conn:
        publish_notice(conn, app, who, parse_notice(NOTICE_ZH))


@pytest.mark.req("A1", "B3")
def test_a_grant_must_cite_the_current_published_notice(app) -> None:  # type: ignore[no-untyped-def]
    person = add_person(app, "13800138001")
    with pytest.raises(NoticeNotPublished):
        decide(app, person, "0" * 64, ("marketing.sms", "sms", Kind.GRANT))
    old = publish(app)
    publish(app, notice_doc(label="2026-12"))
    with pytest.raises(NoticeSuperseded):
        decide(app, person, old, ("marketing.sms", "sms", Kind.GRANT))


@pytest.mark.req("A2", "B5")
def test_new_purpose_marks_consents_for_renewal_and_stops_processing_until_renewed(app) -> None:  # type: ignore[no-untyped-def]
    v1 = notice_doc()
    v1["purposes"] = [p for p in v1["purposes"] if p["id"] != "sharing.partner"]
    first = publish(app, v1)
    person = add_person(app, "13800138002")
    decide(app, person, first, ("marketing.sms", "sms", Kind.GRANT))
    reader = ctx(app, "consultant", "marketing.sms", channel="sms")
    assert app.vault.read(reader, [person], ["phone"])[0].values.get("phone")
    second = publish(app, notice_doc(label="2026-12"))  # adds sharing.partner
    [view] = app.vault.read(reader, [person], ["phone"])
    assert view.denied == {"phone": "consent"}
    decide(app, person, second, ("marketing.sms", "sms", Kind.RENEW))
    assert app.vault.read(reader, [person], ["phone"])[0].values.get("phone")


@pytest.mark.req("A2", "A4", "B5")
def test_new_recipient_affects_only_the_purposes_it_receives_data_for(app) -> None:  # type: ignore[no-untyped-def]
    first = publish(app)
    person = add_person(app, "13800138003", email="a@example.com")
    decide(app, person, first, ("marketing.sms", "sms", Kind.GRANT))
    decide(app, person, first, ("marketing.email", "email", Kind.GRANT))
    doc = notice_doc(label="2026-12")
    doc["recipients"] = doc["recipients"] + [
        {
            "name": "邮件服务商",
            "role": "processor",
            "purposes": ["marketing.email"],
            "categories": ["contact"],
        }
    ]
    publish(app, doc)
    sms = ctx(app, "consultant", "marketing.sms", channel="sms")
    email = ctx(app, "consultant", "marketing.email", channel="email")
    assert app.vault.read(sms, [person], ["phone"])[0].values.get("phone")
    assert app.vault.read(email, [person], ["email"])[0].denied == {"email": "consent"}
