"""Helpers for the sending tests: people with consent, a campaign with its audience, adapters."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from pulsecrm.channels import ChannelAdapter, OutboundMessage, ProviderResult
from pulsecrm.consent.ledger import Kind
from pulsecrm.crm.people_import import import_people
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import audit_entry
from pulsecrm.marketing import campaigns, segments
from pulsecrm.marketing.audience import build_audience
from pulsecrm.marketing.send_tables import message, message_event
from pulsecrm.settings import Settings
from tests.consent.conftest import SMS_TERMS, decide, notice_doc, publish
from tests.helpers import ctx

TRACKING_ITEM = {
    "id": "marketing.tracking",
    "text": "经您同意，统计您点击了消息中的哪些链接。",
    "sms_terms": SMS_TERMS,
}


WECHAT_ITEM = {"id": "marketing.wechat", "text": "经您同意，通过微信发送优惠信息，可随时退订。"}


def publish_all(kernel: Kernel) -> str:
    """The consent tests' notice plus WeChat marketing and link tracking."""
    doc = notice_doc()
    doc["purposes"] = [*doc["purposes"], WECHAT_ITEM, TRACKING_ITEM]
    return publish(kernel, doc)


def add_person(
    kernel: Kernel, phone: str, *, email: str | None, city: str, openid: str | None = None
) -> str:
    """A person with identity and a profile row (segments run on the profile)."""
    row: dict[str, str | None] = {"name": "王小明", "phone": phone, "email": email, "city": city}
    staff = ctx(kernel)
    report = import_people(kernel, staff, iter([(2, row)]))
    assert report.created == 1, report.as_dict()
    with kernel.engine.connect() as conn:
        pid = str(
            conn.execute(
                select(audit_entry.c.subject)
                .where(audit_entry.c.action == "create")
                .order_by(audit_entry.c.seq.desc())
            ).scalar()
        )
    if openid:
        with kernel.engine.begin() as conn:
            kernel.vault.write(conn, staff, {pid: {"wechat_openid": openid}})
    return pid


def person(
    kernel: Kernel,
    notice: str,
    phone: str,
    *,
    email: str | None = None,
    grants: tuple[tuple[str, str], ...] = (("marketing.sms", "sms"),),
    city: str = "上海",
    openid: str | None = None,
) -> str:
    pid = add_person(kernel, phone, email=email, city=city, openid=openid)
    if grants:
        decide(kernel, pid, notice, *[(p, c, Kind.GRANT) for p, c in grants], origin="subject")
    return pid


BODIES = {
    "sms": "{sender}春季口腔检查开放预约 https://clinic.example/spring 回复TD退订",
    "email": "{sender}: spring check-ups https://clinic.example/spring\n"
    "Unsubscribe: {unsubscribe_url}",
    "wechat": "{sender}春季口腔检查开放预约 https://clinic.example/spring 回复TD退订",
    "outbox": "{sender}春季口腔检查开放预约 回复TD退订",
}


def campaign(
    kernel: Kernel,
    *,
    channel: str = "sms",
    purpose: str = "marketing.sms",
    quiet: tuple[int, int] = (0, 0),
    frequency_cap: int = 2,
    build: bool = True,
) -> str:
    manager = ctx(kernel, "marketing_manager", purpose, actor="li.marketing")
    with kernel.engine.begin() as conn:
        seg = segments.create_segment(
            conn, kernel, manager, name="everyone", definition={"all": []}, purpose=purpose
        )
        spec = campaigns.CampaignSpec(
            name=f"spring {channel}",
            purpose=purpose,
            channel=channel,
            segment_id=seg.id,
            sender_name="北院口腔",
            templates={
                "zh-CN": campaigns.TemplateSpec(
                    subject="春季检查" if channel == "email" else None, body=BODIES[channel]
                )
            },
            quiet_start_min=quiet[0],
            quiet_end_min=quiet[1],
            frequency_cap=frequency_cap,
            send_rate_per_s=1000,
        )
        found = campaigns.create_campaign(conn, kernel, manager, spec)
        if build:
            build_audience(
                kernel, conn, tenant_id=manager.tenant_id, campaign_id=found.id, now_us=now_us()
            )
    return found.id


def rows(kernel: Kernel, campaign_id: str | None = None) -> dict[str, dict[str, Any]]:
    query = select(message)
    if campaign_id is not None:
        query = query.where(message.c.campaign_id == campaign_id)
    with kernel.engine.connect() as conn:
        return {r.person_id: dict(r._mapping) for r in conn.execute(query)}


def events(kernel: Kernel, kind: str | None = None) -> list[dict[str, Any]]:
    query = select(message_event)
    if kind is not None:
        query = query.where(message_event.c.kind == kind)
    with kernel.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query.order_by(message_event.c.at_us))]


def with_providers(kernel: Kernel, **values: Any) -> Settings:
    """The kernel's settings plus provider endpoints."""
    data = kernel.settings.model_dump()
    data.update(values)
    return Settings(**data)


@dataclass
class CrashAfterSend:
    """Wraps a real adapter: the provider gets the message, then the worker "dies"."""

    inner: ChannelAdapter
    crashes: int = 1

    @property
    def provider(self) -> str:
        return self.inner.provider

    @property
    def channel(self) -> str:
        return self.inner.channel

    @property
    def idempotent(self) -> bool:
        return self.inner.idempotent

    @property
    def rate_per_s(self) -> float:
        return self.inner.rate_per_s

    @property
    def dedupe_window_s(self) -> int:
        return int(getattr(self.inner, "dedupe_window_s", 0))

    def send(self, outbound: OutboundMessage) -> ProviderResult:
        result = self.inner.send(outbound)
        if self.crashes > 0:
            self.crashes -= 1
            raise SystemExit("worker killed after the provider accepted the message")
        return result


def fixed(adapter: ChannelAdapter) -> Callable[[str], ChannelAdapter]:
    return lambda _channel: adapter


def api_client(kernel: Kernel) -> Any:
    from fastapi.testclient import TestClient

    from pulsecrm.api.app import create_app

    return TestClient(create_app(kernel.settings, kernel=kernel), raise_server_exceptions=False)


def bearer(kernel: Kernel, user: str, role: str) -> dict[str, str]:
    from pulsecrm.access.tokens import create_token

    who = ctx(kernel, role, actor=user)
    with kernel.engine.begin() as conn:
        issued = create_token(conn, username=who.actor)
    return {"Authorization": f"Bearer {issued.secret}", "Accept-Language": "en"}


def send_all(kernel: Kernel, campaign_id: str, adapter: ChannelAdapter) -> Any:
    from pulsecrm.marketing import campaign_sends, sending

    with kernel.engine.begin() as conn:
        ids = campaign_sends.enqueue_campaign(
            conn, tenant_id=kernel.tenant_id(), campaign_id=campaign_id
        )
    return sending.send_batch(
        kernel, tenant_id=kernel.tenant_id(), message_ids=ids, adapters=fixed(adapter)
    )
