"""Capture forms and health questionnaires declared as data (D1, minimum necessity).

A form names its purposes and its fields (catalog fields). Defining a form
that collects a field none of its purposes needs is refused, naming the
field. Rendering gives the current notice and one *unchecked* box per
optional (consent-based) purpose; health questions get their own separate
box. A submission with a field the form does not collect is refused, naming
it — nothing is stored silently.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import yaml
from sqlalchemy import Connection, insert, select

from pulsecrm.catalog.loader import Catalog
from pulsecrm.catalog.model import Category
from pulsecrm.consent.notices import current_notice
from pulsecrm.crm.clinic_tables import capture_form
from pulsecrm.crm.errors import Duplicate, FieldNotNeeded, UnknownFormField, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.kernel.errors import InvalidValue

HEALTH_CONSENT_PURPOSE = "marketing.personalized_health"


@dataclass(frozen=True)
class FormDefinition:
    slug: str
    title: str
    purposes: list[str]
    fields: list[str]
    channel: str = "web_form"
    extra: dict[str, Any] = field(default_factory=dict)


def parse_form(raw: str | dict[str, Any]) -> FormDefinition:
    data = yaml.safe_load(raw) if isinstance(raw, str) else dict(raw)
    if not isinstance(data, dict):
        raise InvalidValue(
            "form",
            "a mapping with slug, title, purposes, fields",
            "应为包含 slug、title、purposes、fields 的映射",
        )
    known = {"slug", "title", "purposes", "fields", "channel"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise UnknownFormField(unknown[0], "not a form attribute", "不是表单属性")
    for key in ("slug", "title", "purposes", "fields"):
        if not data.get(key):
            raise InvalidValue(key, "required", "必填")
    return FormDefinition(
        slug=str(data["slug"]),
        title=str(data["title"]),
        purposes=[str(p) for p in data["purposes"]],
        fields=[str(f) for f in data["fields"]],
        channel=str(data.get("channel", "web_form")),
    )


def check_form(catalog: Catalog, form: FormDefinition) -> None:
    """D1: every field exists and at least one of the form's purposes declares it."""
    for purpose in form.purposes:
        if purpose not in catalog.purposes:
            raise InvalidValue("purposes", f"unknown purpose {purpose!r}", f"未知目的 {purpose!r}")
    for name in form.fields:
        spec = catalog.fields.get(name)
        if spec is None or spec.stored_in is None:
            raise UnknownFormField(name, "not a stored catalog field", "不是已存储的目录字段")
        if not set(spec.purposes) & set(form.purposes):
            raise FieldNotNeeded(
                name,
                f"none of the form's purposes ({', '.join(form.purposes)}) needs this field",
                f"表单的处理目的（{'、'.join(form.purposes)}）均不需要该字段",
            )


def define_form(*, conn: Connection, catalog: Catalog, tenant_id: int, form: FormDefinition) -> str:
    check_form(catalog, form)
    if conn.execute(
        select(capture_form.c.id).where(
            capture_form.c.tenant_id == tenant_id, capture_form.c.slug == form.slug
        )
    ).first():
        raise Duplicate("slug", "a form with this slug exists", "该表单标识已存在")
    form_id = new_id()
    conn.execute(
        insert(capture_form).values(
            id=form_id,
            tenant_id=tenant_id,
            slug=form.slug,
            title=form.title,
            definition=json.dumps(asdict(form), ensure_ascii=False),
            created_us=now_us(),
        )
    )
    return form_id


def load_form(*, conn: Connection, tenant_id: int, slug: str) -> FormDefinition:
    raw = conn.execute(
        select(capture_form.c.definition).where(
            capture_form.c.tenant_id == tenant_id, capture_form.c.slug == slug
        )
    ).scalar()
    if raw is None:
        raise not_found("form", slug)
    return FormDefinition(**json.loads(raw))


def render_form(
    *, conn: Connection, catalog: Catalog, tenant_id: int, slug: str, locale: str
) -> dict[str, Any]:
    """What a capture page shows: fields, the current notice, unchecked consent boxes."""
    form = load_form(conn=conn, tenant_id=tenant_id, slug=slug)
    notice = current_notice(conn, tenant_id, locale)
    boxes = [
        {
            "purpose": p,
            "label": catalog.purposes[p].name.get(locale),
            "separate": catalog.purposes[p].separate_consent,
            # a purpose with several channels is decided per channel: one box each
            "channels": list(catalog.purposes[p].channels),
            "checked": False,
        }
        for p in form.purposes
        if catalog.purposes[p].needs_consent
    ]
    health = [f for f in form.fields if catalog.fields[f].category is Category.HEALTH]
    if health and not any(b["purpose"] == HEALTH_CONSENT_PURPOSE for b in boxes):
        boxes.append(
            {
                "purpose": HEALTH_CONSENT_PURPOSE,
                "label": catalog.purposes[HEALTH_CONSENT_PURPOSE].name.get(locale),
                "separate": True,
                "channels": list(catalog.purposes[HEALTH_CONSENT_PURPOSE].channels),
                "checked": False,
            }
        )
    return {
        "slug": form.slug,
        "title": form.title,
        "purposes": form.purposes,
        "fields": [{"name": f, "health": f in health} for f in form.fields],
        "notice_hash": notice.version_hash if notice else None,
        "consent_boxes": boxes,
    }


def check_submission(form: FormDefinition, values: dict[str, Any]) -> None:
    """A value for a field the form does not collect is refused, naming it."""
    for name in values:
        if name not in form.fields:
            raise UnknownFormField(
                name, "this form does not collect this field", "该表单不收集此字段"
            )
