"""What a consent submission is, and the rules it must pass before anything is written.

Split from ``service`` so the rules (opt-in only, one decision per purpose
and channel, separate consent alone, notice citation, HIPAA authorization
elements, evidence) read as one list; ``service`` re-exports the public names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection

from pulsecrm.catalog.loader import Catalog
from pulsecrm.consent.errors import (
    AuthorizationIncomplete,
    BundledSeparateConsent,
    GuardianRequired,
    InvalidChannel,
    InvalidEvidence,
    NoticeNotPublished,
    NoticeSuperseded,
    NotOptIn,
    UnknownConsentPurpose,
)
from pulsecrm.consent.ledger import NO_CHANNEL, Kind
from pulsecrm.consent.notices import PublishedNotice, get_notice

METHODS = frozenset(
    {
        "web_form",
        "paper_scan",
        "sms_reply",
        "staff_call",
        "api",
        "email_link",
        "preference_page",
        "gpc",
        "system",
    }
)
NOT_CONSENT = frozenset(
    {
        "default",
        "implied",
        "pre_ticked",
        "pre-ticked",
        "preticked",
        "silence",
        "inferred",
        "opt_out",
        "opt-out",
        "bundled",
        "soft_opt_in",
    }
)
ACTOR_TYPES = frozenset({"self", "guardian", "staff"})
ORIGINS = frozenset({"subject", "staff", "system"})
HIPAA_ELEMENTS = (
    ("description", "description of the information and its use", "信息及用途说明"),
    ("recipients", "who receives it", "接收方"),
    ("expires_at", "expiry date or event", "到期日期或事件"),
    ("revocation_statement", "statement of the right to revoke", "撤回权利声明"),
    ("remuneration_statement", "remuneration statement", "报酬说明"),
)
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
EVIDENCE_ROLE_FIELD = "consent_evidence_ip"


@dataclass(frozen=True)
class Decision:
    purpose: str
    channel: str | None
    kind: Kind


@dataclass(frozen=True)
class Evidence:
    form_id: str | None = None
    ref: str | None = None
    scan_sha256: str | None = None
    ip: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True)
class Guardian:
    name: str
    relationship: str


@dataclass
class Submission:
    """One action by or for one person: one or more decisions given together."""

    person_id: str
    decisions: Sequence[Decision]
    method: str
    notice_hash: str | None = None
    actor_type: str = "self"
    origin: str = "staff"
    evidence: Evidence = field(default_factory=Evidence)
    guardian: Guardian | None = None
    authorization: dict[str, Any] | None = None
    expires_us: int | None = None
    language: str | None = None


# -- validation ----------------------------------------------------------------------
def resolve_channel(catalog: Catalog, purpose: str, channel: str | None) -> str:
    spec = catalog.purposes[purpose]
    if not spec.channels:
        if channel not in (None, "", NO_CHANNEL):
            raise InvalidChannel("channel", f"{purpose} has no channels", f"{purpose} 不区分渠道")
        return NO_CHANNEL
    if channel not in spec.channels:
        raise InvalidChannel(
            "channel",
            f"must be one of {', '.join(spec.channels)} for {purpose}",
            f"{purpose} 的渠道应为 {'、'.join(spec.channels)} 之一",
        )
    return str(channel)


def check_decision(catalog: Catalog, decision: Decision) -> str:
    spec = catalog.purposes.get(decision.purpose)
    if spec is None:
        raise UnknownConsentPurpose(
            "purpose",
            f"unknown purpose {decision.purpose!r}",
            f"未知的处理目的 {decision.purpose!r}",
        )
    if not spec.needs_consent:
        raise UnknownConsentPurpose(
            "purpose",
            f"{decision.purpose} rests on {spec.legal_basis.value}, not consent; "
            "it never depends on a consent (B7)",
            f"{decision.purpose} 的合法性基础是 {spec.legal_basis.value}，无需同意",
            rule="no_consent_needed",
        )
    return resolve_channel(catalog, decision.purpose, decision.channel)


def check_method(method: str) -> None:
    if method.lower() in NOT_CONSENT:
        raise NotOptIn(
            "method",
            f"{method!r}: consent is opt-in only — never default, implied, pre-ticked or silence",
            f"{method!r}：同意只能由本人主动作出，不得默认、推定或预先勾选",
        )
    if method not in METHODS:
        raise InvalidEvidence(
            "method",
            f"unknown method; one of {', '.join(sorted(METHODS))}",
            f"未知的收集方式；应为 {'、'.join(sorted(METHODS))} 之一",
            rule="unknown_method",
        )


def check_bundling(catalog: Catalog, sub: Submission) -> None:
    purposes = {d.purpose for d in sub.decisions}
    for decision in sub.decisions:
        spec = catalog.purposes[decision.purpose]
        if (
            spec.separate_consent
            and decision.kind in (Kind.GRANT, Kind.RENEW)
            and len(purposes) > 1
        ):
            raise BundledSeparateConsent(
                "decisions",
                f"{decision.purpose} needs separate consent: give it in a submission about "
                "that purpose alone, not together with "
                + ", ".join(sorted(purposes - {decision.purpose})),
                f"{decision.purpose} 需要单独同意，不能与其他目的（"
                + "、".join(sorted(purposes - {decision.purpose}))
                + "）一并提交",
            )


def check_notice(
    conn: Connection, tenant_id: int, sub: Submission, cache: dict[str, PublishedNotice]
) -> PublishedNotice:
    if not sub.notice_hash:
        raise NoticeNotPublished(
            "notice_hash",
            "a grant must cite the published notice the person saw",
            "同意必须引用本人所见的已发布告知版本",
        )
    notice = cache.get(sub.notice_hash)
    if notice is None:
        notice = cache[sub.notice_hash] = get_notice(conn, tenant_id, sub.notice_hash)
    if not notice.current:
        raise NoticeSuperseded(
            "notice_hash",
            "this notice version has been superseded; show the current one",
            "该告知版本已被新版本取代，请展示最新版本",
        )
    return notice


def check_authorization(
    notice: PublishedNotice, decision: Decision, sub: Submission
) -> dict[str, Any]:
    hipaa = notice.profile == "hipaa" and decision.purpose.startswith("marketing.")
    if not hipaa and sub.authorization is None:
        return {}
    auth = sub.authorization or {}
    for key, en, zh in HIPAA_ELEMENTS:
        value = auth.get(key)
        if value in (None, "", []):
            raise AuthorizationIncomplete(
                f"authorization.{key}",
                f"required element: {en} (45 CFR 164.508(c))",
                f"缺少授权要素：{zh}",
            )
    return {"hipaa_authorization": dict(auth)}


def expiry_of(sub: Submission, terms: dict[str, Any]) -> int | None:
    raw = terms.get("hipaa_authorization", {}).get("expires_at")
    if isinstance(raw, str):
        try:
            parsed = datetime.fromisoformat(raw)
        except ValueError:
            raise AuthorizationIncomplete(
                "authorization.expires_at", "must be an ISO date", "应为ISO日期"
            ) from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return int(parsed.timestamp() * 1_000_000)
    if isinstance(raw, date):
        return int(datetime(raw.year, raw.month, raw.day, tzinfo=UTC).timestamp() * 1_000_000)
    return sub.expires_us


def check_evidence(sub: Submission, grants: bool) -> None:
    ev = sub.evidence
    if ev.scan_sha256 is not None and not _SHA256.match(ev.scan_sha256):
        raise InvalidEvidence(
            "evidence.scan_sha256",
            "must be the scan's SHA-256 in hex",
            "应为扫描件的SHA-256十六进制值",
            rule="evidence_scan_hash",
        )
    if sub.method == "paper_scan" and grants and not ev.scan_sha256:
        raise InvalidEvidence(
            "evidence.scan_sha256",
            "a paper consent needs the scan's SHA-256",
            "纸质同意须提供扫描件的SHA-256",
        )
    if sub.origin == "staff" and grants and not (ev.form_id or ev.ref or ev.scan_sha256):
        raise InvalidEvidence(
            "evidence",
            "a staff-recorded consent needs evidence (form id, reference or scan)",
            "工作人员代录的同意须附证据（表单编号、凭证或扫描件）",
        )
    if sub.actor_type not in ACTOR_TYPES:
        raise InvalidEvidence(
            "actor_type",
            f"one of {', '.join(sorted(ACTOR_TYPES))}",
            f"应为 {'、'.join(sorted(ACTOR_TYPES))} 之一",
            rule="actor_type",
        )
    if sub.origin not in ORIGINS:
        raise InvalidEvidence(
            "origin", "subject, staff or system", "应为 subject、staff 或 system", rule="origin"
        )
    if sub.actor_type == "guardian" and (
        sub.guardian is None
        or not sub.guardian.name.strip()
        or not sub.guardian.relationship.strip()
    ):
        raise GuardianRequired(
            "guardian",
            "a guardian's consent names the guardian and their relationship",
            "监护人同意须载明监护人身份及与本人的关系",
        )
