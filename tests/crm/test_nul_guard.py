"""A NUL anywhere in a request is refused at the door with a 422 naming where — never a 5xx
on PostgreSQL or a stored NUL on SQLite — and nothing is written."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from pulsecrm.api.app import create_app
from pulsecrm.crm.clinic_tables import lead
from tests.consent.conftest import add_person
from tests.crm.conftest import Clinic
from tests.crm.test_api_privacy import _auth


@pytest.fixture
def client(clinic: Clinic, installed: object) -> Iterator[TestClient]:
    with TestClient(create_app(clinic.kernel.settings, kernel=clinic.kernel)) as c:
        yield c


def _leads(clinic: Clinic) -> int:
    with clinic.kernel.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(lead)).scalar_one())


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "field"),
    [
        ("GET", "/api/v1/leads?channel=%00", {}, "query"),
        ("GET", "/api/v1/leads?campaign=a%00b", {}, "query"),
        ("GET", "/api/v1/leads/abc%00def", {}, "path"),
        ("POST", "/api/v1/leads", {"content": '{"channel": "a\\u0000"}'}, "body"),
        ("POST", "/api/v1/leads", {"content": '{"channel": "\\\\\\u0000"}'}, "body"),
        ("POST", "/api/v1/leads", {"content": b'{"channel": "a\x00"}'}, "body"),
        ("POST", "/api/v1/public/forms/x", {"data": {"name": "a\x00"}}, "body"),
    ],
)
def test_a_nul_is_refused_naming_where_and_nothing_is_written(
    clinic: Clinic, client: TestClient, method: str, url: str, kwargs: dict[str, object], field: str
) -> None:
    headers = {**_auth(clinic.kernel, "amy.consultant"), "accept-language": "en"}
    if "content" in kwargs:
        headers["content-type"] = "application/json"
    r = client.request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
    assert r.status_code == 422, r.text
    assert r.json()["error"]["field"] == field
    assert r.json()["error"]["rule"] == "no_nul_characters"
    assert _leads(clinic) == 0


def test_literal_backslash_u0000_text_is_not_a_nul(clinic: Clinic, client: TestClient) -> None:
    person = add_person(clinic.kernel, "13700000001")
    amy = _auth(clinic.kernel, "amy.consultant")
    r = client.post(
        "/api/v1/leads",
        headers={**amy, "content-type": "application/json"},
        content='{"person_id": "' + person + '", "channel": "x\\\\u0000"}',
    )
    assert r.status_code == 201, r.text
    with clinic.kernel.engine.connect() as conn:
        stored = conn.execute(select(lead.c.channel).where(lead.c.id == r.json()["id"]))
        assert stored.scalar_one() == "x\\u0000"  # six characters, no NUL
