"""The consent ledger: opt-in, separate consent, minors, refusals, withdrawal, proof, tampering."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from pulsecrm.consent import service, state
from pulsecrm.consent.errors import (
    AuthorizationIncomplete,
    BundledSeparateConsent,
    GuardianRequired,
    InvalidEvidence,
    NotOptIn,
    UnknownConsentPurpose,
)
from pulsecrm.consent.integrity import verify_consent
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.receipts import build_bundle, verify_bundle
from pulsecrm.consent.tables import consent_event, consent_evidence, consent_state
from pulsecrm.kernel.audit_verify import verify_database
from pulsecrm.kernel.record_vault import SealedItem
from pulsecrm.store.append_only import create_statements, drop_statements
from tests.consent.conftest import add_person, decide, notice_doc, officer, publish
from tests.helpers import audit_rows, ctx


def _count(kernel, table) -> int:  # type: ignore[no-untyped-def]
    with kernel.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _sms_reader(kernel):  # type: ignore[no-untyped-def]
    return ctx(kernel, "consultant", "marketing.sms", channel="sms")


def _thirteen_years_ago() -> date:
    today = date.today()
    return date(today.year - 13, 6, 1)


@pytest.mark.req("B9", "B1")
def test_withdraw_at_t0_denies_every_later_read_for_that_purpose(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139000")
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT))
    assert app.vault.read(_sms_reader(app), [person], ["phone"])[0].values["phone"]
    decide(app, person, None, ("marketing.sms", "sms", Kind.WITHDRAW), origin="subject")
    [view] = app.vault.read(_sms_reader(app), [person], ["phone"])
    assert view.values == {} and view.denied == {"phone": "consent"}
    denied = audit_rows(app, purpose="marketing.sms", outcome="denied")
    assert denied and denied[-1]["subject"] == person
    # Appointment reminders are untouched by the withdrawal (B7).
    service_read = ctx(app, "consultant", "service.appointment", channel="sms")
    assert app.vault.read(service_read, [person], ["phone"])[0].values["phone"]


@pytest.mark.req("B2")
@pytest.mark.parametrize("method", ["default", "implied", "pre_ticked", "silence"])
def test_default_or_implied_consent_is_rejected_and_writes_nothing(app, method) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139001")
    before = _count(app, consent_event)
    with pytest.raises(NotOptIn) as caught:
        decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT), method=method)
    assert caught.value.field == "method" and caught.value.rule == "opt_in_only"
    assert _count(app, consent_event) == before and _count(app, consent_state) == 0


@pytest.mark.req("B4")
def test_bundled_separate_consent_is_rejected_with_nothing_written(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139002")
    with pytest.raises(BundledSeparateConsent) as caught:
        decide(
            app,
            person,
            notice,
            ("marketing.sms", "sms", Kind.GRANT),
            ("marketing.personalized_health", "sms", Kind.GRANT),
        )
    assert caught.value.field == "decisions" and caught.value.rule == "separate_consent_unbundled"
    assert _count(app, consent_event) == 0 and _count(app, consent_evidence) == 0
    # Given on its own, the same separate consent is accepted.
    decide(app, person, notice, ("marketing.personalized_health", "sms", Kind.GRANT))
    health = ctx(app, "marketing_manager", "marketing.personalized_health", channel="sms")
    assert app.vault.read(health, [person], ["phone"])[0].values["phone"]


@pytest.mark.req("B8")
def test_thirteen_year_old_without_guardian_is_never_selected_for_marketing(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    child = add_person(app, "13900139003", born=_thirteen_years_ago())
    with pytest.raises(GuardianRequired) as caught:
        decide(app, child, notice, ("marketing.sms", "sms", Kind.GRANT))
    assert caught.value.field == "guardian"
    with app.engine.connect() as conn:
        assert state.contactable_count(conn, app.tenant_id(), "marketing.sms", "sms") == 0
        status = service.status(conn, app, app.tenant_id(), child)
    assert status["sensitive_minor"] is True and status["marketing_eligible"] is False
    assert app.vault.read(_sms_reader(app), [child], ["phone"])[0].denied == {"phone": "consent"}
    with pytest.raises(GuardianRequired):  # a guardian must be named, with the relationship
        decide(
            app,
            child,
            notice,
            ("marketing.sms", "sms", Kind.GRANT),
            actor_type="guardian",
            guardian=service.Guardian("王大明", ""),
        )
    decide(
        app,
        child,
        notice,
        ("marketing.sms", "sms", Kind.GRANT),
        actor_type="guardian",
        guardian=service.Guardian("王大明", "父亲"),
    )
    assert app.vault.read(_sms_reader(app), [child], ["phone"])[0].values["phone"]
    # The guardian's identity is sealed under the child's key, never stored in clear.
    with app.engine.connect() as conn:
        row = conn.execute(
            select(consent_evidence).where(consent_evidence.c.guardian_name.is_not(None))
        ).one()
    assert "王大明".encode() not in bytes(row.guardian_name)
    who = officer(app)
    opened = app.records.open(
        who,
        [SealedItem(child, "consent_guardian_name", row.event_id, bytes(row.guardian_name))],
        reveal=True,
    )
    assert opened == ["王大明"]


@pytest.mark.req("B6", "C3")
def test_a_refusal_is_remembered_and_not_asked_again(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139004")
    with app.engine.connect() as conn:
        before = service.open_prompts(conn, app, app.tenant_id(), person, "zh-CN")
    assert {"purpose": "marketing.sms", "channel": "sms", "notice_hash": notice} in before
    decide(app, person, notice, ("marketing.sms", "sms", Kind.REFUSE), origin="subject")
    for _ in range(10):
        with app.engine.connect() as conn:
            prompts = service.open_prompts(conn, app, app.tenant_id(), person, "zh-CN")
            assert not service.may_ask(conn, app.tenant_id(), person, "marketing.sms", "sms")
        assert all(p["purpose"] != "marketing.sms" for p in prompts)
    # The person may still change their mind themselves.
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT), origin="subject")
    assert app.vault.read(_sms_reader(app), [person], ["phone"])[0].values["phone"]


@pytest.mark.req("B7")
def test_core_service_works_with_every_optional_consent_refused(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139005", email="p5@example.com")
    optional = [
        (p.id, c)
        for p in app.catalog.purposes.values()
        if p.needs_consent
        for c in (p.channels or (None,))
    ]
    by_purpose: dict[str, list[tuple[str, str | None, Kind]]] = {}
    for purpose, channel in optional:
        by_purpose.setdefault(purpose, []).append((purpose, channel, Kind.REFUSE))
    for decisions in by_purpose.values():
        decide(app, person, notice, *decisions, origin="subject")
    for purpose in ("service.appointment", "service.followup"):
        for channel in ("sms", "email"):
            [view] = app.vault.read(
                ctx(app, "consultant", purpose, channel=channel),
                [person],
                ["name", "phone", "email"],
                reveal=True,
            )
            assert view.values["phone"] == "+8613900139005" and not view.denied
    with pytest.raises(UnknownConsentPurpose) as caught:  # service never rests on consent
        decide(app, person, notice, ("service.appointment", "sms", Kind.GRANT))
    assert caught.value.rule == "no_consent_needed"


@pytest.mark.req("B3")
def test_every_event_carries_its_proof_fields_and_evidence_is_sealed(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139006")
    [row] = decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT), method="staff_call")
    with app.engine.connect() as conn:
        stored = conn.execute(select(consent_event).where(consent_event.c.id == row.id)).one()
        evidence = conn.execute(select(consent_evidence)).one()
    assert stored.notice_hash == notice and stored.language == "zh-CN"
    assert stored.method == "staff_call" and stored.actor_type == "self"
    assert stored.actor == "test.consultant" and stored.form_id == "form-7"
    assert json.loads(stored.terms)["sms_terms"]["frequency"]
    assert b"203.0.113.7" not in bytes(evidence.ip) and stored.evidence_digest
    entry = audit_rows(app, seq=stored.audit_seq)[0]
    assert json.loads(str(entry["detail"]))["consent_event"] == row.id
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("UPDATE consent_event SET kind = 'grant'"))
    with pytest.raises(DBAPIError, match="append-only"), app.engine.begin() as conn:
        conn.execute(text("DELETE FROM consent_event"))
    with pytest.raises(InvalidEvidence):  # staff-recorded grants need evidence
        sub = service.Submission(
            person_id=person,
            method="staff_call",
            notice_hash=notice,
            decisions=[service.Decision("marketing.email", "email", Kind.GRANT)],
        )
        who = ctx(app)
        with app.engine.begin() as conn:
            service.record(conn, app, who, [sub])


@pytest.mark.req("B3")
def test_hipaa_marketing_authorization_needs_its_elements_and_expires(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app, notice_doc(profile="hipaa"))
    person = add_person(app, "13900139007")
    auth = {
        "description": "Offers for dental implants",
        "recipients": ["Clinic"],
        "expires_at": (date.today() + timedelta(days=30)).isoformat(),
        "revocation_statement": "You may revoke in writing at any time.",
        "remuneration_statement": "",
    }
    with pytest.raises(AuthorizationIncomplete) as caught:
        decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT), authorization=auth)
    assert caught.value.field == "authorization.remuneration_statement"
    auth["remuneration_statement"] = "The clinic receives no payment from third parties."
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT), authorization=auth)
    assert app.vault.read(_sms_reader(app), [person], ["phone"])[0].values["phone"]
    with freeze_time(date.today() + timedelta(days=31)):
        assert app.vault.read(_sms_reader(app), [person], ["phone"])[0].denied
        who = ctx(app)
        with app.engine.begin() as conn:
            expired = service.expire_due(conn, app, who)
    assert [e.kind for e in expired] == [Kind.EXPIRE]


@pytest.mark.req("B3")
def test_proof_bundle_verifies_offline_and_detects_edits(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139008")
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT))
    decide(app, person, None, ("marketing.sms", "sms", Kind.WITHDRAW), origin="subject")
    decide(app, person, notice, ("marketing.email", "email", Kind.GRANT))
    with app.engine.connect() as conn:
        bundle = build_bundle(conn, app, app.tenant_id(), person)
    bundle = json.loads(json.dumps(bundle))  # what leaves the system: plain JSON
    pinned = app.signer_for(app.tenant_id()).public_raw
    assert verify_bundle(bundle, pinned) == []
    receipt = next(r for r in bundle["receipts"] if r["channel"] == "sms")
    assert [e["kind"] for e in receipt["events"]] == ["grant", "withdraw"]
    assert receipt["piiPrincipalId"] == person and receipt["notice_hash"] == notice
    assert receipt["services"][0]["purposes"][0]["consentType"] == "EXPLICIT"
    forged = json.loads(json.dumps(bundle))
    forged["receipts"][0]["events"][-1]["kind"] = "grant"
    assert any("ledger row" in p for p in verify_bundle(forged, pinned))
    forged = json.loads(json.dumps(bundle))
    forged["notices"][notice]["text"] = forged["notices"][notice]["text"].replace("3年", "30年")
    assert any("notice" in p for p in verify_bundle(forged, pinned))
    forged = json.loads(json.dumps(bundle))
    forged["signed_tree_head"]["root"] = "00" * 32
    assert verify_bundle(forged, pinned)
    other = ctx(app, "privacy_officer").tenant_id
    assert other == app.tenant_id()


def _tamper(kernel, statement: str) -> None:  # type: ignore[no-untyped-def]
    dialect = kernel.engine.dialect.name
    with kernel.engine.begin() as conn:
        for s in drop_statements(dialect, "consent_event"):
            conn.execute(text(s))
        conn.execute(text(statement))
        for s in create_statements(dialect, "consent_event"):
            conn.execute(text(s))


@pytest.mark.req("B3")
def test_a_tampered_consent_row_is_caught_by_the_ledger_check(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139009")
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT))
    decide(app, person, None, ("marketing.sms", "sms", Kind.WITHDRAW), origin="subject")
    tenant_id = app.tenant_id()
    with app.engine.connect() as conn:
        assert verify_consent(conn, tenant_id).ok
    # Someone rewrites the withdrawal as a grant and resets the state to match.
    _tamper(app, "UPDATE consent_event SET kind = 'grant' WHERE seq = 2")
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE consent_state SET status = 'granted'"))
        report = verify_consent(conn, tenant_id)
    assert not report.ok and report.first_bad_seq == 2
    assert any("does not match its hash" in p for p in report.problems)
    # The kernel audit log itself is untouched and still verifies: the consent
    # ledger's own chain is what caught it.
    signer = app.signer_for(tenant_id)
    with app.engine.connect() as conn:
        assert verify_database(conn, tenant_id, {signer.key_id: signer.public_raw}).ok


@pytest.mark.req("B3")
def test_a_deleted_consent_row_and_an_edited_state_row_are_caught(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139010")
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT))
    decide(app, person, notice, ("marketing.email", "email", Kind.REFUSE))
    tenant_id = app.tenant_id()
    with app.engine.begin() as conn:
        conn.execute(text("UPDATE consent_state SET status = 'granted' WHERE channel = 'email'"))
        report = verify_consent(conn, tenant_id)
    assert any("table says granted, ledger says refused" in p for p in report.problems)
    _tamper(app, "DELETE FROM consent_event WHERE seq = 1")
    with app.engine.connect() as conn:
        report = verify_consent(conn, tenant_id)
    assert not report.ok and report.first_bad_seq == 1


@pytest.mark.req("B1", "B2")
def test_unknown_purpose_and_wrong_channel_name_field_and_rule(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13900139011")
    with pytest.raises(UnknownConsentPurpose) as caught:
        decide(app, person, notice, ("marketing.everything", "sms", Kind.GRANT))
    assert caught.value.field == "purpose" and "unknown purpose" in caught.value.message("en")
    assert "未知的处理目的" in caught.value.message("zh-CN")
    with pytest.raises(Exception) as wrong:
        decide(app, person, notice, ("marketing.sms", "email", Kind.GRANT))
    assert getattr(wrong.value, "rule", None) == "invalid_channel"
    assert _count(app, consent_event) == 0


@pytest.mark.req("B9")
def test_roles_without_a_consent_grant_cannot_record(app) -> None:  # type: ignore[no-untyped-def]
    from pulsecrm.kernel.errors import AccessDenied

    notice = publish(app)
    person = add_person(app, "13900139012")
    for role in ("auditor", "analyst", "marketing_manager"):
        who = ctx(app, role, "service.appointment")
        with pytest.raises(AccessDenied):
            service.check_recorder(app, who)
        with pytest.raises(AccessDenied):
            decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT), ctx_=who)
    assert audit_rows(app, role="auditor", outcome="denied")
