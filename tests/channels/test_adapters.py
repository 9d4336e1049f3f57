"""Each channel adapter against a real local server: headers, signatures, errors, keys."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pulsecrm.channels import OutboundMessage, PermanentError, RetryableError
from pulsecrm.channels.email_smtp import SmtpAdapter
from pulsecrm.channels.outbox import OutboxAdapter
from pulsecrm.channels.rate import TokenBucket
from pulsecrm.channels.sms_aliyun import AliyunSmsAdapter
from pulsecrm.channels.sms_tencent import TencentSmsAdapter
from pulsecrm.channels.wechat import WeChatTemplateAdapter
from pulsecrm.settings import Settings
from tests.channels.servers import (
    KEY_ID,
    KEY_SECRET,
    WECHAT_APP_ID,
    WECHAT_SECRET,
    Providers,
    SmtpSink,
)


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return Settings(home=tmp_path / "home", **values)


def _message(to: str, **extra: Any) -> OutboundMessage:
    values: dict[str, Any] = {
        "message_id": "0f" * 16,
        "tenant_id": 1,
        "channel": "email",
        "to": to,
        "text": "春季口腔检查预约开放。退订请点击链接。",
        "subject": "北院口腔 · 春季检查预约",
        "sender_name": "北院口腔诊所",
    }
    values.update(extra)
    return OutboundMessage(**values)


@pytest.mark.req("C2")
def test_smtp_sends_mime_utf8_with_rfc8058_one_click_headers(
    tmp_path: Path, smtp_server: SmtpSink
) -> None:
    adapter = SmtpAdapter(
        _settings(
            tmp_path,
            smtp_host=smtp_server.host,
            smtp_port=smtp_server.port,
            smtp_from="news@clinic.example",
        )
    )
    url = "https://crm.example/api/v1/unsubscribe/tok123?m=abc"
    result = adapter.send(_message("wang@example.com", unsubscribe_url=url, html="<p>春季检查</p>"))
    [(mail_from, rcpts, mail)] = smtp_server.messages
    assert mail_from == "news@clinic.example" and rcpts == ["wang@example.com"]
    assert mail["Subject"] == "北院口腔 · 春季检查预约"
    assert mail["List-Unsubscribe"] == f"<{url}>"
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mail["Message-ID"] == f"<{'0f' * 16}@clinic.example>" == result.provider_message_id
    assert "北院口腔诊所" in str(mail["From"])
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and "春季口腔检查预约开放" in text.get_content()
    assert html is not None and "<p>春季检查</p>" in html.get_content()
    assert result.provider == "smtp"


def test_smtp_refused_recipient_is_permanent_and_server_down_is_retryable(
    tmp_path: Path, smtp_server: SmtpSink
) -> None:
    smtp_server.refuse.add("gone@example.com")
    adapter = SmtpAdapter(
        _settings(tmp_path, smtp_host=smtp_server.host, smtp_port=smtp_server.port)
    )
    with pytest.raises(PermanentError) as refused:
        adapter.send(_message("gone@example.com"))
    assert refused.value.code == "smtp_550"
    closed = SmtpAdapter(_settings(tmp_path, smtp_host="127.0.0.1", smtp_port=1))
    with pytest.raises(RetryableError):
        closed.send(_message("wang@example.com"))


def _sms(tmp_path: Path, providers: Providers, provider: str) -> Settings:
    return _settings(
        tmp_path,
        sms_provider=provider,
        sms_endpoint=f"{providers.base_url}/{provider}/",
        sms_access_key_id=KEY_ID,
        sms_access_key_secret=KEY_SECRET,
        sms_sign_name="北院口腔",
        sms_template_code="SMS_123456",
    )


def test_aliyun_request_is_signed_and_carries_our_id_as_outid(
    tmp_path: Path, providers: Providers
) -> None:
    adapter = AliyunSmsAdapter(_sms(tmp_path, providers, "aliyun"))
    result = adapter.send(_message("+8613800138000", channel="sms", text="春季检查 回复TD退订"))
    assert result.provider == "aliyun" and result.provider_message_id.startswith("biz")
    [request] = providers.requests
    assert request["PhoneNumbers"] == "13800138000"
    assert request["OutId"] == "0f" * 16
    assert request["SignName"] == "北院口腔"
    assert "回复TD退订" in request["TemplateParam"]
    assert providers.deliveries["0f" * 16] == 1 and not providers.rejected


def test_aliyun_wrong_secret_is_refused_by_the_server(tmp_path: Path, providers: Providers) -> None:
    values = _sms(tmp_path, providers, "aliyun").model_dump()
    values["sms_access_key_secret"] = "not-the-secret"
    bad = AliyunSmsAdapter(Settings(**values))
    with pytest.raises(PermanentError) as caught:
        bad.send(_message("+8613800138000", channel="sms"))
    assert caught.value.code == "SignatureDoesNotMatch"
    assert providers.rejected == ["aliyun-signature"] and not providers.deliveries


def test_aliyun_throttling_is_retryable_and_bad_number_permanent(
    tmp_path: Path, providers: Providers
) -> None:
    adapter = AliyunSmsAdapter(_sms(tmp_path, providers, "aliyun"))
    providers.throttle = 1
    with pytest.raises(RetryableError) as throttled:
        adapter.send(_message("+8613800138000", channel="sms"))
    assert throttled.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    with pytest.raises(PermanentError) as illegal:
        adapter.send(_message("+86123", channel="sms"))
    assert illegal.value.code == "isv.MOBILE_NUMBER_ILLEGAL"


def test_tencent_request_is_tc3_signed_with_session_context(
    tmp_path: Path, providers: Providers
) -> None:
    adapter = TencentSmsAdapter(_sms(tmp_path, providers, "tencent"))
    result = adapter.send(_message("+8613800138000", channel="sms", text="春季检查 回复TD退订"))
    assert result.provider == "tencent" and result.provider_message_id.startswith("2433:")
    [request] = providers.requests
    assert request["PhoneNumberSet"] == ["+8613800138000"]
    assert request["SessionContext"] == "0f" * 16
    assert request["TemplateParamSet"] == ["春季检查 回复TD退订"]
    assert not providers.rejected


def test_tencent_wrong_secret_fails_signature(tmp_path: Path, providers: Providers) -> None:
    values = _sms(tmp_path, providers, "tencent").model_dump()
    values["sms_access_key_secret"] = "wrong"
    with pytest.raises(PermanentError) as caught:
        TencentSmsAdapter(Settings(**values)).send(_message("+8613800138000", channel="sms"))
    assert caught.value.code == "AuthFailure.SignatureFailure"
    assert providers.rejected == ["tencent-signature"]


def _wechat(tmp_path: Path, providers: Providers) -> WeChatTemplateAdapter:
    return WeChatTemplateAdapter(
        _settings(
            tmp_path,
            wechat_api_base=f"{providers.base_url}/wechat",
            wechat_app_id=WECHAT_APP_ID,
            wechat_app_secret=WECHAT_SECRET,
            wechat_template_id="TPL-1",
        )
    )


def test_wechat_token_is_cached_refreshed_when_expired_and_client_msg_id_dedupes(
    tmp_path: Path, providers: Providers
) -> None:
    adapter = _wechat(tmp_path, providers)
    openid = "oABCD1234567890abcdefghijkl"
    adapter.send(_message(openid, channel="wechat", message_id="a" * 32))
    adapter.send(_message(openid, channel="wechat", message_id="b" * 32))
    assert providers.tokens_issued == 1  # cached
    providers.expire_next_token = True
    adapter.send(_message(openid, channel="wechat", message_id="c" * 32))
    assert providers.tokens_issued == 2  # refreshed once on 42001
    adapter.send(_message(openid, channel="wechat", message_id="c" * 32))  # a retry
    assert providers.deliveries["c" * 32] == 1
    assert adapter.idempotent
    assert providers.requests[0]["template_id"] == "TPL-1"


def test_outbox_writes_masked_addresses(tmp_path: Path) -> None:
    adapter = OutboxAdapter(_settings(tmp_path))
    adapter.send(_message("+8613800138000", channel="sms"))
    adapter.send(_message("wang@example.com", channel="email"))
    adapter.close()
    sms = (tmp_path / "home" / "outbox" / "sms.jsonl").read_text(encoding="utf-8")
    email = (tmp_path / "home" / "outbox" / "email.jsonl").read_text(encoding="utf-8")
    assert "13800138000" not in sms and "****8000" in sms
    assert "wang@example.com" not in email and "w***@example.com" in email


def test_token_bucket_holds_the_rate() -> None:
    import time

    bucket = TokenBucket(rate=50, burst=1)
    start = time.monotonic()
    for _ in range(11):
        bucket.acquire()
    assert time.monotonic() - start >= 0.18  # 10 waits of 1/50 s after the first token
