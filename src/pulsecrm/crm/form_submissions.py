"""Storing a capture-form submission: person, lead, consent decisions and sealed answers, at once.

One submission is one transaction. Either the person (found by blind index, or
created), their lead with its attribution, every consent decision with its
evidence, and the sealed health answers are all stored — or, on any refusal,
nothing is. Refusals name the field and the rule:

* a value for a field the form does not collect (D1, nothing stored silently);
* a decision for a purpose the form does not ask about;
* health answers without the separate consent for health data ticked on the
  same submission (PIPL 29, B4 — sensitive personal information needs its own
  consent, never bundled with the rest);
* an identifier that is not one (a phone that is not a number, …).

The form's health answers are sealed together, per record, as the catalog field
``questionnaire_answers`` under the person's key: erasing the person erases them.
Two contexts act: the *intake* context (``lead_intake``) writes person, lead and
answers for ``service.appointment``, and the person's own consent-intake context
records the decisions, exactly as a public consent page does.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select

from pulsecrm.catalog.model import Category
from pulsecrm.consent import service as consent_service
from pulsecrm.consent.ledger import Kind
from pulsecrm.crm.clinic_tables import capture_form, form_submission
from pulsecrm.crm.errors import ConsentMissing, UnknownFormField
from pulsecrm.crm.forms import HEALTH_CONSENT_PURPOSE, FormDefinition, check_submission, load_form
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import Attribution, create_lead
from pulsecrm.crm.person_rows import RowError, parse_person_row
from pulsecrm.crm.tables import person
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.policy import Access
from pulsecrm.kernel.record_vault import SealedItem
from pulsecrm.kernel.runtime import Kernel

INTAKE_ROLE = "lead_intake"
INTAKE_PURPOSE = "service.appointment"
CONSENT_ROLE = "consent_intake"
CONSENT_PURPOSE = "compliance.dsr"
ANSWERS_FIELD = "questionnaire_answers"
# catalog field → the person-row column that validates and stores it
PERSON_COLUMNS = {
    "name": "name",
    "phone": "phone",
    "email": "email",
    "id_number": "id_number",
    "gender": "gender",
    "birth_date": "birth_date",
    "city": "city",
    "source_channel": "source",
}


@dataclass(frozen=True)
class FormDecision:
    """One consent box as the person left it (``granted`` False = refused, recorded too)."""

    purpose: str
    granted: bool
    channel: str | None = None


@dataclass(frozen=True)
class SubmittedForm:
    slug: str
    values: Mapping[str, Any]
    decisions: Sequence[FormDecision]
    notice_hash: str | None
    attribution: Attribution | None = None
    branch_id: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    locale: str = "zh-CN"


@dataclass(frozen=True)
class StoredSubmission:
    submission_id: str
    person_id: str
    lead_id: str
    created_person: bool
    consent_events: int


def intake_context(tenant_id: int, actor: str, locale: str) -> AccessContext:
    return AccessContext(actor[:100], INTAKE_ROLE, tenant_id, INTAKE_PURPOSE, None, locale)


def _split(
    kernel: Kernel, form: FormDefinition, values: Mapping[str, Any]
) -> tuple[dict[str, str | None], dict[str, Any]]:
    """Person-row values and health answers; anything else is refused naming it."""
    person_values: dict[str, str | None] = {}
    answers: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == "":
            continue
        spec = kernel.catalog.fields[name]
        if spec.category is Category.HEALTH:
            answers[name] = value
        elif name in PERSON_COLUMNS:
            if not isinstance(value, str):
                raise InvalidValue(name, "must be text", "应为文本")
            person_values[PERSON_COLUMNS[name]] = value
        else:
            raise UnknownFormField(
                name, "forms cannot capture this field yet", "表单暂不能采集此字段"
            )
    return person_values, answers


def _check_decisions(
    kernel: Kernel, form: FormDefinition, decisions: Sequence[FormDecision], answers: dict[str, Any]
) -> None:
    asked = {p for p in form.purposes if kernel.catalog.purposes[p].needs_consent}
    if any(kernel.catalog.fields[f].category is Category.HEALTH for f in form.fields):
        asked.add(HEALTH_CONSENT_PURPOSE)
    seen: set[tuple[str, str | None]] = set()
    for decision in decisions:
        if decision.purpose not in asked:
            raise InvalidValue(
                "decisions",
                f"this form does not ask about {decision.purpose!r}",
                f"该表单未询问处理目的 {decision.purpose!r}",
            )
        key = (decision.purpose, _channel(kernel, decision))
        if key in seen:
            raise InvalidValue(
                "decisions",
                f"{decision.purpose!r} decided twice for the same channel",
                f"处理目的 {decision.purpose!r} 在同一渠道重复",
            )
        seen.add(key)
    health_granted = any(d.purpose == HEALTH_CONSENT_PURPOSE and d.granted for d in decisions)
    if answers and not health_granted:
        raise ConsentMissing(
            sorted(answers)[0],
            "health answers need the separate consent for health data",
            "健康信息需要单独同意后才能提交",
        )


def _find_or_create(
    conn: Connection, kernel: Kernel, ctx: AccessContext, values: dict[str, str | None]
) -> tuple[str, bool]:
    parsed = parse_person_row(0, values, ctx.locale)
    if isinstance(parsed, RowError):
        raise InvalidValue(parsed.column, parsed.reason, parsed.reason)
    if not parsed.keys:
        raise InvalidValue(
            "phone", "phone, e-mail or ID number is required", "需要手机号、邮箱或证件号"
        )
    existing: set[str] = set()
    for field_name, value in parsed.keys.items():
        for subjects in kernel.vault.match(conn, ctx, field_name, [value]).values():
            existing |= subjects
    if existing:
        return min(existing), False
    person_id = uuid.uuid4().hex
    now = now_us()
    conn.execute(
        insert(person).values(id=person_id, tenant_id=ctx.tenant_id, created_us=now, updated_us=now)
    )
    kernel.vault.write(
        conn, ctx, {person_id: {**parsed.identity, **parsed.profile}}, new_subjects=[person_id]
    )
    return person_id, True


def _channel(kernel: Kernel, decision: FormDecision) -> str | None:
    """A box for a one-channel purpose needs no channel; several channels must be named."""
    channels = kernel.catalog.purposes[decision.purpose].channels
    if decision.channel is None and len(channels) == 1:
        return channels[0]
    return decision.channel


def _record_consent(
    conn: Connection,
    kernel: Kernel,
    sub: SubmittedForm,
    form_id: str,
    tenant_id: int,
    person_id: str,
) -> int:
    if not sub.decisions:
        return 0
    ctx = AccessContext(
        f"subject:{person_id}", CONSENT_ROLE, tenant_id, CONSENT_PURPOSE, None, sub.locale
    )
    rows = consent_service.record(
        conn,
        kernel,
        ctx,
        [
            consent_service.Submission(
                person_id=person_id,
                decisions=[
                    consent_service.Decision(
                        d.purpose,
                        _channel(kernel, d),
                        Kind.GRANT if d.granted else Kind.REFUSE,
                    )
                ],
                method="web_form",
                notice_hash=sub.notice_hash,
                origin="subject",
                evidence=consent_service.Evidence(
                    form_id=form_id, ip=sub.ip, user_agent=sub.user_agent
                ),
                language=sub.locale,
            )
            # one submission per decision: each box is its own act (no bundling, B4)
            for d in sub.decisions
        ],
    )
    return len(rows)


def submit_form(
    conn: Connection, kernel: Kernel, *, tenant_id: int, actor: str, sub: SubmittedForm
) -> StoredSubmission:
    """Validate and store one submission in the caller's transaction (see module doc)."""
    form = load_form(conn=conn, tenant_id=tenant_id, slug=sub.slug)
    check_submission(form, dict(sub.values))
    person_values, answers = _split(kernel, form, sub.values)
    _check_decisions(kernel, form, sub.decisions, answers)
    form_id = conn.execute(
        select(capture_form.c.id).where(
            capture_form.c.tenant_id == tenant_id, capture_form.c.slug == sub.slug
        )
    ).scalar_one()
    ctx = intake_context(tenant_id, actor, sub.locale)
    person_id, created = _find_or_create(conn, kernel, ctx, person_values)
    events = _record_consent(conn, kernel, sub, form_id, tenant_id, person_id)
    lead_id = create_lead(
        conn=conn,
        tenant_id=tenant_id,
        person_id=person_id,
        attribution=sub.attribution or Attribution(form.channel),
        branch_id=sub.branch_id,
    )
    submission_id = new_id()
    sealed = (
        kernel.records.seal(
            ctx, person_id, ANSWERS_FIELD, submission_id, json.dumps(answers, ensure_ascii=False)
        )
        if answers
        else None
    )
    conn.execute(
        insert(form_submission).values(
            id=submission_id,
            tenant_id=tenant_id,
            form_id=form_id,
            person_id=person_id,
            lead_id=lead_id,
            created_us=now_us(),
            notice_hash=sub.notice_hash,
            answers=sealed,
        )
    )
    return StoredSubmission(submission_id, person_id, lead_id, created, events)


def list_submissions(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    person_id: str,
    reveal: bool = False,
) -> list[dict[str, Any]]:
    """A person's submissions, answers opened through the kernel (masked unless revealed).

    The kernel checks the role and purpose and audits the read; a role without the
    health category gets no answers at all (``None``), never a partial plaintext.
    """
    rows = conn.execute(
        select(form_submission, capture_form.c.slug)
        .join(capture_form, capture_form.c.id == form_submission.c.form_id)
        .where(
            form_submission.c.tenant_id == ctx.tenant_id, form_submission.c.person_id == person_id
        )
        .order_by(form_submission.c.created_us.desc())
    ).all()
    with_answers = [r for r in rows if r.answers is not None]
    opened: dict[str, str | None] = {}
    if (
        with_answers
        and kernel.policy.decide(ctx.role, ANSWERS_FIELD, ctx.purpose) is not Access.DENY
    ):
        values = kernel.records.open(
            ctx,
            [SealedItem(r.person_id, ANSWERS_FIELD, r.id, r.answers) for r in with_answers],
            reveal=reveal,
        )
        opened = {r.id: v for r, v in zip(with_answers, values, strict=True)}
    result = []
    for r in rows:
        raw = opened.get(r.id)
        answers: Any = None
        if raw is not None:
            try:
                answers = json.loads(raw)
            except ValueError:
                answers = raw  # a mask, not JSON
        result.append(
            {
                "id": r.id,
                "form": r.slug,
                "lead_id": r.lead_id,
                "created_us": r.created_us,
                "notice_hash": r.notice_hash,
                "answers": answers,
            }
        )
    return result
