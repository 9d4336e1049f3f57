"""F1: a request is recorded with its clock; details sealed; verification before release."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, text

from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import clock
from pulsecrm.rights import requests as rights
from pulsecrm.rights.errors import ExtensionRefused, InvalidTransition, NotVerified
from pulsecrm.rights.tables import dsr_request, dsr_request_event, dsr_requester
from pulsecrm.store.engine import read_connection
from tests.helpers import audit_rows, ctx

DAY = clock.DAY_US


def _intake_ctx(kernel: Kernel) -> object:
    from pulsecrm.kernel.context import AccessContext

    return AccessContext("public:dsr-form", "consent_intake", kernel.tenant_id(), "compliance.dsr")


def _officer(kernel: Kernel) -> object:
    return ctx(kernel, "privacy_officer", "compliance.dsr", actor="po.li")


def _submit(
    kernel: Kernel, received_us: int | None = None, **changes: object
) -> rights.RequestView:
    values: dict[str, object] = {
        "request_type": "access",
        "name": "王小明",
        "phone": "13800138000",
        "email": "xm@example.com",
        "details": "请把我的全部资料发给我",
    }
    values.update(changes)
    with kernel.engine.begin() as conn:
        return rights.submit_request(
            conn,
            kernel,
            _intake_ctx(kernel),  # type: ignore[arg-type]
            intake=rights.RequestIntake(**values),  # type: ignore[arg-type]
            received_us=received_us,
        )


def _us(*parts: int) -> int:
    return int(datetime(*parts, tzinfo=clock.CLOCK_TZ).timestamp() * 1_000_000)


@pytest.mark.req("F1")
def test_request_recorded_with_id_received_at_and_due_at(app: Kernel) -> None:
    received = _us(2028, 1, 31, 10, 0)
    view = _submit(app, received)
    assert view.status == "received" and not view.verified
    assert view.reference.startswith("DSR-") and len(view.reference) == 12
    assert view.received_us == received
    assert view.due_us == _us(2028, 2, 29, 10, 0)  # leap year: 29 Feb
    with app.engine.connect() as conn:
        assert rights.history(conn, tenant_id=app.tenant_id(), request_id=view.id)[0]["kind"] == (
            "received"
        )


@pytest.mark.req("F1", "D5")
def test_requester_details_are_sealed_and_the_queue_shows_them_masked(app: Kernel) -> None:
    view = _submit(app)
    with app.engine.connect() as conn:
        requester = conn.execute(
            select(dsr_request.c.requester_id).where(dsr_request.c.id == view.id)
        ).scalar_one()
        stored = conn.execute(
            select(dsr_requester).where(dsr_requester.c.person_id == requester)
        ).one()
    for column in ("name", "phone", "email", "details"):
        blob = bytes(getattr(stored, column))
        assert b"13800138000" not in blob and "王小明".encode() not in blob
    with read_connection(app.engine) as conn:
        [queued] = rights.list_queue(conn, app, _officer(app))  # type: ignore[arg-type]
    assert queued.id == view.id
    assert queued.contact["phone"] != "13800138000" and queued.contact["phone"].endswith("8000")
    assert queued.contact["name"] != "王小明" and queued.contact["email"] != "xm@example.com"
    # Every read of the requester's details is in the audit log, under the officer.
    reads = audit_rows(app, actor="po.li", subject=requester)
    assert reads and reads[-1]["outcome"] == "allowed"


@pytest.mark.req("F1")
def test_only_the_privacy_officer_works_the_queue(app: Kernel) -> None:
    view = _submit(app)
    consultant = ctx(app, "consultant", "compliance.dsr")
    with app.engine.begin() as conn, pytest.raises(AccessDenied):
        rights.list_queue(conn, app, consultant)
    with app.engine.begin() as conn, pytest.raises(AccessDenied):
        rights.begin_verification(conn, consultant, request_id=view.id)


@pytest.mark.req("F1")
def test_nothing_released_before_verification(app: Kernel) -> None:
    view = _submit(app)
    officer = _officer(app)
    with app.engine.begin() as conn, pytest.raises(NotVerified) as refused:
        rights.fulfil(conn, officer, request_id=view.id)  # type: ignore[arg-type]
    assert refused.value.field == "verified"
    with app.engine.begin() as conn:
        rights.begin_verification(conn, officer, request_id=view.id)  # type: ignore[arg-type]
        with pytest.raises(NotVerified):
            rights.assert_releasable(
                rights.get_request(conn, tenant_id=app.tenant_id(), request_id=view.id)
            )
        verified = rights.mark_verified(
            conn,
            officer,
            request_id=view.id,
            method="ID card at the front desk",  # type: ignore[arg-type]
        )
        assert verified.verified and verified.status == "in_progress"
        done = rights.fulfil(conn, officer, request_id=view.id)  # type: ignore[arg-type]
    assert done.status == "fulfilled" and done.closed_us is not None
    with app.engine.connect() as conn:
        kinds = [
            e["kind"] for e in rights.history(conn, tenant_id=app.tenant_id(), request_id=view.id)
        ]
    assert kinds == ["received", "verifying", "verified", "fulfilled"]


@pytest.mark.req("F1")
def test_status_machine_refuses_skips_and_reopening(app: Kernel) -> None:
    view = _submit(app)
    officer = _officer(app)
    with app.engine.begin() as conn, pytest.raises(InvalidTransition):
        rights.mark_verified(conn, officer, request_id=view.id, method="x")  # type: ignore[arg-type]
    with app.engine.begin() as conn:
        rights.reject(conn, officer, request_id=view.id, reason="identity_unverified")  # type: ignore[arg-type]
    with app.engine.begin() as conn, pytest.raises(InvalidTransition):
        rights.begin_verification(conn, officer, request_id=view.id)  # type: ignore[arg-type]


@pytest.mark.req("F1")
def test_extension_with_reason_inside_the_window_only(app: Kernel) -> None:
    received = _us(2027, 1, 31, 10, 0)
    officer = _officer(app)
    early, late = _submit(app, received), _submit(app, received)
    assert early.due_us == _us(2027, 2, 28, 10, 0)
    with app.engine.begin() as conn:
        with pytest.raises(ExtensionRefused) as no_reason:
            rights.extend(conn, officer, request_id=early.id, reason="  ", at_us=received + DAY)  # type: ignore[arg-type]
        assert no_reason.value.field == "reason"
        extended = rights.extend(
            conn,
            officer,
            request_id=early.id,
            reason="records in two branches",  # type: ignore[arg-type]
            days=30,
            at_us=received + 20 * DAY,
        )
    assert extended.due_us == early.due_us  # the original clock is kept
    assert extended.extended_due_us == early.due_us + 30 * DAY
    assert extended.extension_reason == "records in two branches"
    with app.engine.begin() as conn, pytest.raises(ExtensionRefused):
        rights.extend(conn, officer, request_id=early.id, reason="again", at_us=received + 21 * DAY)  # type: ignore[arg-type]
    # After the original due time (day 28 here) — and so after day 30 — it is refused.
    with app.engine.begin() as conn, pytest.raises(ExtensionRefused) as too_late:
        rights.extend(conn, officer, request_id=late.id, reason="busy", at_us=received + 31 * DAY)  # type: ignore[arg-type]
    assert too_late.value.field == "extended_at"
    with app.engine.begin() as conn, pytest.raises(ExtensionRefused):
        rights.extend(
            conn,
            officer,
            request_id=late.id,
            reason="busy",  # type: ignore[arg-type]
            at_us=early.due_us + 1,
        )


@pytest.mark.req("F1")
def test_intake_names_the_field_it_refuses(app: Kernel) -> None:
    cases = [
        ({"request_type": "sell_my_data"}, "request_type"),
        ({"phone": None, "email": None}, "phone"),
        ({"phone": "not a phone"}, "phone"),
        ({"email": "nobody"}, "email"),
        ({"request_type": "correction", "details": " "}, "details"),
        ({"name": "x" * 101}, "name"),
    ]
    for changes, field in cases:
        with pytest.raises(InvalidValue) as refused:
            _submit(app, **changes)
        assert refused.value.field == field, changes
    with app.engine.connect() as conn:
        assert conn.execute(select(dsr_request.c.id)).first() is None  # nothing stored


@pytest.mark.req("F1")
def test_request_from_a_signed_link_needs_no_contact(app: Kernel) -> None:
    view = _submit(
        app,
        phone=None,
        email=None,
        name=None,
        person_id="a" * 32,
        channel="signed_link",
        request_type="deletion",
    )
    assert view.linked_to_person and view.channel == "signed_link"


def test_request_history_is_append_only(app: Kernel) -> None:
    _submit(app)
    with pytest.raises(Exception, match="append-only"), app.engine.begin() as conn:
        conn.execute(text(f"UPDATE {dsr_request_event.name} SET actor = 'someone else'"))
