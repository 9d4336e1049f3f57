"""Consent services: record decisions, withdraw, answer status and prompts.

Keyword-only functions over a ``Connection`` (the caller owns the
transaction) and an :class:`AccessContext`. Every rule is checked for the
whole submission before anything is written, so bad input writes nothing:

* B1/B2 — only consent-based purposes from the catalog, one decision per
  purpose and channel, never by default, implication or silence;
* A1 — a grant cites the current published notice of its language, and the
  notice lists the purpose;
* B4 — a separate-consent (单独同意) purpose is granted only in a submission
  about that purpose alone;
* B8 — a minor's grant for marketing or a sensitive purpose comes from a
  guardian who is named with their relationship;
* B3 — staff-recorded grants carry evidence; IP, user agent and guardian
  identity are sealed under the person's key, a scan is kept as its SHA-256;
* HIPAA — under a ``hipaa`` notice a marketing grant is an authorization with
  its required elements (164.508(c)).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from pulsecrm.consent import ledger, minors, state
from pulsecrm.consent.errors import (
    GuardianRequired,
    InvalidEvidence,
    NothingToRenew,
    PersonNotFound,
    PurposeNotInNotice,
)
from pulsecrm.consent.ledger import NO_CHANNEL, Kind, LedgerRow
from pulsecrm.consent.notices import PublishedNotice, current_notice, get_notice
from pulsecrm.consent.submission import (  # noqa: F401  (public names re-exported)
    ACTOR_TYPES,
    EVIDENCE_ROLE_FIELD,
    HIPAA_ELEMENTS,
    METHODS,
    NOT_CONSENT,
    ORIGINS,
    Decision,
    Evidence,
    Guardian,
    Submission,
    check_authorization,
    check_bundling,
    check_decision,
    check_evidence,
    check_method,
    check_notice,
    expiry_of,
    resolve_channel,
)
from pulsecrm.consent.tables import consent_state, privacy_preference
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome, now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied
from pulsecrm.kernel.normalisers import NORMALISERS
from pulsecrm.kernel.policy import Access
from pulsecrm.kernel.runtime import Kernel


# -- authorisation of the recorder -------------------------------------------------
def may_record(kernel: Kernel, ctx: AccessContext) -> bool:
    return kernel.policy.decide(ctx.role, EVIDENCE_ROLE_FIELD, ctx.purpose) is not Access.DENY


def check_recorder(kernel: Kernel, ctx: AccessContext) -> None:
    """Refuse (and audit) a role that may not handle consent records for ``ctx.purpose``.

    Call it *before* opening the write transaction: the denial is audited on
    the kernel's own connection.
    """
    if may_record(kernel, ctx):
        return
    kernel.audit_writer.record(
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.WRITE,
                Outcome.DENIED,
                None,
                ("consent",),
                {"reason": "role may not record consent"},
            )
        ],
    )
    raise AccessDenied(f"role {ctx.role} may not record consent for {ctx.purpose}")


def _prepare(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    submissions: Sequence[Submission],
    now: int,
) -> list[LedgerRow]:
    catalog = kernel.catalog
    notices: dict[str, PublishedNotice] = {}
    people = minors.subjects(conn, ctx.tenant_id, [s.person_id for s in submissions])
    current_states = _existing_states(conn, ctx.tenant_id, submissions)
    rows: list[LedgerRow] = []
    sms_terms: dict[tuple[str, str], dict[str, Any]] = {}
    for sub in submissions:
        check_method(sub.method)
        if not sub.decisions:
            raise InvalidEvidence(
                "decisions", "at least one decision", "至少一项决定", rule="decisions_required"
            )
        if sub.person_id not in people:
            raise PersonNotFound("person_id", "no such person", "查无此人")
        channels = [check_decision(catalog, d) for d in sub.decisions]
        seen: set[tuple[str, str]] = set()
        for d, ch in zip(sub.decisions, channels, strict=True):
            if (d.purpose, ch) in seen:
                raise InvalidEvidence(
                    "decisions",
                    f"{d.purpose}/{ch} decided twice",
                    f"{d.purpose}/{ch} 重复",
                    rule="one_decision_per_purpose_channel",
                )
            seen.add((d.purpose, ch))
        check_bundling(catalog, sub)
        grants = any(d.kind in (Kind.GRANT, Kind.RENEW) for d in sub.decisions)
        check_evidence(sub, grants)
        minor = people[sub.person_id]
        notice = check_notice(conn, ctx.tenant_id, sub, notices) if grants else None
        if notice is None and sub.notice_hash:
            notice = notices.get(sub.notice_hash) or get_notice(
                conn, ctx.tenant_id, sub.notice_hash
            )
            notices[sub.notice_hash] = notice
        for decision, channel in zip(sub.decisions, channels, strict=True):
            terms: dict[str, Any] = {}
            gate = minors.needs_guardian(catalog, decision.purpose)
            if decision.kind in (Kind.GRANT, Kind.RENEW):
                assert notice is not None
                item = notice.document.purpose(decision.purpose)
                if item is None:
                    raise PurposeNotInNotice(
                        "purpose",
                        f"{decision.purpose} is not in notice {notice.version_hash[:12]}",
                        f"告知版本 {notice.version_hash[:12]} 未列出 {decision.purpose}",
                    )
                if item.sms_terms is not None and channel == "sms":
                    cached = (notice.version_hash, decision.purpose)
                    if cached not in sms_terms:
                        sms_terms[cached] = item.sms_terms.model_dump()
                    terms["sms_terms"] = sms_terms[cached]
                terms.update(check_authorization(notice, decision, sub))
                if minor and gate and sub.actor_type != "guardian":
                    raise GuardianRequired(
                        "guardian",
                        f"the person is under {minors.AGE_OF_CONSENT}: {decision.purpose} needs "
                        "a guardian's consent, with the guardian's identity and relationship",
                        f"本人未满{minors.AGE_OF_CONSENT}周岁：{decision.purpose} 须由监护人同意，"
                        "并载明监护人身份及关系",
                    )
                if decision.kind is Kind.RENEW:
                    key = (sub.person_id, decision.purpose, channel)
                    if current_states.get(key) != state.GRANTED:
                        raise NothingToRenew(
                            "decisions",
                            f"no current consent for {decision.purpose}/{channel} to renew",
                            f"{decision.purpose}/{channel} 没有可续期的同意",
                        )
            language = notice.locale if notice else (sub.language or ctx.locale)
            rows.append(
                LedgerRow(
                    id=os.urandom(16).hex(),
                    person_id=sub.person_id,
                    purpose=decision.purpose,
                    channel=channel,
                    kind=decision.kind,
                    notice_hash=notice.version_hash if notice else None,
                    language=language,
                    ts_us=now,
                    method=sub.method,
                    origin=sub.origin,
                    actor_type=sub.actor_type,
                    actor=ctx.actor,
                    form_id=sub.evidence.form_id,
                    evidence_ref=sub.evidence.ref,
                    scan_sha256=sub.evidence.scan_sha256,
                    expires_us=expiry_of(sub, terms)
                    if decision.kind in (Kind.GRANT, Kind.RENEW)
                    else None,
                    terms=terms,
                    subject_minor=minor,
                    guardian_gate=gate,
                )
            )
    return rows


def _existing_states(
    conn: Connection, tenant_id: int, submissions: Sequence[Submission]
) -> dict[tuple[str, str, str], str]:
    people = [s.person_id for s in submissions if any(d.kind is Kind.RENEW for d in s.decisions)]
    if not people:
        return {}
    rows = conn.execute(
        select(
            consent_state.c.person_id,
            consent_state.c.purpose,
            consent_state.c.channel,
            consent_state.c.status,
        ).where(consent_state.c.tenant_id == tenant_id, consent_state.c.person_id.in_(people))
    )
    return {(r.person_id, r.purpose, r.channel): r.status for r in rows}


def _seal(
    kernel: Kernel, ctx: AccessContext, rows: list[LedgerRow], subs: Sequence[Submission]
) -> None:
    by_person = {s.person_id: s for s in subs}
    for row in rows:
        sub = by_person[row.person_id]
        values = {
            "ip": sub.evidence.ip,
            "user_agent": sub.evidence.user_agent,
            "guardian_name": sub.guardian.name if sub.guardian else None,
            "guardian_relationship": sub.guardian.relationship if sub.guardian else None,
        }
        for column, value in values.items():
            if value:
                row.sealed[column] = kernel.records.seal(
                    ctx, row.person_id, ledger.EVIDENCE_FIELDS[column], row.id, value
                )


def record(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    submissions: Sequence[Submission],
    *,
    now: int | None = None,
) -> list[LedgerRow]:
    """Validate every submission, then append the events and update the state.

    Each submission is checked on its own for bundling (B4): pass one per
    person action. Raises a :class:`ConsentError` naming field and rule, or
    ``AccessDenied`` for a role that may not record consent; nothing is
    written then.
    """
    if not may_record(kernel, ctx):
        raise AccessDenied(f"role {ctx.role} may not record consent for {ctx.purpose}")
    rows = _prepare(conn, kernel, ctx, submissions, now if now is not None else now_us())
    _seal_each(kernel, ctx, rows, submissions)
    ledger.append(conn, kernel, ctx, rows)
    state.apply(conn, ctx.tenant_id, rows)
    return rows


def _seal_each(
    kernel: Kernel, ctx: AccessContext, rows: list[LedgerRow], subs: Sequence[Submission]
) -> None:
    index = 0
    for sub in subs:
        count = len(sub.decisions)
        _seal(kernel, ctx, rows[index : index + count], [sub])
        index += count


# -- withdrawal ------------------------------------------------------------------------
def withdraw(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    person_id: str,
    purpose: str | None = None,
    channel: str | None = None,
    method: str,
    origin: str = "subject",
    evidence: Evidence | None = None,
    default_purpose: str | None = None,
) -> list[LedgerRow]:
    """Withdraw what is currently granted for ``person_id`` — all, one channel, or one purpose.

    One call, one step (B9): no confirmation, effective for the next read.
    When nothing matching is granted and ``default_purpose`` is given, a
    withdrawal is still recorded for it so that it is remembered (B6).
    """
    query = select(consent_state.c.purpose, consent_state.c.channel).where(
        consent_state.c.tenant_id == ctx.tenant_id,
        consent_state.c.person_id == person_id,
        consent_state.c.status == state.GRANTED,
    )
    if purpose is not None:
        query = query.where(consent_state.c.purpose == purpose)
    if channel is not None:
        query = query.where(consent_state.c.channel == channel)
    targets = [(r.purpose, r.channel) for r in conn.execute(query)]
    if not targets and default_purpose is not None:
        targets = [(default_purpose, channel)]
    if not targets:
        return []
    decisions = [Decision(p, None if c == NO_CHANNEL else c, Kind.WITHDRAW) for p, c in targets]
    return record(
        conn,
        kernel,
        ctx,
        [
            Submission(
                person_id=person_id,
                decisions=decisions,
                method=method,
                origin=origin,
                evidence=evidence or Evidence(),
            )
        ],
    )


def expire_due(
    conn: Connection, kernel: Kernel, ctx: AccessContext, *, now: int | None = None
) -> list[LedgerRow]:
    """Record an ``expire`` event for every grant past its expiry (a scheduled job).

    The hook already denies expired grants; this makes the expiry part of the ledger.
    """
    now = now if now is not None else now_us()
    due = conn.execute(
        select(consent_state.c.person_id, consent_state.c.purpose, consent_state.c.channel).where(
            consent_state.c.tenant_id == ctx.tenant_id,
            consent_state.c.status == state.GRANTED,
            consent_state.c.expires_us.is_not(None),
            consent_state.c.expires_us <= now,
        )
    ).all()
    subs = [
        Submission(
            person_id=r.person_id,
            decisions=[
                Decision(r.purpose, None if r.channel == NO_CHANNEL else r.channel, Kind.EXPIRE)
            ],
            method="system",
            origin="system",
        )
        for r in due
    ]
    return record(conn, kernel, ctx, subs, now=now) if subs else []


# -- reading --------------------------------------------------------------------------
def status(conn: Connection, kernel: Kernel, tenant_id: int, person_id: str) -> dict[str, Any]:
    """Every consent of a person with its current state, and whether they are a minor."""
    people = minors.subjects(conn, tenant_id, [person_id])
    if person_id not in people:
        raise PersonNotFound("person_id", "no such person", "查无此人")
    now = now_us()
    items = []
    for row in state.states_of(conn, tenant_id, person_id):
        usable = (
            row["status"] == state.GRANTED
            and not row["needs_renewal"]
            and not row["minor_blocked"]
            and (row["expires_us"] is None or row["expires_us"] > now)
        )
        items.append(
            {
                "purpose": row["purpose"],
                "channel": row["channel"],
                "status": row["status"],
                "needs_renewal": bool(row["needs_renewal"]),
                "by_guardian": bool(row["by_guardian"]),
                "expires_at": _iso(row["expires_us"]),
                "notice_hash": row["notice_hash"],
                "last_event_id": row["last_event_id"],
                "updated_at": _iso(row["updated_us"]),
                "effective": usable,
            }
        )
    minor = people[person_id]
    marketing_ok = [i for i in items if i["purpose"].startswith("marketing.") and i["effective"]]
    return {
        "person_id": person_id,
        "sensitive_minor": minor,
        "marketing_eligible": bool(marketing_ok),
        "consents": items,
    }


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).isoformat().replace("+00:00", "Z")


def may_ask(conn: Connection, tenant_id: int, person_id: str, purpose: str, channel: str) -> bool:
    """B6/C3: after a refusal or withdrawal the request is not put again (unless they start it)."""
    found = conn.execute(
        select(consent_state.c.status, consent_state.c.needs_renewal).where(
            consent_state.c.tenant_id == tenant_id,
            consent_state.c.person_id == person_id,
            consent_state.c.purpose == purpose,
            consent_state.c.channel == channel,
        )
    ).first()
    if found is None:
        return True
    if found.status == state.GRANTED:
        return bool(found.needs_renewal)
    return found.status not in state.CLOSED


def open_prompts(
    conn: Connection, kernel: Kernel, tenant_id: int, person_id: str, locale: str
) -> list[dict[str, str]]:
    """Consent requests that may be shown to the person now (renewals first), per current notice."""
    notice = current_notice(conn, tenant_id, locale)
    if notice is None:
        return []
    prompts = []
    for item in notice.document.purposes:
        spec = kernel.catalog.purposes[item.id]
        if not spec.needs_consent:
            continue
        for channel in spec.channels or (NO_CHANNEL,):
            if may_ask(conn, tenant_id, person_id, item.id, channel):
                prompts.append(
                    {"purpose": item.id, "channel": channel, "notice_hash": notice.version_hash}
                )
    return prompts


# -- contact lookups and signals ---------------------------------------------------------
def people_by_contact(
    conn: Connection, kernel: Kernel, ctx: AccessContext, field_name: str, value: str
) -> list[str]:
    """Subject ids whose phone or e-mail is ``value`` (blind index; identifiers only)."""
    normalised = NORMALISERS[kernel.catalog.fields[field_name].searchable or ""](value)
    found = kernel.vault.match(conn, ctx, field_name, [normalised])
    return sorted(found.get(normalised, set()))


def record_gpc(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    person_id: str | None,
    route: str,
) -> list[LedgerRow]:
    """C10: ``Sec-GPC: 1`` is an opt-out of sale/sharing — a preference row, and for a known
    person a withdrawal of every granted provision-to-third-party consent."""
    now = now_us()
    conn.execute(
        insert(privacy_preference).values(
            id=uuid.uuid4().hex,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            kind="opt_out_sale_sharing",
            source="gpc",
            route=route[:200],
            recorded_us=now,
        )
    )
    if person_id is None:
        return []
    rows: list[LedgerRow] = []
    for purpose in sorted(
        p.id
        for p in kernel.catalog.purposes.values()
        if p.id.startswith("sharing.") and p.needs_consent
    ):
        rows += withdraw(
            conn,
            kernel,
            ctx,
            person_id=person_id,
            purpose=purpose,
            method="gpc",
            default_purpose=None,
        )
    return rows


def gpc_preferences(
    conn: Connection, tenant_id: int, person_id: str | None = None
) -> list[dict[str, Any]]:
    query = select(privacy_preference).where(privacy_preference.c.tenant_id == tenant_id)
    if person_id is not None:
        query = query.where(privacy_preference.c.person_id == person_id)
    return [
        dict(r._mapping) for r in conn.execute(query.order_by(privacy_preference.c.recorded_us))
    ]
