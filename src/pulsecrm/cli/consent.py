"""``pulsecrm consent …`` — staff-recorded decisions, status, proof bundles, ledger check."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer

from pulsecrm.cli.common import (
    acting_context,
    err_console,
    fail,
    handles_errors,
    kernel_session,
    print_json,
)
from pulsecrm.consent import service
from pulsecrm.consent.integrity import verify_consent
from pulsecrm.consent.ledger import Kind
from pulsecrm.consent.notices import current_notice
from pulsecrm.consent.receipts import build_bundle
from pulsecrm.consent.tokens import make_link_token
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

consent_app = typer.Typer(help="Consent ledger: record, inspect, prove.", no_args_is_help=True)

RECORDING_PURPOSES = ("service.appointment", "compliance.dsr")
PROOF_ROLES = frozenset({"privacy_officer", "auditor"})

Purpose = Annotated[str, typer.Option("--purpose", help="The purpose decided on (catalog id).")]
Channel = Annotated[str | None, typer.Option("--channel", help="sms, email, wechat, phone…")]
Method = Annotated[
    str, typer.Option("--method", help="web_form, paper_scan, sms_reply, staff_call, api")
]
EvidenceRef = Annotated[
    str | None,
    typer.Option("--evidence", help="Form id, call reference, or a scan file (its SHA-256 kept)."),
]
User = Annotated[str | None, typer.Option("--user", help="Act as this account.")]


def _recording_context(kernel: Kernel, user: str | None) -> AccessContext:
    for purpose in RECORDING_PURPOSES:
        ctx = acting_context(kernel, user, purpose)
        if service.may_record(kernel, ctx):
            return ctx
    ctx = acting_context(kernel, user, RECORDING_PURPOSES[0])
    service.check_recorder(kernel, ctx)  # audits the refusal and raises
    return ctx


def _evidence(method: str, ref: str | None) -> service.Evidence:
    if ref and method == "paper_scan" and Path(ref).is_file():
        digest = hashlib.sha256(Path(ref).read_bytes()).hexdigest()
        return service.Evidence(ref=Path(ref).name, scan_sha256=digest)
    if ref and method == "paper_scan" and len(ref) == 64:
        return service.Evidence(scan_sha256=ref.lower())
    return service.Evidence(ref=ref)


def _decide(
    kind: Kind,
    person_id: str,
    purpose: str,
    channel: str | None,
    method: str,
    evidence: str | None,
    notice: str | None,
    language: str | None,
    guardian_name: str | None,
    guardian_relationship: str | None,
    user: str | None,
    as_json: bool,
) -> None:
    guardian = None
    if guardian_name or guardian_relationship:
        guardian = service.Guardian(guardian_name or "", guardian_relationship or "")
    with kernel_session() as kernel:
        ctx = _recording_context(kernel, user)
        with kernel.engine.begin() as conn:
            notice_hash = notice
            if kind in (Kind.GRANT, Kind.RENEW) and notice_hash is None:
                for locale in (language,) if language else (kernel.settings.locale, "zh-CN", "en"):
                    current = current_notice(conn, ctx.tenant_id, locale)
                    if current is not None:
                        notice_hash = current.version_hash
                        break
            rows = service.record(
                conn,
                kernel,
                ctx,
                [
                    service.Submission(
                        person_id=person_id,
                        decisions=[service.Decision(purpose, channel, kind)],
                        method=method,
                        notice_hash=notice_hash,
                        actor_type="guardian" if guardian else "self",
                        origin="staff",
                        evidence=_evidence(method, evidence),
                        guardian=guardian,
                        language=language,
                    )
                ],
            )
    result = [
        {
            "event_id": r.id,
            "kind": r.kind.value,
            "purpose": r.purpose,
            "channel": r.channel,
            "ledger_seq": r.seq,
            "audit_seq": r.audit_seq,
        }
        for r in rows
    ]
    if as_json:
        print_json(result)
        return
    for item in result:
        err_console.print(
            f"recorded {item['kind']} {item['purpose']}/{item['channel']} "
            f"(event {item['event_id']}, ledger {item['ledger_seq']}, audit {item['audit_seq']})",
            highlight=False,
        )


def _command(kind: Kind):  # type: ignore[no-untyped-def]
    @handles_errors
    def command(
        person_id: Annotated[str, typer.Argument()],
        purpose: Purpose,
        method: Method,
        channel: Channel = None,
        evidence: EvidenceRef = None,
        notice: Annotated[
            str | None, typer.Option(help="Notice version hash (default: the current one).")
        ] = None,
        language: Annotated[str | None, typer.Option(help="zh-CN or en.")] = None,
        guardian_name: Annotated[str | None, typer.Option("--guardian-name")] = None,
        guardian_relationship: Annotated[
            str | None, typer.Option("--guardian-relationship")
        ] = None,
        user: User = None,
        as_json: Annotated[bool, typer.Option("--json")] = False,
    ) -> None:
        _decide(
            kind,
            person_id,
            purpose,
            channel,
            method,
            evidence,
            notice,
            language,
            guardian_name,
            guardian_relationship,
            user,
            as_json,
        )

    command.__doc__ = f"Record a staff-recorded {kind.value} (audited, with evidence)."
    return command


for _kind in (Kind.GRANT, Kind.REFUSE, Kind.WITHDRAW, Kind.RENEW):
    consent_app.command(_kind.value)(_command(_kind))


def _audit(kernel: Kernel, ctx: AccessContext, action: str, person_id: str, what: str) -> None:
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


@consent_app.command("status")
@handles_errors
def status_command(
    person_id: Annotated[str, typer.Argument()],
    user: User = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Every consent of a person with its current state."""
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, "compliance.dsr")
        with read_connection(kernel.engine) as conn, conn.begin():
            result = service.status(conn, kernel, ctx.tenant_id, person_id)
        _audit(kernel, ctx, Action.READ, person_id, "status")
    if as_json:
        print_json(result)
        return
    err_console.print(
        f"{person_id}: minor={result['sensitive_minor']} "
        f"marketing_eligible={result['marketing_eligible']}",
        highlight=False,
    )
    for item in result["consents"]:
        flags = " (renewal needed)" if item["needs_renewal"] else ""
        print(f"{item['purpose']:32} {item['channel']:8} {item['status']}{flags}")


@consent_app.command("proof")
@handles_errors
def proof_command(
    person_id: Annotated[str, typer.Argument()],
    out: Annotated[Path | None, typer.Option("--out", dir_okay=False)] = None,
    user: User = None,
) -> None:
    """Export the proof bundle (receipts, notice texts, audit inclusion proofs) as JSON."""
    with kernel_session() as kernel:
        ctx = acting_context(kernel, user, "compliance.audit")
        if ctx.role not in PROOF_ROLES:
            fail(f"role {ctx.role} may not export consent proofs (privacy officer or auditor)")
        with read_connection(kernel.engine) as conn, conn.begin():
            bundle = build_bundle(conn, kernel, ctx.tenant_id, person_id)
        _audit(kernel, ctx, Action.EXPORT, person_id, "proof")
    text = json.dumps(bundle, ensure_ascii=False, indent=2)
    if out is None:
        print(text)
        return
    out.write_text(text + "\n", encoding="utf-8")
    err_console.print(f"wrote proof for {len(bundle['receipts'])} consents to {out}")


@consent_app.command("verify")
@handles_errors
def verify_command(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Recompute the ledger hash chain, its audit mirror and the current state."""
    with kernel_session() as kernel:
        tenant_id = kernel.tenant_id()
        with read_connection(kernel.engine) as conn, conn.begin():
            report = verify_consent(conn, tenant_id)
    if as_json:
        print_json(report.as_dict())
    elif report.ok:
        print(f"OK: {report.events} consent events, {report.states} current states verified")
    else:
        print(f"TAMPERED: first bad consent event: {report.first_bad_seq}")
        for problem in report.problems[:20]:
            print(f"  {problem}")
    if not report.ok:
        raise typer.Exit(1)


@consent_app.command("link")
@handles_errors
def link_command(
    person_id: Annotated[str, typer.Argument()],
    days: Annotated[int, typer.Option(min=1, max=400)] = 30,
    base_url: Annotated[str, typer.Option()] = "",
) -> None:
    """Print a signed, expiring preference-page link for a person."""
    with kernel_session() as kernel:
        token = make_link_token(kernel, kernel.tenant_id(), person_id, ttl_days=days)
    print(f"{base_url.rstrip('/')}/api/v1/preferences/{token}" if base_url else token)
