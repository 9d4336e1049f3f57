"""``create_app(settings)``: the REST API under ``/api/v1`` (OpenAPI at ``/api/v1/openapi.json``).

Run it with ``uvicorn --factory pulsecrm.api.app:app_from_env``. The app opens
one kernel (with every capability hook, via ``pulsecrm.wiring``) for its
lifetime; routes are thin adapters over the capability services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from pulsecrm.api import (
    consent_routes,
    crm_appointment_routes,
    crm_deal_routes,
    crm_followup_routes,
    crm_record_routes,
    crm_routes,
    crm_task_routes,
    errors,
    intake_routes,
    lead_webhook_routes,
    marketing_report_routes,
    marketing_routes,
    marketing_webhook_routes,
    public_routes,
    rights_routes,
)
from pulsecrm.api.auth import Authenticator, bearer_token
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.settings import Settings
from pulsecrm.wiring import build_app_kernel


def create_app(
    settings: Settings,
    *,
    kernel: Kernel | None = None,
    authenticator: Authenticator = bearer_token,
) -> FastAPI:
    """The API app; pass ``kernel`` to share one (it is then not closed by the app)."""
    owned = kernel is None

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if getattr(app.state, "kernel", None) is None:
            app.state.kernel = build_app_kernel(settings)
        try:
            yield
        finally:
            if owned:
                app.state.kernel.close()
                app.state.kernel = None

    app = FastAPI(
        title="PulseCRM API",
        version="1",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.kernel = kernel
    app.state.authenticator = authenticator
    errors.install(app)
    app.include_router(consent_routes.router)
    app.include_router(public_routes.router)
    app.include_router(crm_routes.router)
    app.include_router(crm_record_routes.router)
    app.include_router(crm_appointment_routes.router)
    app.include_router(crm_deal_routes.router)
    app.include_router(crm_followup_routes.router)
    app.include_router(crm_task_routes.router)
    app.include_router(lead_webhook_routes.router)
    app.include_router(marketing_routes.router)
    app.include_router(marketing_webhook_routes.router)
    app.include_router(marketing_report_routes.router)
    app.include_router(rights_routes.router)
    app.include_router(intake_routes.router)
    return app


def app_from_env() -> FastAPI:
    return create_app(Settings())
