"""What ``pulsecrm demo`` needs so the patient pages have something to show.

A published notice in zh-CN and en (only when none is published yet), the
demo capture form ``dental-consult``, and one demo patient with two consents
and a signed link to their preference centre. Everything goes through the
consent and CRM services, exactly as the clinic's own staff would do it;
running it twice changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from pulsecrm.consent import service as consent_service
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import current_notice, parse_notice, publish_notice
from pulsecrm.consent.tokens import make_link_token
from pulsecrm.crm import forms, people_service
from pulsecrm.crm.errors import NotFound
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.normalisers import normalise_phone
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

DEMO_DATA = Path(__file__).parent / "demo_data"
FORM = forms.FormDefinition(
    slug="dental-consult",
    title="口腔咨询预约 · Dental consultation",
    purposes=[
        "service.appointment",
        "marketing.sms",
        "marketing.email",
        "marketing.personalized_health",
        "sharing.partner",
    ],
    fields=["name", "phone", "email", "questionnaire_answers"],
)
DEMO_PATIENT = {"name": "演示患者", "phone": "13800000001", "email": "demo.patient@example.com"}


def _ctx(tenant_id: int, role: str, purpose: str) -> AccessContext:
    return AccessContext("demo:patient-pages", role, tenant_id, purpose)


def _publish_notices(kernel: Kernel, tenant_id: int) -> str:
    officer = _ctx(tenant_id, "privacy_officer", "compliance.audit")
    current = ""
    for locale in ("zh-CN", "en"):
        with kernel.engine.begin() as conn:
            found = current_notice(conn, tenant_id, locale)
            if found is None:
                raw = yaml.safe_load((DEMO_DATA / f"notice.{locale}.yaml").read_text("utf-8"))
                found = publish_notice(conn, kernel, officer, parse_notice(raw))
        if locale == "zh-CN" and found is not None:
            current = found.version_hash
    return current


def _define_form(kernel: Kernel, tenant_id: int) -> None:
    with kernel.engine.begin() as conn:
        try:
            forms.load_form(conn=conn, tenant_id=tenant_id, slug=FORM.slug)
        except NotFound:
            forms.define_form(conn=conn, catalog=kernel.catalog, tenant_id=tenant_id, form=FORM)


def _demo_patient(kernel: Kernel, tenant_id: int, notice_hash: str) -> str:
    desk = _ctx(tenant_id, "consultant", "service.appointment")
    with read_connection(kernel.engine) as conn, conn.begin():
        found = kernel.vault.match(conn, desk, "phone", [normalise_phone(DEMO_PATIENT["phone"])])
    existing = set().union(*found.values()) if found else set()
    if existing:
        return min(existing)
    with kernel.engine.begin() as conn:
        person_id = people_service.create_person(
            conn=conn, kernel=kernel, ctx=desk, values=dict(DEMO_PATIENT)
        )
        me = AccessContext(f"subject:{person_id}", "consent_intake", tenant_id, "compliance.dsr")
        consent_service.record(
            conn,
            kernel,
            me,
            [
                consent_service.Submission(
                    person_id=person_id,
                    decisions=[consent_service.Decision(purpose, channel, Kind.GRANT)],
                    method="web_form",
                    notice_hash=notice_hash,
                    origin="subject",
                    evidence=consent_service.Evidence(form_id="demo", ip="192.0.2.1"),
                )
                for purpose, channel in (("marketing.sms", "sms"), ("marketing.email", "email"))
            ],
        )
    return person_id


def seed_patient_pages(kernel: Kernel) -> dict[str, str]:
    """Seed (idempotently) and return the paths worth opening: form, preferences, requests."""
    tenant_id = kernel.tenant_id()
    notice_hash = _publish_notices(kernel, tenant_id)
    _define_form(kernel, tenant_id)
    person_id = _demo_patient(kernel, tenant_id, notice_hash)
    token = make_link_token(kernel, tenant_id, person_id, ttl_days=30)
    return {
        "patient consent form": f"/p/forms/{FORM.slug}",
        "patient preference centre (demo patient, link valid 30 days)": f"/p/preferences/{token}",
        "patient data requests": "/p/requests",
    }
