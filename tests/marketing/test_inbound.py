"""Replies, delivery receipts and unsubscribe links: withdrawal and suppression at once (C2, B9)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from pulsecrm.channels.email_smtp import SmtpAdapter
from pulsecrm.channels.sms_aliyun import AliyunSmsAdapter
from pulsecrm.channels.sms_tencent import TencentSmsAdapter
from pulsecrm.consent import state
from pulsecrm.consent.tokens import webhook_signature
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import sending
from pulsecrm.marketing.tables import suppression
from tests.channels import servers
from tests.channels.servers import KEY_ID, KEY_SECRET, Providers, SmtpSink
from tests.marketing.send_helpers import (
    api_client,
    campaign,
    events,
    person,
    publish_all,
    rows,
    send_all,
    with_providers,
)

providers = servers.providers
smtp_server = servers.smtp_server
SECRET = "hook-secret-1"


def _aliyun(app: Kernel, providers: Providers) -> AliyunSmsAdapter:
    return AliyunSmsAdapter(
        with_providers(
            app,
            sms_endpoint=f"{providers.base_url}/aliyun/",
            sms_access_key_id=KEY_ID,
            sms_access_key_secret=KEY_SECRET,
        )
    )


def _suppressions(app: Kernel) -> list[tuple[str, str, str]]:
    with app.engine.connect() as conn:
        return [
            (r.person_id, r.channel, r.reason)
            for r in conn.execute(select(suppression).order_by(suppression.c.person_id))
        ]


def _status(app: Kernel, pid: str, purpose: str, channel: str) -> str | None:
    with app.engine.connect() as conn:
        for row in state.states_of(conn, app.tenant_id(), pid):
            if (row["purpose"], row["channel"]) == (purpose, channel):
                return str(row["status"])
    return None


@pytest.mark.req("C2", "B9", "C1")
def test_td_reply_withdraws_and_suppresses_and_stops_an_already_queued_campaign(
    app: Kernel, providers: Providers
) -> None:
    app.settings.sms_webhook_secret = SecretStr(SECRET)
    notice = publish_all(app)
    pid = person(app, notice, "13800138201")
    adapter = _aliyun(app, providers)
    first = campaign(app)
    second = campaign(app)  # scheduled before the reply: the audience still holds the person
    assert send_all(app, first, adapter).sent == 1
    reply = [
        {
            "phone_number": "13800138201",
            "send_time": "2026-12-03 10:00:00",
            "content": "TD",
            "sign_name": "北院口腔",
            "dest_code": "1234",
            "sequence_id": 1,
        }
    ]
    with api_client(app) as client:
        r = client.post(f"/api/v1/webhooks/sms/aliyun/inbound?token={SECRET}", json=reply)
    assert r.status_code == 200, r.text
    assert r.json()["code"] == 0 and r.json()["unsubscribe"] == 1
    assert _status(app, pid, "marketing.sms", "sms") == "withdrawn"
    assert _suppressions(app) == [(pid, "sms", "td_reply")]
    kinds = {(e["kind"], e["detail"]) for e in events(app)}
    assert {("replied", "unsubscribe"), ("unsubscribed", "td_reply")} <= kinds
    later = send_all(app, second, adapter)
    assert later.sent == 0 and rows(app, second)[pid]["status"] == "skipped"
    assert len(providers.requests) == 1  # nothing after the TD


@pytest.mark.req("C2")
def test_tencent_reply_in_chinese_unsubscribes_and_an_ordinary_reply_does_not(
    app: Kernel,
) -> None:
    app.settings.sms_webhook_secret = SecretStr(SECRET)
    notice = publish_all(app)
    quits = person(app, notice, "13800138202")
    chats = person(app, notice, "13800138203")
    headers = {"X-PulseCRM-Webhook-Token": SECRET}
    with api_client(app) as client:
        ordinary = client.post(
            "/api/v1/webhooks/sms/tencent/inbound",
            json={"mobile": "13800138203", "nationcode": "86", "text": "好的，谢谢", "time": 1},
            headers=headers,
        )
        refusal = client.post(
            "/api/v1/webhooks/sms/tencent/inbound",
            json={"mobile": "13800138202", "nationcode": "86", "text": "别再发了，退订", "time": 1},
            headers=headers,
        )
    assert ordinary.json()["unsubscribe"] == 0 and refusal.json()["unsubscribe"] == 1
    assert refusal.json()["result"] == 0
    assert _status(app, chats, "marketing.sms", "sms") == "granted"
    assert _status(app, quits, "marketing.sms", "sms") == "withdrawn"
    assert _suppressions(app) == [(quits, "sms", "td_reply")]


def test_callbacks_without_the_shared_secret_change_nothing(app: Kernel) -> None:
    app.settings.sms_webhook_secret = SecretStr(SECRET)
    notice = publish_all(app)
    pid = person(app, notice, "13800138204")
    body = [{"phone_number": "13800138204", "content": "TD"}]
    with api_client(app) as client:
        missing = client.post("/api/v1/webhooks/sms/aliyun/inbound", json=body)
        wrong = client.post("/api/v1/webhooks/sms/aliyun/inbound?token=guess", json=body)
        unknown = client.post(f"/api/v1/webhooks/sms/acme/inbound?token={SECRET}", json=body)
        garbled = client.post(
            f"/api/v1/webhooks/sms/aliyun/inbound?token={SECRET}", json=[{"content": "TD"}]
        )
    assert missing.status_code == wrong.status_code == 401
    assert missing.json()["error"]["field"] == "x-pulsecrm-webhook-token"
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "provider"
    assert garbled.status_code == 401 and garbled.json()["error"]["field"] == "body"
    assert _status(app, pid, "marketing.sms", "sms") == "granted" and not _suppressions(app)


def test_delivery_receipts_from_both_providers_become_events(
    app: Kernel, providers: Providers
) -> None:
    app.settings.sms_webhook_secret = SecretStr(SECRET)
    notice = publish_all(app)
    first = person(app, notice, "13800138205")
    second = person(app, notice, "13800138206")
    campaign_id = campaign(app)
    tencent_adapter = TencentSmsAdapter(
        with_providers(
            app,
            sms_endpoint=f"{providers.base_url}/tencent/",
            sms_access_key_id=KEY_ID,
            sms_access_key_secret=KEY_SECRET,
        )
    )
    send_all(app, campaign_id, tencent_adapter)
    sent = rows(app, campaign_id)
    assert {r["provider"] for r in sent.values()} == {"tencent"}
    # A report naming our id (Aliyun's out_id shape) matches whoever sent it;
    # one naming only the provider's id must come from that provider.
    aliyun = [
        {
            "phone_number": "13800138205",
            "send_time": "2026-12-03 10:00:00",
            "report_time": "2026-12-03 10:00:05",
            "success": True,
            "err_code": "DELIVERED",
            "err_msg": "用户接收成功",
            "biz_id": sent[first]["provider_message_id"],
            "out_id": sent[first]["id"],
        }
    ]
    tencent = [
        {
            "user_receive_time": "2026-12-03 10:00:06",
            "nationcode": "86",
            "mobile": "13800138206",
            "report_status": "FAIL",
            "errmsg": "MK:0001",
            "description": "空号",
            "sid": sent[second]["provider_message_id"],
        },
        {"sid": "unknown-sid", "report_status": "SUCCESS", "errmsg": "DELIVRD"},
    ]
    with api_client(app) as client:
        a = client.post(f"/api/v1/webhooks/sms/aliyun/receipts?token={SECRET}", json=aliyun)
        t = client.post(f"/api/v1/webhooks/sms/tencent/receipts?token={SECRET}", json=tencent)
    assert (a.json()["matched"], t.json()["matched"], t.json()["unmatched"]) == (1, 1, 1)
    got = {(e["message_id"], e["kind"]) for e in events(app)}
    assert got == {(sent[first]["id"], "delivered"), (sent[second]["id"], "failed")}


def test_a_receipt_proves_a_message_whose_outcome_was_unknown_went_out(
    app: Kernel, providers: Providers
) -> None:
    from pulsecrm.channels.receipts import DeliveryReceipt
    from pulsecrm.marketing import inbound
    from pulsecrm.marketing.send_tables import message

    notice = publish_all(app)
    pid = person(app, notice, "13800138207")
    campaign_id = campaign(app)
    send_all(app, campaign_id, _aliyun(app, providers))
    message_id = rows(app, campaign_id)[pid]["id"]
    with app.engine.begin() as conn:  # as recovery leaves a crashed send
        conn.execute(
            message.update()
            .where(message.c.id == message_id)
            .values(status="failed", error="outcome_unknown")
        )
        inbound.record_receipts(
            conn,
            tenant_id=app.tenant_id(),
            receipts=[DeliveryReceipt("aliyun", None, message_id, True, "DELIVERED")],
            now_us=1,
        )
    assert rows(app, campaign_id)[pid]["status"] == "sent"


@pytest.mark.req("C2", "B9")
def test_the_existing_signed_sms_reply_webhook_also_suppresses(app: Kernel) -> None:
    import json

    notice = publish_all(app)
    pid = person(app, notice, "13800138208")
    body = json.dumps({"from": "13800138208", "text": "STOP"}).encode()
    signature = webhook_signature(app, app.tenant_id(), body)
    with api_client(app) as client:
        r = client.post(
            "/api/v1/webhooks/sms/inbound",
            content=body,
            headers={"X-PulseCRM-Signature": signature, "Content-Type": "application/json"},
        )
    assert r.status_code == 200 and r.json()["unsubscribe"] is True
    assert _suppressions(app) == [(pid, "sms", "td_reply")]


@pytest.mark.req("C2", "B9")
def test_rfc8058_one_click_from_the_real_email_unsubscribes_and_suppresses(
    app: Kernel, smtp_server: SmtpSink
) -> None:
    notice = publish_all(app)
    pid = person(
        app, notice, "13800138209", email="li@example.com", grants=(("marketing.email", "email"),)
    )
    campaign_id = campaign(app, channel="email", purpose="marketing.email")
    adapter = SmtpAdapter(
        with_providers(app, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    )
    assert send_all(app, campaign_id, adapter).sent == 1
    [(_, _, mail)] = smtp_server.messages
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = urlsplit(str(mail["List-Unsubscribe"]).strip("<>"))
    path = f"{url.path}?{url.query}"
    body = mail.get_body(("plain",))
    assert body is not None and url.path in body.get_content()  # the same link is in the text
    with api_client(app) as client:
        page = client.get(path, headers={"Accept-Language": "en"})
        assert page.status_code == 200 and 'value="One-Click"' in page.text
        assert page.text.count("<button") == 1  # one step
        assert _status(app, pid, "marketing.email", "email") == "granted"  # GET changes nothing
        r = client.post(
            path,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert r.status_code == 200
    assert _status(app, pid, "marketing.email", "email") == "withdrawn"
    assert _suppressions(app) == [(pid, "email", "unsubscribe")]
    message_id = rows(app, campaign_id)[pid]["id"]
    assert [(e["message_id"], e["kind"]) for e in events(app, "unsubscribed")] == [
        (message_id, "unsubscribed")
    ]
    again = sending.send_batch(app, tenant_id=app.tenant_id(), message_ids=[message_id])
    assert again.claimed == 0
