"""Click tracking only with consent, and never an open pixel (C9)."""

from __future__ import annotations

import re

import pytest

from pulsecrm.channels.email_smtp import SmtpAdapter
from pulsecrm.consent import service
from pulsecrm.kernel.runtime import Kernel
from tests.channels import servers
from tests.channels.servers import SmtpSink
from tests.helpers import ctx
from tests.marketing.send_helpers import (
    api_client,
    campaign,
    events,
    person,
    publish_all,
    send_all,
    with_providers,
)

smtp_server = servers.smtp_server
LANDING = "https://clinic.example/spring"
TRACKED = re.compile(r"https?://[^\s<>\"]+/api/v1/t/[A-Za-z0-9_\-.]+")


def _mails(app: Kernel, smtp: SmtpSink) -> dict[str, tuple[str, str]]:
    notice = publish_all(app)
    person(
        app,
        notice,
        "13800138301",
        email="yes@example.com",
        grants=(("marketing.email", "email"), ("marketing.tracking", "email")),
    )
    person(
        app,
        notice,
        "13800138302",
        email="no@example.com",
        grants=(("marketing.email", "email"),),
    )
    campaign_id = campaign(app, channel="email", purpose="marketing.email")
    adapter = SmtpAdapter(with_providers(app, smtp_host=smtp.host, smtp_port=smtp.port))
    assert send_all(app, campaign_id, adapter).sent == 2
    out: dict[str, tuple[str, str]] = {}
    for _, rcpts, mail in smtp.messages:
        text = mail.get_body(("plain",))
        html = mail.get_body(("html",))
        assert text is not None and html is not None
        out[rcpts[0]] = (text.get_content(), html.get_content())
    return out


@pytest.mark.req("C9")
def test_links_are_tracked_only_for_people_who_consented_and_no_pixel_for_anyone(
    app: Kernel, smtp_server: SmtpSink
) -> None:
    mails = _mails(app, smtp_server)
    yes_text, yes_html = mails["yes@example.com"]
    no_text, no_html = mails["no@example.com"]
    assert TRACKED.search(yes_text) and LANDING not in yes_text
    assert LANDING in no_text and not TRACKED.search(no_text) and not TRACKED.search(no_html)
    for html in (yes_html, no_html):
        assert "<img" not in html.lower()  # no open pixel, consented or not
    for text in (yes_text, no_text):
        assert "/api/v1/unsubscribe/" in text  # opting out never goes through a tracker


@pytest.mark.req("C9")
def test_a_click_is_recorded_only_while_the_tracking_consent_holds(
    app: Kernel, smtp_server: SmtpSink
) -> None:
    mails = _mails(app, smtp_server)
    found = TRACKED.search(mails["yes@example.com"][0])
    assert found is not None
    path = "/api/v1/t/" + found.group(0).rsplit("/api/v1/t/", 1)[1]
    with api_client(app) as client:
        first = client.get(path, follow_redirects=False)
        assert first.status_code == 302 and first.headers["location"] == LANDING
        assert len(events(app, "clicked")) == 1
        staff = ctx(app)
        pid = events(app, "clicked")[0]["message_id"]
        from pulsecrm.marketing.send_tables import message

        with app.engine.begin() as conn:
            person_id = conn.execute(message.select().where(message.c.id == pid)).one().person_id
            service.withdraw(
                conn,
                app,
                staff,
                person_id=person_id,
                purpose="marketing.tracking",
                channel="email",
                method="preference_page",
            )
        second = client.get(path, follow_redirects=False)
        assert second.status_code == 302 and second.headers["location"] == LANDING
        assert len(events(app, "clicked")) == 1  # not recorded after the withdrawal
        forged = client.get(path[:-3] + "AAA", follow_redirects=False)
        assert forged.status_code == 404  # never an open redirect
