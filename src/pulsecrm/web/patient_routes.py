"""Patient pages (``/p/...``): no staff login; a person acts for themselves.

Thin over the consent and rights services — the same calls the JSON
endpoints in ``pulsecrm.api.public_routes`` make. This module holds the
privacy centre's home and the notice, and gathers the other patient routers:

* ``patient_capture``     — ``/p/forms/{slug}`` consent capture and ``/p/receipt/{token}``
* ``patient_preferences`` — ``/p/preferences/{token}``: consents, history, one-click withdrawal
* ``patient_requests``    — ``/p/requests``: the "my data" request form and its tracking page
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from pulsecrm.store.engine import read_connection
from pulsecrm.web import i18n, patient_capture, patient_preferences, patient_requests
from pulsecrm.web.patient_common import notice_for, page_kernel
from pulsecrm.web.templating import render

router = APIRouter(tags=["patient pages"], include_in_schema=False)


@router.get("/p/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "patient/home.html")


@router.get("/p/notice", response_class=HTMLResponse)
def notice(request: Request) -> HTMLResponse:
    """The current notice, in plain language, in the visitor's language where published."""
    kernel = page_kernel(request)
    locale = i18n.negotiate(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        current = notice_for(conn, kernel.tenant_id(), locale)
    names = {p: kernel.catalog.purposes[p].name.get(locale) for p in kernel.catalog.purposes}
    # What each purpose rests on, in words: "needs your (separate) consent" or why not.
    basis = {
        p.id: "separate" if p.separate_consent else p.legal_basis.value
        for p in kernel.catalog.purposes.values()
    }
    return render(
        request,
        "patient/notice.html",
        {"notice": current, "purpose_names": names, "basis": basis},
        status_code=200 if current else 404,
    )


router.include_router(patient_capture.router)
router.include_router(patient_preferences.router)
router.include_router(patient_requests.router)
