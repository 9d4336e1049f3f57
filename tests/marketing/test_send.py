"""The send pipeline on SQLite and PostgreSQL, against real local SMTP and HTTP providers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from pulsecrm.channels.sms_aliyun import AliyunSmsAdapter
from pulsecrm.consent import service
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import sending
from pulsecrm.marketing.suppression import suppress
from tests.channels.servers import KEY_ID, KEY_SECRET, Providers, providers  # noqa: F401
from tests.helpers import audit_rows, ctx
from tests.marketing.send_helpers import campaign, fixed, person, rows, with_providers
from tests.consent.conftest import publish


def _aliyun(app: Kernel, providers: Providers) -> AliyunSmsAdapter:
    return AliyunSmsAdapter(
        with_providers(
            app,
            sms_endpoint=f"{providers.base_url}/aliyun/",
            sms_access_key_id=KEY_ID,
            sms_access_key_secret=KEY_SECRET,
        )
    )


def _send(app: Kernel, campaign_id: str, adapter: object) -> sending.BatchOutcome:
    tenant_id = app.tenant_id()
    with app.engine.begin() as conn:
        ids = sending.enqueue_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    return sending.send_batch(app, tenant_id=tenant_id, message_ids=ids, adapters=fixed(adapter))  # type: ignore[arg-type]


@pytest.mark.req("C1", "B9")
def test_withdrawal_or_suppression_after_the_audience_was_built_stops_the_message(
    app: Kernel, providers: Providers
) -> None:
    notice = publish(app)
    stays = person(app, notice, "13800138001")
    withdraws = person(app, notice, "13800138002")
    suppressed = person(app, notice, "13800138003")
    campaign_id = campaign(app)  # the audience holds all three
    # After the audience is built, before the send: one withdraws, one is suppressed.
    staff = ctx(app)
    with app.engine.begin() as conn:
        service.withdraw(
            conn,
            app,
            staff,
            person_id=withdraws,
            channel="sms",
            method="sms_reply",
            default_purpose="marketing.sms",
        )
        suppress(
            conn,
            tenant_id=app.tenant_id(),
            person_id=suppressed,
            channel="*",
            reason="complaint",
            source="test",
            now_us=now_us(),
        )
    outcome = _send(app, campaign_id, _aliyun(app, providers))
    assert outcome.sent == 1 and dict(outcome.skipped) == {"consent": 1, "suppressed": 1}
    sent = [r["PhoneNumbers"] for r in providers.requests]
    assert sent == ["13800138001"]
    by_person = rows(app, campaign_id)
    assert by_person[stays]["status"] == "sent"
    assert by_person[withdraws]["status"] == "skipped"
    assert by_person[withdraws]["skip_reason"] == "consent"
    assert by_person[suppressed]["skip_reason"] == "suppressed"
