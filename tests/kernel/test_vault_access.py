"""The vault checks role, purpose and consent on every read, masks by default, and audits."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from pulsecrm.catalog import default_catalog
from pulsecrm.kernel.errors import AccessDenied, AuditUnavailable, UnknownPurpose
from pulsecrm.kernel.policy import Access, Policy
from tests.helpers import audit_rows, ctx, import_synthetic

IDENTITY = ["name", "phone", "email", "id_number"]


@pytest.mark.req("D2", "H6")
def test_role_without_grant_is_denied_and_audited(kernel) -> None:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 3)
    subject = audit_rows(kernel, action="create")[0]["subject"]
    for role in ("auditor", "admin", "analyst"):
        with pytest.raises(AccessDenied):
            kernel.vault.read(ctx(kernel, role, "service.appointment"), [subject], IDENTITY)
        denied = audit_rows(kernel, role=role, outcome="denied")
        assert denied and denied[-1]["subject"] == subject


@pytest.mark.req("D2", "H6")
def test_granted_role_sees_masks_until_it_reveals(kernel) -> None:  # type: ignore[no-untyped-def]
    _, people = import_synthetic(kernel, 2)
    consultant = ctx(kernel, "consultant", "service.appointment")
    [view] = kernel.vault.find_by(consultant, "phone", people[0]["phone"], IDENTITY)
    phone = people[0]["phone"]
    assert view.values["phone"] == f"{phone[:3]}****{phone[-4:]}"
    assert view.values["name"].startswith(people[0]["name"][0]) and "*" in view.values["name"]
    assert not view.revealed
    [shown] = kernel.vault.read(consultant, [view.subject_id], IDENTITY, reveal=True)
    assert shown.values["phone"] == "+86" + phone
    assert shown.values["name"] == people[0]["name"]
    reveal = audit_rows(kernel, action="reveal", subject=view.subject_id)
    assert reveal and reveal[-1]["outcome"] == "allowed"
    assert "phone" in str(reveal[-1]["fields"])
    # The audit log never carries the value itself.
    assert all(phone not in str(r) and people[0]["name"] not in str(r) for r in audit_rows(kernel))


@pytest.mark.req("D2")
def test_marketing_role_may_not_reveal_identifiers(kernel) -> None:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 1)
    subject = audit_rows(kernel, action="create")[0]["subject"]
    marketer = ctx(kernel, "marketing_manager", "marketing.sms")
    with pytest.raises(AccessDenied):
        kernel.vault.read(marketer, [subject], ["phone"], reveal=True)


@pytest.mark.req("B1")
def test_consent_based_purpose_is_denied_without_consent(kernel) -> None:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 1)
    subject = audit_rows(kernel, action="create")[0]["subject"]
    [view] = kernel.vault.read(
        ctx(kernel, "consultant", "marketing.sms", channel="sms"), [subject], ["phone"]
    )
    assert view.values == {} and view.denied == {"phone": "consent"}
    assert audit_rows(kernel, purpose="marketing.sms", outcome="denied")


@pytest.mark.req("B1")
def test_unknown_purpose_is_refused_and_audited(kernel) -> None:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 1)
    subject = audit_rows(kernel, action="create")[0]["subject"]
    with pytest.raises(AccessDenied):
        kernel.vault.read(ctx(kernel, "consultant", "marketing.everything"), [subject], ["phone"])
    assert audit_rows(kernel, purpose="marketing.everything", outcome="denied")
    with pytest.raises(UnknownPurpose):
        kernel.vault.write(None, ctx(kernel, purpose="nope"), {subject: {"city": "x"}})


@pytest.mark.req("D2", "E1")
def test_policy_is_deny_by_default_and_health_never_reaches_marketing() -> None:
    policy = Policy(default_catalog())
    assert policy.decide("consultant", "phone", "service.appointment") is Access.REVEAL
    assert policy.decide("nobody", "phone", "service.appointment") is Access.DENY
    assert policy.decide("consultant", "phone", "made.up") is Access.DENY
    for field in (
        "chief_complaint",
        "consultation_notes",
        "questionnaire_answers",
        "special_condition",
    ):
        for purpose in ("marketing.sms", "marketing.email", "marketing.wechat"):
            for role in default_catalog().roles:
                assert policy.decide(role, field, purpose) is Access.DENY
    # Level-5 data is readable for care only, never for marketing of any kind.
    assert all(
        policy.decide(r, "special_condition", "marketing.personalized_health") is Access.DENY
        for r in default_catalog().roles
    )


def test_tenants_never_see_each_other(kernel) -> None:  # type: ignore[no-untyped-def]
    from pulsecrm.kernel.context import AccessContext
    from pulsecrm.kernel.installation import ensure_tenant

    _, people = import_synthetic(kernel, 1)
    other_id, _ = ensure_tenant(kernel, "other-clinic", "另一家诊所")
    other = AccessContext("test.consultant", "consultant", other_id, "service.appointment")
    assert kernel.vault.find_by(other, "phone", people[0]["phone"]) == []
    subject = audit_rows(kernel, action="create")[0]["subject"]
    [view] = kernel.vault.read(other, [subject], ["phone"])
    assert view.values == {} and view.denied["phone"] == "not found"


@pytest.mark.req("H6")
def test_no_data_is_returned_when_the_audit_entry_cannot_be_written(kernel, backend) -> None:  # type: ignore[no-untyped-def]
    _, _people = import_synthetic(kernel, 1)
    subject = audit_rows(kernel, action="create")[0]["subject"]
    if backend == "sqlite":
        block = (
            "CREATE TRIGGER block_audit BEFORE INSERT ON audit_entry "
            "BEGIN SELECT RAISE(ABORT, 'audit store unavailable'); END"
        )
    else:
        block = (
            "CREATE TRIGGER block_audit BEFORE INSERT ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION pulsecrm_refuse_change()"
        )
    with kernel.engine.begin() as conn:
        conn.execute(text(block))
    with pytest.raises(AuditUnavailable):
        kernel.vault.read(ctx(kernel), [subject], ["phone"], reveal=True)


@pytest.mark.req("H6")
def test_concurrent_reads_share_commits_and_are_all_audited(kernel) -> None:  # type: ignore[no-untyped-def]
    from concurrent.futures import ThreadPoolExecutor

    import_synthetic(kernel, 20)
    subjects = [r["subject"] for r in audit_rows(kernel, action="create")]
    consultant = ctx(kernel)
    before = len(audit_rows(kernel))
    kernel.audit_writer.flushes = 0

    def read(subject: str) -> str | None:
        return kernel.vault.read(consultant, [subject], ["phone"])[0].values["phone"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(read, subjects * 10))
    assert all(results)
    assert len(audit_rows(kernel)) - before == len(subjects) * 10
    assert kernel.audit_writer.flushes < len(subjects) * 10
