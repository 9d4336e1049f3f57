"""Break-glass emergency access (H4): time box, reason, alert, review task, audited use."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pulsecrm.access import break_glass
from pulsecrm.access.config import AuthConfig
from pulsecrm.access.tables import access_review, alert
from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.runtime import Kernel
from tests.access.conftest import make_user
from tests.helpers import audit_rows, ctx, import_synthetic


def _request(kernel: Kernel, account: int, **kwargs: object) -> break_glass.Grant:
    with kernel.engine.begin() as conn:
        return break_glass.request(
            conn,
            kernel,
            tenant_id=kernel.tenant_id(),
            account_id=account,
            username="lin.desk",
            role="front_desk",
            config=AuthConfig(),
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.mark.req("H4", "H6")
def test_break_glass_is_time_boxed_alerted_reviewed_and_audited(app: Kernel) -> None:
    import_synthetic(app, 3)
    person = audit_rows(app, action="create")[0]["subject"]
    account = make_user(app, "lin.desk", "front_desk")
    desk = ctx(app, "front_desk", "service.followup", actor="lin.desk")
    with pytest.raises(AccessDenied):  # front desk has no aftercare grant
        app.vault.read(desk, [person], ["phone"], reveal=True)

    with pytest.raises(InvalidValue) as no_reason:
        _request(app, account, reason="  ", purpose="service.followup")
    assert no_reason.value.field == "reason"
    with pytest.raises(InvalidValue) as too_long:
        _request(
            app,
            account,
            reason="patient collapsed at reception",
            purpose="service.followup",
            minutes=31,
        )
    assert too_long.value.field == "minutes"
    with pytest.raises(InvalidValue):  # never for marketing
        _request(app, account, reason="need to send an offer now", purpose="marketing.sms")

    grant = _request(
        app,
        account,
        reason="patient collapsed at reception; call aftercare contact",
        purpose="service.followup",
        minutes=30,
    )
    assert grant.expires_us - grant.created_us <= 30 * 60_000_000
    with app.engine.connect() as conn:
        alerts = conn.execute(select(alert).where(alert.c.ref_id == grant.id)).all()
        reviews = conn.execute(
            select(access_review).where(access_review.c.ref_id == grant.id)
        ).all()
        found = break_glass.grant_for(
            conn,
            tenant_id=app.tenant_id(),
            account_id=account,
            purpose="service.followup",
            person_id=person,
        )
        expired = break_glass.grant_for(
            conn,
            tenant_id=app.tenant_id(),
            account_id=account,
            purpose="service.followup",
            person_id=person,
            now=grant.expires_us + 1,
        )
        reviews_open = break_glass.open_reviews(conn, tenant_id=app.tenant_id())
    assert [a.severity for a in alerts] == ["high"]
    assert [(r.assignee_role, r.done_us) for r in reviews] == [("privacy_officer", None)]
    assert reviews_open[0]["username"] == "lin.desk"
    assert found == grant and expired is None  # expires by itself

    emergency = grant.context("lin.desk", app.tenant_id(), "en")
    views = app.vault.read(emergency, [person], ["phone"], reveal=True)
    assert views[0].revealed == {"phone"}
    used = [r for r in audit_rows(app, action="reveal") if r["subject"] == person]
    assert used[-1]["actor"] == f"lin.desk#bg-{grant.id}" and used[-1]["role"] == "break_glass"
    granted = audit_rows(app, action="break_glass")
    assert grant.id in str(granted[-1]["detail"])

    make_user(app, "pia.privacy", "privacy_officer")
    with app.engine.begin() as conn, pytest.raises(InvalidValue):
        break_glass.complete_review(
            conn,
            app,
            tenant_id=app.tenant_id(),
            review_id=reviews[0].id,
            reviewer_id=account,
            reviewer="lin.desk",
            reviewer_role="front_desk",
            outcome="justified",
        )
    with app.engine.begin() as conn:
        assert break_glass.complete_review(
            conn,
            app,
            tenant_id=app.tenant_id(),
            review_id=reviews[0].id,
            reviewer_id=account,
            reviewer="pia.privacy",
            reviewer_role="privacy_officer",
            outcome="justified",
        )
        assert break_glass.open_alerts(conn, tenant_id=app.tenant_id()) == []
        assert break_glass.open_reviews(conn, tenant_id=app.tenant_id()) == []


@pytest.mark.req("H4")
def test_break_glass_for_a_named_person_only(app: Kernel) -> None:
    account = make_user(app, "lin.desk", "front_desk")
    person = "a" * 32
    grant = _request(
        app, account, reason="emergency: patient unconscious in lobby", person_id=person, minutes=5
    )
    with app.engine.connect() as conn:
        assert (
            break_glass.grant_for(
                conn,
                tenant_id=app.tenant_id(),
                account_id=account,
                purpose="service.followup",
                person_id=person,
            )
            == grant
        )
        assert (
            break_glass.grant_for(
                conn,
                tenant_id=app.tenant_id(),
                account_id=account,
                purpose="service.followup",
                person_id="b" * 32,
            )
            is None
        )
        assert (
            break_glass.grant_for(
                conn,
                tenant_id=app.tenant_id(),
                account_id=account,
                purpose="marketing.sms",
                person_id=person,
            )
            is None
        )
    with app.engine.begin() as conn:
        assert break_glass.end(
            conn,
            app,
            tenant_id=app.tenant_id(),
            account_id=account,
            username="lin.desk",
            role="front_desk",
            grant_id=grant.id,
        )
    with app.engine.connect() as conn:
        assert break_glass.active(conn, tenant_id=app.tenant_id(), account_id=account) == []
