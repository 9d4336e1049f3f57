"""The send pipeline on SQLite and PostgreSQL, against real local SMTP and HTTP providers."""

from __future__ import annotations

import pytest

from pulsecrm.channels.email_smtp import SmtpAdapter
from pulsecrm.channels.sms_aliyun import AliyunSmsAdapter
from pulsecrm.channels.wechat import WeChatTemplateAdapter
from pulsecrm.consent import service
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import campaign_sends, sending, service_messages
from pulsecrm.marketing.suppression import suppress
from tests.channels import servers
from tests.channels.servers import (
    KEY_ID,
    KEY_SECRET,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    Providers,
    SmtpSink,
)
from tests.helpers import audit_rows, ctx
from tests.marketing.send_helpers import (
    CrashAfterSend,
    campaign,
    fixed,
    person,
    publish_all,
    rows,
    with_providers,
)

providers = servers.providers
smtp_server = servers.smtp_server


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
        ids = campaign_sends.enqueue_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    return sending.send_batch(app, tenant_id=tenant_id, message_ids=ids, adapters=fixed(adapter))  # type: ignore[arg-type]


@pytest.mark.req("C1", "B9")
def test_withdrawal_or_suppression_after_the_audience_was_built_stops_the_message(
    app: Kernel, providers: Providers
) -> None:
    notice = publish_all(app)
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


def _batch(app: Kernel, ids: list[str], adapter: object) -> sending.BatchOutcome:
    return sending.send_batch(
        app,
        tenant_id=app.tenant_id(),
        message_ids=ids,
        adapters=fixed(adapter),  # type: ignore[arg-type]
    )


def _ids(app: Kernel, campaign_id: str) -> list[str]:
    with app.engine.begin() as conn:
        return campaign_sends.enqueue_campaign(
            conn, tenant_id=app.tenant_id(), campaign_id=campaign_id
        )


@pytest.mark.req("C1", "B5")
def test_the_address_is_revealed_only_inside_the_kernel_audited_for_the_campaign_purpose(
    app: Kernel, providers: Providers
) -> None:
    notice = publish_all(app)
    reached = person(app, notice, "13800138011")
    refused = person(app, notice, "13800138012", grants=())
    campaign_id = campaign(app, build=False)
    with app.engine.begin() as conn:  # the audience of a racing build: refused is in it
        from pulsecrm.marketing.tables import campaign_audience

        conn.execute(
            campaign_audience.insert(),
            [
                {
                    "tenant_id": app.tenant_id(),
                    "campaign_id": campaign_id,
                    "person_id": p,
                    "locale": "zh-CN",
                }
                for p in (reached, refused)
            ],
        )
    outcome = _send(app, campaign_id, _aliyun(app, providers))
    assert outcome.sent == 1 and outcome.skipped["consent"] == 1
    reads = audit_rows(app, actor=sending.SENDER_ACTOR)
    assert [(r["subject"], r["purpose"], r["outcome"]) for r in reads] == [
        (reached, "marketing.sms", "allowed")
    ]
    assert "phone" in str(reads[0]["fields"])


def test_enqueueing_twice_queues_each_person_once(app: Kernel) -> None:
    notice = publish_all(app)
    for n in range(3):
        person(app, notice, f"1380013802{n}")
    campaign_id = campaign(app)
    first = _ids(app, campaign_id)
    second = _ids(app, campaign_id)
    assert len(first) == 3 and sorted(first) == sorted(second)
    assert len(rows(app, campaign_id)) == 3


@pytest.mark.req("C1")
def test_two_workers_sending_the_same_batch_send_each_message_once(
    app: Kernel, providers: Providers
) -> None:
    import threading

    notice = publish_all(app)
    for n in range(8):
        person(app, notice, f"1380013803{n}")
    campaign_id = campaign(app)
    ids = _ids(app, campaign_id)
    adapter = _aliyun(app, providers)
    outcomes: list[sending.BatchOutcome] = []

    def worker() -> None:
        outcomes.append(
            sending.send_batch(
                app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(adapter)
            )
        )

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.sent for o in outcomes) == 8
    assert len(providers.deliveries) == 8 and set(providers.deliveries.values()) == {1}


def _email_setup(app: Kernel, smtp: SmtpSink) -> tuple[str, SmtpAdapter]:
    notice = publish_all(app)
    for n in range(3):
        person(
            app,
            notice,
            f"1380013804{n}",
            email=f"p{n}@example.com",
            grants=(("marketing.email", "email"),),
        )
    campaign_id = campaign(app, channel="email", purpose="marketing.email")
    adapter = SmtpAdapter(
        with_providers(
            app, smtp_host=smtp.host, smtp_port=smtp.port, smtp_from="news@clinic.example"
        )
    )
    return campaign_id, adapter


@pytest.mark.req("C1")
def test_crash_after_the_smtp_server_accepted_never_sends_twice(
    app: Kernel, smtp_server: SmtpSink
) -> None:
    campaign_id, adapter = _email_setup(app, smtp_server)
    ids = _ids(app, campaign_id)
    tenant_id = app.tenant_id()
    crashing = CrashAfterSend(adapter, crashes=1)
    with pytest.raises(SystemExit):  # killed after the 1st message reached the server
        sending.send_batch(app, tenant_id=tenant_id, message_ids=ids, adapters=fixed(crashing))
    assert len(smtp_server.messages) == 1
    # The job is retried: the crashed message is still held ("sending"), the rest go out.
    retry = sending.send_batch(app, tenant_id=tenant_id, message_ids=ids, adapters=fixed(adapter))
    assert retry.sent == 2 and len(smtp_server.messages) == 3
    # After the lease, SMTP (not idempotent) is settled as outcome unknown — not resent.
    settings = with_providers(app, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    later = now_us() + (settings.send_lease_s + 1) * 1_000_000
    assert sending.recover(app, tenant_id=tenant_id, settings=settings, now_us=later) == {
        "requeued": 0,
        "failed": 1,
    }
    again = sending.send_batch(app, tenant_id=tenant_id, message_ids=ids, adapters=fixed(adapter))
    assert again.claimed == 0
    ids_seen = [str(m["Message-ID"]) for _, _, m in smtp_server.messages]
    assert len(ids_seen) == len(set(ids_seen)) == 3
    statuses = sorted(r["status"] for r in rows(app, campaign_id).values())
    assert statuses == ["failed", "sent", "sent"]
    assert [r["error"] for r in rows(app, campaign_id).values() if r["status"] == "failed"] == [
        "outcome_unknown"
    ]


@pytest.mark.req("C1")
def test_a_job_delivered_again_after_the_status_was_recorded_sends_nothing(
    app: Kernel, smtp_server: SmtpSink
) -> None:
    campaign_id, adapter = _email_setup(app, smtp_server)
    ids = _ids(app, campaign_id)
    first = sending.send_batch(
        app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(adapter)
    )
    redelivered = sending.send_batch(
        app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(adapter)
    )
    assert first.sent == 3 and redelivered.claimed == 0
    assert len(smtp_server.messages) == 3


def test_wechat_crash_is_resent_under_the_same_key_and_the_provider_drops_the_copy(
    app: Kernel, providers: Providers
) -> None:
    notice = publish_all(app)
    openid = "oPulse0000000000000000000001"
    person(app, notice, "13800138050", openid=openid, grants=(("marketing.wechat", "wechat"),))
    campaign_id = campaign(app, channel="wechat", purpose="marketing.wechat")
    settings = with_providers(
        app,
        wechat_api_base=f"{providers.base_url}/wechat",
        wechat_app_id=WECHAT_APP_ID,
        wechat_app_secret=WECHAT_SECRET,
    )
    adapter = WeChatTemplateAdapter(settings)
    ids = _ids(app, campaign_id)
    with pytest.raises(SystemExit):
        sending.send_batch(
            app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(CrashAfterSend(adapter))
        )
    later = now_us() + (settings.send_lease_s + 1) * 1_000_000
    assert sending.recover(app, tenant_id=app.tenant_id(), settings=settings, now_us=later) == {
        "requeued": 1,
        "failed": 0,
    }
    resent = sending.send_batch(
        app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(adapter)
    )
    assert resent.sent == 1
    assert list(providers.deliveries.values()) == [1]  # the copy was dropped by client_msg_id
    assert [r["status"] for r in rows(app, campaign_id).values()] == ["sent"]


def test_quiet_hours_hand_the_batch_back_until_morning(app: Kernel, providers: Providers) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    notice = publish_all(app)
    person(app, notice, "13800138060")
    campaign_id = campaign(app, quiet=(1260, 480))
    ids = _ids(app, campaign_id)
    night = datetime(2026, 12, 3, 23, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    morning = datetime(2026, 12, 4, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    outcome = sending.send_batch(
        app,
        tenant_id=app.tenant_id(),
        message_ids=ids,
        adapters=fixed(_aliyun(app, providers)),
        now_us=int(night.timestamp() * 1_000_000),
    )
    assert outcome.sent == 0 and outcome.deferred_until_us == int(morning.timestamp() * 1_000_000)
    assert [r["status"] for r in rows(app, campaign_id).values()] == ["queued"]
    assert not providers.requests


def test_frequency_cap_is_checked_again_at_send_time(app: Kernel, providers: Providers) -> None:
    notice = publish_all(app)
    pid = person(app, notice, "13800138070")
    first = campaign(app, frequency_cap=1)
    second = campaign(app, frequency_cap=1)  # built before the first one was sent
    adapter = _aliyun(app, providers)
    assert _send(app, first, adapter).sent == 1
    outcome = _send(app, second, adapter)
    assert outcome.sent == 0 and outcome.skipped["frequency_cap"] == 1
    assert rows(app, second)[pid]["skip_reason"] == "frequency_cap"


def test_a_person_shredded_after_scheduling_is_skipped(app: Kernel, providers: Providers) -> None:
    notice = publish_all(app)
    pid = person(app, notice, "13800138080")
    campaign_id = campaign(app)
    officer = ctx(app, "privacy_officer", "compliance.dsr", actor="test.officer")
    with app.engine.begin() as conn:
        app.vault.shred(conn, officer, [pid])
    outcome = _send(app, campaign_id, _aliyun(app, providers))
    assert outcome.skipped["shredded"] == 1 and not providers.requests


def test_retryable_provider_errors_requeue_and_permanent_ones_fail(
    app: Kernel, providers: Providers
) -> None:
    notice = publish_all(app)
    pid = person(app, notice, "13800138090")
    campaign_id = campaign(app)
    ids = _ids(app, campaign_id)
    adapter = _aliyun(app, providers)
    providers.throttle = 1
    first = sending.send_batch(
        app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(adapter)
    )
    assert first.requeued == 1 and rows(app, campaign_id)[pid]["status"] == "queued"
    second = sending.send_batch(
        app, tenant_id=app.tenant_id(), message_ids=ids, adapters=fixed(adapter)
    )
    assert second.sent == 1 and rows(app, campaign_id)[pid]["attempts"] == 2


def test_service_reminder_uses_the_service_purpose_and_ignores_marketing_opt_outs(
    app: Kernel, providers: Providers
) -> None:
    notice = publish_all(app)
    pid = person(app, notice, "13800138100", grants=())  # no marketing consent at all
    with app.engine.begin() as conn:
        suppress(
            conn,
            tenant_id=app.tenant_id(),
            person_id=pid,
            channel="sms",
            reason="td_reply",
            source="test",
            now_us=now_us(),
        )
    adapter = _aliyun(app, providers)
    sent = service_messages.send_service_message(
        app,
        tenant_id=app.tenant_id(),
        person_id=pid,
        channel="sms",
        purpose="service.appointment",
        body="【北院口腔】您明天10:00的复诊预约",
        adapters=fixed(adapter),
    )
    assert sent.status == "sent"
    assert "复诊" in providers.requests[0]["TemplateParam"]
    reads = audit_rows(app, actor=sending.SENDER_ACTOR)
    assert [(r["subject"], r["purpose"]) for r in reads] == [(pid, "service.appointment")]
    with app.engine.begin() as conn:  # a complaint on every channel stops reminders too
        suppress(
            conn,
            tenant_id=app.tenant_id(),
            person_id=pid,
            channel="*",
            reason="complaint",
            source="test",
            now_us=now_us(),
        )
    again = service_messages.send_service_message(
        app,
        tenant_id=app.tenant_id(),
        person_id=pid,
        channel="sms",
        purpose="service.appointment",
        body="【北院口腔】提醒",
        adapters=fixed(adapter),
    )
    assert (again.status, again.skip_reason) == ("skipped", "suppressed")


def test_a_throttled_service_message_ends_failed_for_the_caller_to_retry(
    app: Kernel, providers: Providers
) -> None:
    notice = publish_all(app)
    pid = person(app, notice, "13800138110", grants=())
    providers.throttle = 1
    outcome = service_messages.send_service_message(
        app,
        tenant_id=app.tenant_id(),
        person_id=pid,
        channel="sms",
        purpose="service.appointment",
        body="【北院口腔】提醒",
        adapters=fixed(_aliyun(app, providers)),
    )
    assert (outcome.status, outcome.error) == ("failed", "isv.BUSINESS_LIMIT_CONTROL")


@pytest.mark.req("C1")
def test_an_sms_opt_out_stops_the_outbox_stand_in_too(app: Kernel) -> None:
    from pulsecrm.channels.outbox import OutboxAdapter

    notice = publish_all(app)
    pid = person(app, notice, "13800138120")
    campaign_id = campaign(app, channel="outbox")
    with app.engine.begin() as conn:
        suppress(
            conn,
            tenant_id=app.tenant_id(),
            person_id=pid,
            channel="sms",
            reason="td_reply",
            source="test",
            now_us=now_us(),
        )
    outcome = _send(app, campaign_id, OutboxAdapter(app.settings))
    assert outcome.sent == 0 and outcome.skipped["suppressed"] == 1
