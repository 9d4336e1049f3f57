"""The preference centre from a signed link (B9): every consent, its history, one-click withdrawal.

No login: the signed, expiring link is the proof (``consent.tokens``). Each
withdrawal is one POST — one click, no confirmation page — effective for the
next read; "withdraw all" is one click too. Giving consent takes a tick and a
submit, so withdrawing is never harder than giving. Each action answers with a
redirect back to the page (no form re-posted on reload) and a status message.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from pulsecrm.consent import service as consent_service
from pulsecrm.consent.errors import ConsentError
from pulsecrm.consent.ledger import NO_CHANNEL, Kind, events_of
from pulsecrm.consent.receipts import build_bundle
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import requests as rights
from pulsecrm.store.engine import read_connection
from pulsecrm.web import i18n
from pulsecrm.web.patient_common import (
    claims_for,
    evidence,
    grant_submissions,
    notice_for,
    page_kernel,
    parse_box,
    rule_message,
    subject_context,
)
from pulsecrm.web.security import require_csrf
from pulsecrm.web.templating import render

router = APIRouter(prefix="/p/preferences", include_in_schema=False)
DONE = ("given", "withdrawn", "withdrawn_all", "nothing")


def _box(purpose: str, channel: str) -> str:
    return f"{purpose}|{channel}"


def preference_items(
    conn: Any, kernel: Kernel, tenant_id: int, person_id: str, locale: str
) -> tuple[list[dict[str, Any]], Any]:
    """Cards per purpose (current notice first), one row per channel with state and history."""
    notice = notice_for(conn, tenant_id, locale)
    states = {
        (s["purpose"], s["channel"]): s
        for s in consent_service.status(conn, kernel, tenant_id, person_id)["consents"]
    }
    history: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events_of(conn, tenant_id, person_id):
        history.setdefault((event["purpose"], event["channel"]), []).append(
            {"kind": event["kind"], "ts_us": event["ts_us"], "method": event["method"]}
        )
    order: list[str] = []
    if notice is not None:
        order += [p.id for p in notice.document.purposes]
    order += [p for p, _ in states if p not in order]
    cards = []
    for purpose in order:
        spec = kernel.catalog.purposes.get(purpose)
        if spec is None or not spec.needs_consent:
            continue
        text = notice.document.purpose(purpose) if notice is not None else None
        channels = list(spec.channels) or [NO_CHANNEL]
        channels += [c for p, c in states if p == purpose and c not in channels]
        rows = []
        for channel in channels:
            state = states.get((purpose, channel))
            rows.append(
                {
                    "channel": channel,
                    "box": _box(purpose, channel),
                    "status": state["status"] if state else "none",
                    "granted": bool(state and state["status"] == "granted"),
                    "effective": bool(state and state["effective"]),
                    "needs_renewal": bool(state and state["needs_renewal"]),
                    "history": list(reversed(history.get((purpose, channel), []))),
                }
            )
        cards.append(
            {
                "purpose": purpose,
                "name": spec.name.get(locale),
                "description": (text.text if text and text.text else spec.description.get(locale)),
                "necessity": text.necessity if text else "",
                "impact": text.impact if text else "",
                "separate": spec.separate_consent,
                "rows": rows,
            }
        )
    return cards, notice


def _page(request: Request, token: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
    kernel = page_kernel(request)
    claims = claims_for(kernel, token)
    locale = i18n.negotiate(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        cards, notice = preference_items(conn, kernel, claims.tenant_id, claims.person_id, locale)
        requests = rights.requests_of_person(
            conn, tenant_id=claims.tenant_id, person_id=claims.person_id
        )
    done = request.query_params.get("done")
    return render(
        request,
        "patient/preferences.html",
        {
            "token": token,
            "cards": cards,
            "notice": notice,
            "any_granted": any(r["granted"] for c in cards for r in c["rows"]),
            "done": done if done in DONE else None,
            "expires": claims.expires,
            "error": None,
            "requests": [{"view": r, "clock": r.clock()} for r in requests],
            **extra,
        },
        status_code=status_code,
    )


def _back(token: str, done: str, anchor: str = "status") -> RedirectResponse:
    return RedirectResponse(f"/p/preferences/{token}?done={done}#{anchor}", status_code=303)


@router.get("/{token}", response_class=HTMLResponse)
def preferences(token: str, request: Request) -> HTMLResponse:
    return _page(request, token)


@router.post("/{token}/withdraw", dependencies=[Depends(require_csrf)])
async def withdraw_one(token: str, request: Request) -> Response:
    """One click: this purpose on this channel, withdrawn now — no confirmation step."""
    kernel = page_kernel(request)
    claims = claims_for(kernel, token)
    form = await request.form()
    raw = form.get("box")
    purpose, channel = parse_box(raw if isinstance(raw, str) else "")
    ctx = subject_context(request, claims.tenant_id, claims.person_id)

    def work() -> int:
        with kernel.engine.begin() as conn:
            rows = consent_service.withdraw(
                conn,
                kernel,
                ctx,
                person_id=claims.person_id,
                purpose=purpose,
                channel=channel or NO_CHANNEL,
                method="preference_page",
                evidence=evidence(request),
            )
        return len(rows)

    count = await run_in_threadpool(work)
    return _back(token, "withdrawn" if count else "nothing")


@router.post("/{token}/withdraw-all", dependencies=[Depends(require_csrf)])
async def withdraw_all(token: str, request: Request) -> Response:
    """One click: every consent currently given, withdrawn now."""
    kernel = page_kernel(request)
    claims = claims_for(kernel, token)
    ctx = subject_context(request, claims.tenant_id, claims.person_id)

    def work() -> int:
        with kernel.engine.begin() as conn:
            rows = consent_service.withdraw(
                conn,
                kernel,
                ctx,
                person_id=claims.person_id,
                method="preference_page",
                evidence=evidence(request),
            )
        return len(rows)

    count = await run_in_threadpool(work)
    return _back(token, "withdrawn_all" if count else "nothing")


@router.post("/{token}/give", dependencies=[Depends(require_csrf)])
async def give(token: str, request: Request) -> Response:
    """The boxes the person ticked, each recorded as its own consent citing the notice shown.

    A consent given under an earlier notice that changed in a way that needs it
    asked again (``needs_renewal``) is confirmed the same way, as a ``renew``.
    """
    kernel = page_kernel(request)
    claims = claims_for(kernel, token)
    form = await request.form()
    boxes = [parse_box(v) for v in form.getlist("consent") if isinstance(v, str)]
    renewals = [parse_box(v) for v in form.getlist("renew") if isinstance(v, str)]
    notice_hash = form.get("notice_hash")
    locale = i18n.negotiate(request)
    ctx = subject_context(request, claims.tenant_id, claims.person_id)
    if not boxes and not renewals:
        return _back(token, "nothing")

    def work() -> None:
        with kernel.engine.begin() as conn:
            consent_service.record(
                conn,
                kernel,
                ctx,
                grant_submissions(
                    kernel,
                    request,
                    person_id=claims.person_id,
                    boxes=boxes,
                    notice_hash=notice_hash if isinstance(notice_hash, str) else "",
                    method="preference_page",
                    language=locale,
                )
                + grant_submissions(
                    kernel,
                    request,
                    person_id=claims.person_id,
                    boxes=renewals,
                    notice_hash=notice_hash if isinstance(notice_hash, str) else "",
                    method="preference_page",
                    language=locale,
                    kind=Kind.RENEW,
                ),
            )

    try:
        await run_in_threadpool(work)
    except ConsentError as exc:
        message = rule_message(exc, locale)
        return await run_in_threadpool(lambda: _page(request, token, 409, error=message))
    return _back(token, "given")


@router.get("/{token}/receipts.json")
def receipts(token: str, request: Request) -> Response:
    """The person's own consent receipts (Kantara / ISO 27560) with their inclusion proofs."""
    kernel = page_kernel(request)
    claims = claims_for(kernel, token)
    with read_connection(kernel.engine) as conn, conn.begin():
        bundle = build_bundle(conn, kernel, claims.tenant_id, claims.person_id)
    return JSONResponse(
        bundle,
        headers={
            "content-disposition": 'attachment; filename="consent-receipts.json"',
            "cache-control": "no-store",
        },
    )
