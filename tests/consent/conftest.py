"""Consent fixtures: a kernel wired with the consent hook, notices, people."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from pulsecrm.consent import service
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import parse_notice, publish_notice
from pulsecrm.crm.people_import import import_people
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from tests.helpers import ctx

SMS_TERMS = {"type": "优惠活动通知", "frequency": "每月不超过4条", "period": "12个月"}

NOTICE_ZH: dict[str, Any] = {
    "locale": "zh-CN",
    "label": "2026-11",
    "profile": "pipl",
    "handler": {"name": "示例口腔诊所", "contact": "上海市徐汇区示例路1号 021-12345678"},
    "privacy_officer": {"name": "李明", "contact": "privacy@clinic.example"},
    "purposes": [
        {
            "id": "service.appointment",
            "text": "为您安排和提醒就诊预约。",
            "necessity": "预约需要核实身份并记录主诉。",
            "impact": "仅用于预约，泄露可能影响隐私。",
        },
        {
            "id": "marketing.sms",
            "text": "经您同意，通过短信发送优惠信息，回复TD退订。",
            "sms_terms": SMS_TERMS,
        },
        {"id": "marketing.email", "text": "经您同意，通过邮件发送优惠信息，一键退订。"},
        {
            "id": "marketing.personalized_health",
            "text": "根据就诊信息推荐服务。",
            "necessity": "推荐需要参考您的就诊记录。",
            "impact": "可能据此收到相关推荐；可随时撤回。",
            "sms_terms": SMS_TERMS,
        },
        {
            "id": "sharing.partner",
            "text": "向签约合作方提供。",
            "necessity": "合作方提供您选择的服务。",
            "impact": "合作方将获得您的联系方式。",
        },
    ],
    "data_categories": ["identifier", "contact", "demographic"],
    "retention": "最后一次就诊后3年",
    "recipients": [
        {
            "name": "示例短信服务商",
            "role": "processor",
            "purposes": ["marketing.sms"],
            "categories": ["contact"],
        }
    ],
    "rights": "可在偏好页面或回复TD撤回同意；"
    "联系 privacy@clinic.example 行使查阅、更正、删除等权利。",
}


def notice_doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(NOTICE_ZH)
    doc.update(changes)
    return doc


@pytest.fixture
def app(installed: object) -> Iterator[Kernel]:
    """The kernel as adapters build it: with the consent ledger as its consent hook."""
    from pulsecrm.wiring import build_app_kernel

    k = build_app_kernel(installed)  # type: ignore[arg-type]
    yield k
    k.close()


def officer(kernel: Kernel, purpose: str = "compliance.dsr") -> AccessContext:
    return ctx(kernel, "privacy_officer", purpose, actor="test.officer")


def publish(kernel: Kernel, doc: dict[str, Any] | None = None) -> str:
    who = officer(kernel)
    with kernel.engine.begin() as conn:
        return publish_notice(conn, kernel, who, parse_notice(doc or NOTICE_ZH)).version_hash


def add_person(
    kernel: Kernel, phone: str, *, born: date | None = None, email: str | None = None
) -> str:
    row: dict[str, str | None] = {
        "name": "王小明",
        "phone": phone,
        "email": email,
        "birth_date": born.isoformat() if born else None,
    }
    report = import_people(kernel, ctx(kernel), iter([(2, row)]))
    assert report.created == 1, report.as_dict()
    from sqlalchemy import select

    from pulsecrm.kernel.tables import audit_entry

    with kernel.engine.connect() as conn:
        return str(
            conn.execute(
                select(audit_entry.c.subject)
                .where(audit_entry.c.action == "create")
                .order_by(audit_entry.c.seq.desc())
            )
            .scalars()
            .first()
        )


def decide(
    kernel: Kernel,
    person: str,
    notice: str | None,
    *decisions: tuple[str, str | None, Kind],
    method: str = "web_form",
    actor_type: str = "self",
    guardian: service.Guardian | None = None,
    origin: str = "staff",
    ip: str | None = "203.0.113.7",
    ctx_: AccessContext | None = None,
    authorization: dict[str, Any] | None = None,
) -> list[Any]:
    sub = service.Submission(
        person_id=person,
        decisions=[service.Decision(p, c, k) for p, c, k in decisions],
        method=method,
        notice_hash=notice,
        actor_type=actor_type,
        origin=origin,
        evidence=service.Evidence(form_id="form-7", ip=ip, user_agent="Mozilla/5.0"),
        guardian=guardian,
        authorization=authorization,
    )
    who = ctx_ or ctx(kernel)
    with kernel.engine.begin() as conn:
        return service.record(conn, kernel, who, [sub])
