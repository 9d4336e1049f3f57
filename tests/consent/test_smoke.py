from __future__ import annotations

from pulsecrm.consent.ledger import Kind
from tests.consent.conftest import add_person, decide, publish
from tests.helpers import ctx


def test_grant_then_read_then_withdraw(app) -> None:  # type: ignore[no-untyped-def]
    notice = publish(app)
    person = add_person(app, "13800138000")
    decide(app, person, notice, ("marketing.sms", "sms", Kind.GRANT))
    reader = ctx(app, "consultant", "marketing.sms", channel="sms")
    [view] = app.vault.read(reader, [person], ["phone"])
    assert view.values["phone"].endswith("8000"), view
