"""Patient pages (``/p/...``): no staff login; a person acts for themselves.

Thin over the consent and rights services — the same calls the JSON
endpoints in ``pulsecrm.api.public_routes`` make.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from pulsecrm.web.templating import render

router = APIRouter(prefix="/p", tags=["patient pages"], include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "patient/home.html")
