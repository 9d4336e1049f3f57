"""Consent capture on a clinic's form (``/p/forms/{slug}``) and the receipt that follows (B2).

The page is ``crm.forms.render_form`` made visible: the form's fields, the
current notice in plain language, and one *unchecked* box per optional purpose
and channel; health data (单独同意) and provision to third parties each get a
box of their own, apart from the rest. Nothing is pre-ticked and silence is
not consent: only the boxes the person ticks are recorded, each as its own act
citing the notice version shown, with IP and user agent sealed as evidence.
The submission is stored by ``crm.form_submissions.submit_form`` (person, lead,
consents and sealed answers in one transaction). The receipt is a page of its
own, reached through a short-lived signed link, so a reload never re-submits.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pulsecrm.consent import service as consent_service
from pulsecrm.consent.errors import LinkInvalid, NoticeSuperseded
from pulsecrm.consent.ledger import events_of
from pulsecrm.consent.tokens import PREFS, make_link_token, read_link_token
from pulsecrm.crm import form_submissions, forms
from pulsecrm.kernel.errors import KernelError
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection
from pulsecrm.web import i18n
from pulsecrm.web.patient_common import (
    NO_CHANNEL,
    FieldErrors,
    error_field,
    form_values,
    grant_submissions,
    notice_for,
    page_kernel,
    parse_box,
    rule_message,
    subject_context,
)
from pulsecrm.web.security import require_csrf
from pulsecrm.web.templating import render

router = APIRouter(prefix="/p", include_in_schema=False)
RECEIPT = "receipt:"
RECEIPT_TTL_DAYS = 2
INPUT_TYPES = {"phone": "tel", "email": "email", "birth_date": "date"}
AUTOCOMPLETE = {"name": "name", "phone": "tel", "email": "email", "birth_date": "bday"}


def _view(
    conn: Connection, kernel: Kernel, tenant_id: int, slug: str, locale: str
) -> dict[str, Any]:
    spec = forms.render_form(
        conn=conn, catalog=kernel.catalog, tenant_id=tenant_id, slug=slug, locale=locale
    )
    notice = notice_for(conn, tenant_id, locale)
    ordinary: list[dict[str, Any]] = []
    separate: list[dict[str, Any]] = []
    for box in spec["consent_boxes"]:
        purpose = kernel.catalog.purposes[box["purpose"]]
        text = notice.document.purpose(box["purpose"]) if notice else None
        channels = box.get("channels") or list(purpose.channels) or [NO_CHANNEL]
        item = {
            "purpose": box["purpose"],
            "label": box["label"],
            "description": text.text if text and text.text else purpose.description.get(locale),
            "necessity": text.necessity if text else "",
            "impact": text.impact if text else "",
            "boxes": [{"value": f"{box['purpose']}|{c}", "channel": c} for c in channels],
        }
        (separate if box["separate"] else ordinary).append(item)
    return {
        "form": spec,
        "notice": notice,
        "ordinary": ordinary,
        "separate": separate,
        "fields": [
            {
                **f,
                "type": INPUT_TYPES.get(f["name"], "text"),
                "autocomplete": AUTOCOMPLETE.get(f["name"], "off"),
            }
            for f in spec["fields"]
        ],
    }


def _render(
    request: Request,
    slug: str,
    *,
    values: dict[str, str] | None = None,
    ticked: set[str] | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    kernel = page_kernel(request)
    locale = i18n.negotiate(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        view = _view(conn, kernel, kernel.tenant_id(), slug, locale)
    return render(
        request,
        "patient/capture.html",
        {
            **view,
            "values": values or {},
            "ticked": ticked or set(),
            "errors": errors or FieldErrors(),
        },
        status_code=status_code,
    )


@router.get("/forms/{slug}", response_class=HTMLResponse)
def capture_page(slug: str, request: Request) -> HTMLResponse:
    return _render(request, slug)


def _split_by_purpose(
    boxes: list[tuple[str, str | None]],
) -> tuple[list[tuple[str, str | None]], list[tuple[str, str | None]]]:
    """One box per purpose goes with the form; further channels of that purpose follow it."""
    first: dict[str, tuple[str, str | None]] = {}
    rest: list[tuple[str, str | None]] = []
    for purpose, channel in boxes:
        if purpose in first:
            rest.append((purpose, channel))
        else:
            first[purpose] = (purpose, channel)
    return list(first.values()), rest


@router.post("/forms/{slug}", dependencies=[Depends(require_csrf)])
async def capture_submit(slug: str, request: Request) -> Response:
    kernel = page_kernel(request)
    locale = i18n.negotiate(request)
    form = await request.form()
    ticked_values = [v for v in form.getlist("consent") if isinstance(v, str)]
    ticked = set(ticked_values)
    raw_hash = form.get("notice_hash")
    notice_hash = raw_hash if isinstance(raw_hash, str) and raw_hash else None

    def work() -> tuple[str, str, bool]:
        tenant_id = kernel.tenant_id()
        with read_connection(kernel.engine) as conn, conn.begin():
            definition = forms.load_form(conn=conn, tenant_id=tenant_id, slug=slug)
        values = form_values(form, definition.fields)
        boxes = [parse_box(v) for v in ticked_values]
        with_form, after = _split_by_purpose(boxes)
        with kernel.engine.begin() as conn:
            stored = form_submissions.submit_form(
                conn,
                kernel,
                tenant_id=tenant_id,
                actor=f"form:{slug}",
                sub=form_submissions.SubmittedForm(
                    slug=slug,
                    values={k: v for k, v in values.items() if v},
                    decisions=[form_submissions.FormDecision(p, True, c) for p, c in with_form],
                    notice_hash=notice_hash,
                    ip=request.client.host if request.client else None,
                    user_agent=request.headers.get("user-agent"),
                    locale=locale,
                ),
            )
            if after:
                consent_service.record(
                    conn,
                    kernel,
                    subject_context(request, tenant_id, stored.person_id),
                    grant_submissions(
                        kernel,
                        request,
                        person_id=stored.person_id,
                        boxes=after,
                        notice_hash=notice_hash or "",
                        method="web_form",
                        language=locale,
                    ),
                )
            # This transaction appended one event per ticked box, the person's latest.
            recorded = list(events_of(conn, tenant_id, stored.person_id))
            event_ids = [e["id"] for e in recorded[len(recorded) - len(boxes) :]]
        scope = RECEIPT + ",".join(event_ids) + ("|new" if stored.created_person else "")
        token = make_link_token(
            kernel, tenant_id, stored.person_id, scope=scope, ttl_days=RECEIPT_TTL_DAYS
        )
        return token, stored.submission_id, stored.created_person

    try:
        token, _, _ = await run_in_threadpool(work)
    except KernelError as exc:
        errors = FieldErrors()
        if isinstance(exc, NoticeSuperseded):  # say it as the patient needs to hear it
            errors.add("notice_hash", i18n.translator(locale)("capture.notice_changed"))
        else:
            errors.add(error_field(exc), rule_message(exc, locale))
        submitted = form_values(form, [k for k in form if k not in ("csrf_token", "consent")])
        # A form shown again with its errors is a 422; a superseded notice a 409.
        status = 409 if getattr(exc, "http_status", None) == 409 else 422
        return await run_in_threadpool(
            lambda: _render(
                request, slug, values=submitted, ticked=ticked, errors=errors, status_code=status
            )
        )
    return RedirectResponse(f"/p/receipt/{token}", status_code=303)


@router.get("/receipt/{token}", response_class=HTMLResponse)
def receipt(token: str, request: Request) -> HTMLResponse:
    """What was recorded, when, under which notice — and how to change one's mind."""
    kernel = page_kernel(request)
    claims = read_link_token(kernel, token)
    if not claims.scope.startswith(RECEIPT):
        raise LinkInvalid("token", "this link is for another action", "此链接不适用于该操作")
    body, _, flag = claims.scope[len(RECEIPT) :].partition("|")
    wanted = [e for e in body.split(",") if e]
    locale = i18n.negotiate(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        events = [
            e for e in events_of(conn, claims.tenant_id, claims.person_id) if e["id"] in wanted
        ]
        notice = notice_for(conn, claims.tenant_id, locale)
    granted = [
        {
            "id": e["id"],
            "purpose": e["purpose"],
            "name": kernel.catalog.purposes[e["purpose"]].name.get(locale),
            "channel": e["channel"],
            "ts_us": e["ts_us"],
            "notice_hash": e["notice_hash"],
        }
        for e in events
    ]
    prefs = (
        make_link_token(kernel, claims.tenant_id, claims.person_id, scope=PREFS, ttl_days=30)
        if flag == "new"
        else None
    )
    return render(
        request,
        "patient/receipt.html",
        {"granted": granted, "notice": notice, "prefs_token": prefs},
    )
