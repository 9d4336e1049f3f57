"""Versioned privacy notices: validated on publish, immutable, identified by their hash.

A notice is a document per locale (zh-CN, en) with the elements PIPL 17 and
GDPR 13 require (A1): handler name and contact, purposes, data categories,
retention, recipients (A4), how to exercise rights, privacy-officer contact.
Purposes that use sensitive data also state why it is necessary and the
impact on the person (A3, PIPL 30); consent-based SMS purposes state the
message type, frequency and period (C3). Publishing checks all of it and
refuses naming the missing element.

The version is the SHA-256 of the notice's canonical JSON text; publishing the
same text twice returns the same version. A new version that adds a purpose,
a data category or a recipient, or changes a purpose's wording, lists the
consent purposes it affects (``renewal_purposes``); consents given under an
earlier version of that locale for those purposes need renewal before
processing that relies on them may continue (A2, B5).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, insert, select, update

from pulsecrm.catalog.loader import Catalog
from pulsecrm.catalog.model import LOCALES, Category, PIClass
from pulsecrm.consent.errors import NoticeIncomplete, NoticeNotFound, NoticeNotPublished
from pulsecrm.consent.tables import consent_state, notice_version
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome, now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied
from pulsecrm.kernel.runtime import Kernel

PUBLISHER_ROLES = frozenset({"privacy_officer", "admin"})
PROFILES = ("pipl", "gdpr", "hipaa")


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Party(_Doc):
    name: str = ""
    contact: str = ""


class SmsTerms(_Doc):
    type: str = ""
    frequency: str = ""
    period: str = ""


class NoticePurpose(_Doc):
    id: str
    text: str = ""
    necessity: str = ""
    impact: str = ""
    sms_terms: SmsTerms | None = None


class Recipient(_Doc):
    name: str = ""
    role: str = ""
    contact: str = ""
    purposes: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)


class Minors(_Doc):
    text: str = ""
    necessity: str = ""
    impact: str = ""


class NoticeDocument(_Doc):
    locale: str
    label: str = ""
    profile: str = "pipl"
    handler: Party = Field(default_factory=Party)
    privacy_officer: Party = Field(default_factory=Party)
    purposes: list[NoticePurpose] = Field(default_factory=list)
    data_categories: list[str] = Field(default_factory=list)
    retention: str = ""
    recipients: list[Recipient] | None = None
    rights: str = ""
    minors: Minors | None = None

    def canonical_text(self) -> str:
        return json.dumps(
            self.model_dump(mode="json"), ensure_ascii=False, sort_keys=True, separators=(",", ":")
        )

    def version_hash(self) -> str:
        return notice_hash(self.canonical_text())

    def purpose(self, purpose_id: str) -> NoticePurpose | None:
        return next((p for p in self.purposes if p.id == purpose_id), None)


def notice_hash(text: str) -> str:
    """SHA-256 of a notice's canonical text — what every consent cites."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PublishedNotice:
    version_hash: str
    locale: str
    label: str
    profile: str
    document: NoticeDocument
    text: str
    published_us: int
    supersedes: str | None
    renewal_purposes: tuple[str, ...]
    current: bool = True


def _missing(
    field: str, what_en: str, what_zh: str, rule: str = "notice_incomplete"
) -> NoticeIncomplete:
    return NoticeIncomplete(field, f"required: {what_en}", f"缺少必备内容：{what_zh}", rule=rule)


def sensitive_purposes(catalog: Catalog) -> set[str]:
    """Purposes that use sensitive PI (health, sensitive identifiers) or need separate consent."""
    found = {p.id for p in catalog.purposes.values() if p.separate_consent}
    for spec in catalog.fields.values():
        if spec.pi_class is PIClass.SENSITIVE or spec.category is Category.HEALTH:
            found.update(spec.purposes)
    return found


def parse_notice(raw: Any) -> NoticeDocument:
    """The document from YAML/JSON data; a malformed document names the element."""
    try:
        return NoticeDocument.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "notice"
        raise NoticeIncomplete(
            where, str(first["msg"]), f"格式不正确：{first['msg']}", rule="notice_malformed"
        ) from None


def validate_notice(doc: NoticeDocument, catalog: Catalog) -> None:
    """Refuse a notice that lacks a required element (A1, A3, A4, C3)."""
    if doc.locale not in LOCALES:
        raise NoticeIncomplete(
            "locale",
            f"must be one of {', '.join(LOCALES)}",
            f"应为 {'、'.join(LOCALES)} 之一",
            rule="notice_locale",
        )
    if doc.profile not in PROFILES:
        raise NoticeIncomplete(
            "profile",
            f"must be one of {', '.join(PROFILES)}",
            f"应为 {'、'.join(PROFILES)} 之一",
            rule="notice_profile",
        )
    for key, value, en, zh in (
        ("label", doc.label, "version label", "版本号"),
        (
            "handler.name",
            doc.handler.name,
            "personal-information handler's name",
            "个人信息处理者名称",
        ),
        ("handler.contact", doc.handler.contact, "handler's contact", "处理者联系方式"),
        (
            "privacy_officer.contact",
            doc.privacy_officer.contact,
            "privacy officer's contact",
            "个人信息保护负责人联系方式",
        ),
        ("retention", doc.retention, "retention period", "保存期限"),
        ("rights", doc.rights, "how to exercise your rights", "行使权利的方式"),
    ):
        if not value:
            raise _missing(key, en, zh)
    if not doc.purposes:
        raise _missing("purposes", "at least one purpose", "至少一项处理目的")
    if not doc.data_categories:
        raise _missing("data_categories", "the categories of data processed", "处理的个人信息种类")
    if doc.recipients is None:
        raise _missing("recipients", "the recipient list (may be empty)", "接收方清单（可为空）")
    categories = {c.value for c in Category}
    for index, category in enumerate(doc.data_categories):
        if category not in categories:
            raise NoticeIncomplete(
                f"data_categories[{index}]",
                f"unknown category {category!r}",
                f"未知的信息种类 {category!r}",
                rule="unknown_category",
            )
    sensitive = sensitive_purposes(catalog)
    seen: set[str] = set()
    for index, item in enumerate(doc.purposes):
        where = f"purposes[{index}]"
        spec = catalog.purposes.get(item.id)
        if spec is None:
            raise NoticeIncomplete(
                f"{where}.id",
                f"unknown purpose {item.id!r}",
                f"未知的处理目的 {item.id!r}",
                rule="unknown_purpose",
            )
        if item.id in seen:
            raise NoticeIncomplete(
                f"{where}.id", "purpose listed twice", "处理目的重复", rule="duplicate_purpose"
            )
        seen.add(item.id)
        if not item.text:
            raise _missing(f"{where}.text", "plain-language description", "通俗易懂的说明")
        if item.id in sensitive:
            if not item.necessity:
                raise _missing(
                    f"{where}.necessity",
                    "why sensitive data is necessary (PIPL 30)",
                    "处理敏感个人信息的必要性（个保法第30条）",
                    rule="sensitive_necessity",
                )
            if not item.impact:
                raise _missing(
                    f"{where}.impact",
                    "the impact on the person (PIPL 30)",
                    "对个人权益的影响（个保法第30条）",
                    rule="sensitive_impact",
                )
        if spec.needs_consent and "sms" in spec.channels:
            terms = item.sms_terms
            for part, zh in (("type", "类型"), ("frequency", "频次"), ("period", "期限")):
                if terms is None or not getattr(terms, part):
                    raise _missing(
                        f"{where}.sms_terms.{part}",
                        f"SMS message {part}",
                        f"短信的{zh}",
                        rule="sms_terms",
                    )
    for index, recipient in enumerate(doc.recipients):
        where = f"recipients[{index}]"
        if not recipient.name:
            raise _missing(f"{where}.name", "recipient name", "接收方名称")
        if not recipient.role:
            raise _missing(f"{where}.role", "recipient role (processor, third party)", "接收方身份")
        for purpose_id in recipient.purposes:
            if purpose_id not in seen:
                raise NoticeIncomplete(
                    f"{where}.purposes",
                    f"purpose {purpose_id!r} is not in this notice",
                    f"处理目的 {purpose_id!r} 未在本告知中列出",
                    rule="recipient_purpose",
                )
    if doc.minors is not None:
        for part, zh in (("text", "规则说明"), ("necessity", "必要性"), ("impact", "影响")):
            if not getattr(doc.minors, part):
                raise _missing(f"minors.{part}", f"minors' rules: {part}", f"未成年人规则：{zh}")


def renewal_purposes(
    previous: NoticeDocument | None, new: NoticeDocument, catalog: Catalog
) -> tuple[str, ...]:
    """Consent purposes whose earlier consents the change from ``previous`` to ``new`` affects.

    Conservative on purpose (DESIGN principle 6): a new purpose changes what
    the clinic does with the data, so every consent under the old text is put
    to the person again; a new category affects the purposes that use it; a
    new or widened recipient affects the purposes it receives data for.
    """
    if previous is None:
        return ()
    consent_based = {p.id for p in new.purposes if catalog.purposes[p.id].needs_consent}
    old_purposes = {p.id: p for p in previous.purposes}
    affected: set[str] = set()
    if set(p.id for p in new.purposes) - set(old_purposes):
        affected |= consent_based
    for item in new.purposes:
        old = old_purposes.get(item.id)
        if old is not None and old != item:
            affected.add(item.id)
    for category in set(new.data_categories) - set(previous.data_categories):
        for spec in catalog.fields.values():
            if spec.category.value == category:
                affected |= set(spec.purposes)
    old_recipients = {r.name: r for r in previous.recipients or []}
    for recipient in new.recipients or []:
        old_r = old_recipients.get(recipient.name)
        widened = old_r is None or (
            set(recipient.purposes) - set(old_r.purposes)
            or set(recipient.categories) - set(old_r.categories)
        )
        if widened:
            affected |= set(recipient.purposes) if recipient.purposes else consent_based
    return tuple(sorted(affected & consent_based))


def _row_to_notice(row: Any, current: bool = True) -> PublishedNotice:
    doc = NoticeDocument.model_validate(json.loads(row.body))
    return PublishedNotice(
        version_hash=row.version_hash,
        locale=row.locale,
        label=row.label,
        profile=row.profile,
        document=doc,
        text=row.body,
        published_us=row.published_us,
        supersedes=row.supersedes,
        renewal_purposes=tuple(p for p in row.renewal_purposes.split(",") if p),
        current=current,
    )


def current_notice(conn: Connection, tenant_id: int, locale: str) -> PublishedNotice | None:
    row = conn.execute(
        select(notice_version)
        .where(notice_version.c.tenant_id == tenant_id, notice_version.c.locale == locale)
        .order_by(notice_version.c.id.desc())
        .limit(1)
    ).first()
    return _row_to_notice(row) if row is not None else None


def get_notice(conn: Connection, tenant_id: int, version_hash: str) -> PublishedNotice:
    """A published version by hash; an unknown hash is refused (``notice_unpublished``)."""
    row = conn.execute(
        select(notice_version).where(
            notice_version.c.tenant_id == tenant_id, notice_version.c.version_hash == version_hash
        )
    ).first()
    if row is None:
        raise NoticeNotPublished(
            "notice_hash", "no published notice has this hash", "没有此哈希值的已发布告知"
        )
    latest = current_notice(conn, tenant_id, row.locale)
    return _row_to_notice(
        row, current=latest is not None and latest.version_hash == row.version_hash
    )


def find_notice(conn: Connection, tenant_id: int, version_hash: str) -> PublishedNotice:
    try:
        return get_notice(conn, tenant_id, version_hash)
    except NoticeNotPublished:
        raise NoticeNotFound("notice_hash", "not found", "未找到") from None


def publish_notice(
    conn: Connection, kernel: Kernel, ctx: AccessContext, doc: NoticeDocument
) -> PublishedNotice:
    """Validate and publish ``doc`` in the caller's transaction; idempotent per text."""
    if ctx.role not in PUBLISHER_ROLES:
        raise AccessDenied(f"role {ctx.role} may not publish notices (privacy officer only)")
    validate_notice(doc, kernel.catalog)
    text = doc.canonical_text()
    digest = notice_hash(text)
    existing = conn.execute(
        select(notice_version).where(
            notice_version.c.tenant_id == ctx.tenant_id, notice_version.c.version_hash == digest
        )
    ).first()
    if existing is not None:
        return _row_to_notice(existing)
    previous = current_notice(conn, ctx.tenant_id, doc.locale)
    renewal = renewal_purposes(previous.document if previous else None, doc, kernel.catalog)
    now = now_us()
    conn.execute(
        insert(notice_version).values(
            tenant_id=ctx.tenant_id,
            locale=doc.locale,
            version_hash=digest,
            label=doc.label,
            profile=doc.profile,
            body=text,
            purposes=",".join(p.id for p in doc.purposes),
            renewal_purposes=",".join(renewal),
            supersedes=previous.version_hash if previous else None,
            published_us=now,
            published_by=ctx.actor,
        )
    )
    marked = 0
    if renewal:
        older = select(notice_version.c.version_hash).where(
            notice_version.c.tenant_id == ctx.tenant_id,
            notice_version.c.locale == doc.locale,
            notice_version.c.version_hash != digest,
        )
        marked = conn.execute(
            update(consent_state)
            .where(
                consent_state.c.tenant_id == ctx.tenant_id,
                consent_state.c.purpose.in_(renewal),
                consent_state.c.status == "granted",
                consent_state.c.notice_hash.in_(older),
            )
            .values(needs_renewal=True, updated_us=now)
        ).rowcount
    append_events(
        conn,
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.SETTINGS,
                Outcome.ALLOWED,
                None,
                (),
                {
                    "notice_published": digest,
                    "locale": doc.locale,
                    "renewal_purposes": list(renewal),
                    "consents_marked_for_renewal": marked,
                },
            )
        ],
        kernel.signer_for(ctx.tenant_id),
    )
    return PublishedNotice(
        digest,
        doc.locale,
        doc.label,
        doc.profile,
        doc,
        text,
        now,
        previous.version_hash if previous else None,
        renewal,
    )
