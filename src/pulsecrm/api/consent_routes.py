"""Staff consent endpoints: record decisions with evidence, status, proof, notices, links."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.consent import service
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import parse_notice, publish_notice
from pulsecrm.consent.receipts import build_bundle
from pulsecrm.consent.tokens import make_link_token
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.errors import AccessDenied
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["consent (staff)"])
PROOF_ROLES = frozenset({"privacy_officer", "auditor"})
PERSON_PATTERN = r"^[0-9A-Za-z_-]{1,32}$"
PURPOSE_PATTERN = r"^[a-z0-9_.]{1,64}$"
CHANNEL_PATTERN = r"^[a-z-]{1,16}$"
HASH_PATTERN = r"^[0-9a-f]{1,64}$"
PersonId = Annotated[str, Path(pattern=PERSON_PATTERN)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        return value


class DecisionIn(_In):
    purpose: str = Field(pattern=PURPOSE_PATTERN)
    channel: str | None = Field(default=None, pattern=CHANNEL_PATTERN)
    decision: Literal["grant", "refuse", "withdraw", "renew"]


class EvidenceIn(_In):
    form_id: str | None = Field(default=None, max_length=100)
    ref: str | None = Field(default=None, max_length=200)
    scan_sha256: str | None = Field(default=None, max_length=64)
    ip: str | None = Field(default=None, max_length=64)
    user_agent: str | None = Field(default=None, max_length=500)


class GuardianIn(_In):
    name: str = Field(max_length=100)
    relationship: str = Field(max_length=50)


class AuthorizationIn(_In):
    """HIPAA marketing authorization elements (45 CFR 164.508(c))."""

    description: str | None = None
    recipients: list[str] | None = None
    expires_at: str | None = None
    revocation_statement: str | None = None
    remuneration_statement: str | None = None


class RecordConsentIn(_In):
    person_id: str = Field(pattern=PERSON_PATTERN)
    decisions: list[DecisionIn] = Field(min_length=1, max_length=20)
    method: str = Field(max_length=32)
    notice_hash: str | None = Field(default=None, pattern=HASH_PATTERN)
    actor_type: Literal["self", "guardian", "staff"] = "self"
    evidence: EvidenceIn = Field(default_factory=EvidenceIn)
    guardian: GuardianIn | None = None
    authorization: AuthorizationIn | None = None
    processing_purpose: str = Field(default="service.appointment", max_length=64)


class RecordedEvent(BaseModel):
    event_id: str
    kind: str
    purpose: str
    channel: str
    ledger_seq: int
    audit_seq: int


@router.post("/consents", status_code=201, response_model=list[RecordedEvent])
def record_consent(
    body: RecordConsentIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> list[RecordedEvent]:
    """Record a staff-taken decision (call, paper, desk) with its evidence; audited."""
    ctx = principal.context(body.processing_purpose)
    service.check_recorder(kernel, ctx)
    sub = service.Submission(
        person_id=body.person_id,
        decisions=[
            service.Decision(d.purpose, d.channel, Kind(d.decision)) for d in body.decisions
        ],
        method=body.method,
        notice_hash=body.notice_hash,
        actor_type=body.actor_type,
        origin="staff",
        evidence=service.Evidence(**body.evidence.model_dump()),
        guardian=service.Guardian(body.guardian.name, body.guardian.relationship)
        if body.guardian
        else None,
        authorization=body.authorization.model_dump(exclude_none=True)
        if body.authorization
        else None,
    )
    with kernel.engine.begin() as conn:
        rows = service.record(conn, kernel, ctx, [sub])
    return [
        RecordedEvent(
            event_id=r.id,
            kind=r.kind.value,
            purpose=r.purpose,
            channel=r.channel,
            ledger_seq=r.seq,
            audit_seq=r.audit_seq,
        )
        for r in rows
    ]


def _audit(
    kernel: Kernel, principal: StaffPrincipal, action: str, person_id: str, what: str
) -> None:
    ctx = principal.context("compliance.audit")
    kernel.audit_writer.record(
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                action,
                Outcome.ALLOWED,
                person_id,
                ("consent",),
                {"consent": what},
            )
        ],
    )


@router.get("/consents/{person_id}")
def consent_status(
    person_id: PersonId,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Every consent of a person with its current state; audited."""
    with read_connection(kernel.engine) as conn, conn.begin():
        result = service.status(conn, kernel, principal.tenant_id, person_id)
    _audit(kernel, principal, Action.READ, person_id, "status")
    return result


@router.get("/consents/{person_id}/proof")
def consent_proof(
    person_id: PersonId,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """The proof bundle (Kantara / ISO 27560 receipts, notice texts, inclusion proofs)."""
    if principal.role not in PROOF_ROLES:
        raise AccessDenied(f"role {principal.role} may not export consent proofs")
    with read_connection(kernel.engine) as conn, conn.begin():
        bundle = build_bundle(conn, kernel, principal.tenant_id, person_id)
    _audit(kernel, principal, Action.EXPORT, person_id, "proof")
    return bundle


@router.post("/consents/{person_id}/preference-link")
def preference_link(
    person_id: PersonId,
    days: int = 30,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    """A signed, expiring preference-page token to send to the person."""
    ctx = principal.context("service.appointment")
    service.check_recorder(kernel, ctx)
    days = max(1, min(days, 400))
    return {"token": make_link_token(kernel, principal.tenant_id, person_id, ttl_days=days)}


@router.post("/notices", status_code=201)
def publish(
    body: dict[str, Any],
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Validate and publish a notice version (privacy officer); returns its hash."""
    doc = parse_notice(body)
    ctx = principal.context("compliance.audit")
    with kernel.engine.begin() as conn:
        published = publish_notice(conn, kernel, ctx, doc)
    return {
        "version_hash": published.version_hash,
        "locale": published.locale,
        "renewal_purposes": list(published.renewal_purposes),
    }
