"""F1: the privacy officer's queue over the API — clocks shown, contact details masked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pulsecrm.access.tokens import create_token
from pulsecrm.api.app import create_app
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import requests as rights
from tests.helpers import ctx


@pytest.fixture
def client(app: Kernel, installed: object) -> Iterator[TestClient]:
    with TestClient(create_app(installed, kernel=app), raise_server_exceptions=False) as c:  # type: ignore[arg-type]
        yield c


def _token(kernel: Kernel, role: str) -> dict[str, str]:
    who = ctx(kernel, role, actor=f"api.{role}")
    with kernel.engine.begin() as conn:
        issued = create_token(conn, username=who.actor)
    return {"Authorization": f"Bearer {issued.secret}"}


def _submit(kernel: Kernel, phone: str, kind: str = "access") -> rights.RequestView:
    intake_ctx = AccessContext(
        "public:dsr-form", "consent_intake", kernel.tenant_id(), "compliance.dsr"
    )
    with kernel.engine.begin() as conn:
        return rights.submit_request(
            conn,
            kernel,
            intake_ctx,
            intake=rights.RequestIntake(kind, name="李雷", phone=phone, details="<b>hi</b>"),
        )


@pytest.mark.req("F1")
def test_officer_sees_the_queue_with_clocks_and_masked_contacts(
    app: Kernel, client: TestClient
) -> None:
    first = _submit(app, "13900139000")
    _submit(app, "13700137000", "deletion")
    assert client.get("/api/v1/rights/requests").status_code == 401
    refused = client.get("/api/v1/rights/requests", headers=_token(app, "consultant"))
    assert refused.status_code == 403
    response = client.get("/api/v1/rights/requests", headers=_token(app, "privacy_officer"))
    assert response.status_code == 200, response.text
    queue = response.json()["requests"]
    assert [r["type"] for r in queue] == ["access", "deletion"]
    item = queue[0]
    assert item["id"] == first.id and item["status"] == "received" and not item["verified"]
    assert item["clock"]["due_us"] == first.due_us and item["clock"]["days_left"] in (27, 28, 29)
    assert not item["clock"]["overdue"] and item["clock"]["can_extend"]
    assert "13900139000" not in response.text and "李雷" not in response.text
    assert item["contact"]["phone"].endswith("9000")


@pytest.mark.req("F1")
def test_officer_workflow_over_the_api(app: Kernel, client: TestClient) -> None:
    view = _submit(app, "13900139000")
    officer = _token(app, "privacy_officer")
    base = f"/api/v1/rights/requests/{view.id}"
    assert client.post(f"{base}/verified", json={"method": "x"}, headers=officer).status_code == 409
    assert client.post(f"{base}/verifying", headers=officer).json()["status"] == "verifying"
    ext = client.post(
        f"{base}/extension", json={"reason": "two branches", "days": 30}, headers=officer
    )
    assert ext.status_code == 200 and ext.json()["clock"]["extended_due_us"] > view.due_us
    again = client.post(f"{base}/extension", json={"reason": "again"}, headers=officer)
    assert again.status_code == 409 and again.json()["error"]["code"] == "extension_refused"
    bad = client.post(f"{base}/extension", json={"reason": "x", "days": 90}, headers=officer)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "days"
    done = client.post(f"{base}/verified", json={"method": "ID card"}, headers=officer)
    assert done.json()["verified"] is True
    history = client.get(f"{base}/history", headers=officer).json()["history"]
    assert [h["kind"] for h in history] == ["received", "verifying", "extended", "verified"]
    missing = client.get(f"/api/v1/rights/requests/{'0' * 32}/history", headers=officer)
    assert missing.status_code == 404
