"""Staff sign-in and the console over real HTTP (in-process), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from typing import Any

import pyotp
import pytest

from pulsecrm.access.config import AuthConfig
from pulsecrm.kernel.runtime import Kernel
from tests.access.support import (
    PASSWORD,
    add_person,
    client_login,
    csrf_of,
    enrol,
    make_user,
)
from tests.helpers import audit_rows

XSS = "<img src=x onerror=alert(1)>"


@pytest.mark.req("H2")
def test_revealing_role_without_second_factor_reaches_no_page(app: Kernel, client: Any) -> None:
    make_user(app, "amy.consult", "consultant")
    response = client_login(client, "amy.consult")
    assert response.url.path == "/staff/mfa"  # enrolment, not the console
    assert "otpauth" not in response.text  # the URI is only in the QR image and key
    for path in ("/staff/", "/staff/people", "/staff/followups", "/staff/leads"):
        page = client.get(path, follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/staff/mfa"
        htmx = client.get(path, headers={"HX-Request": "true"}, follow_redirects=False)
        assert htmx.status_code == 401 and htmx.headers["hx-redirect"] == "/staff/mfa"
    # A session cookie never authenticates the API either.
    assert client.get("/api/v1/people").status_code == 401


@pytest.mark.req("H2", "H6")
def test_enrolment_through_the_pages_then_console(app: Kernel, client: Any) -> None:
    make_user(app, "ben.consult", "consultant")
    page = client_login(client, "ben.consult")
    secret = page.text.split('id="totp-secret" class="secret">')[1].split("<")[0]
    bad = client.post("/staff/mfa/enrol", data={"code": "000000", "csrf_token": csrf_of(page.text)})
    assert bad.status_code == 401
    done = client.post(
        "/staff/mfa/enrol",
        data={"code": pyotp.TOTP(secret).now(), "csrf_token": csrf_of(bad.text)},
    )
    assert done.status_code == 200 and done.text.count("<li><code>") == 10
    assert client.get("/staff/people").status_code == 200
    assert audit_rows(app, action="mfa_enrol", outcome="allowed")


@pytest.mark.req("H2", "H6")
def test_lockout_through_the_login_page(app: Kernel, client: Any) -> None:
    make_user(app, "cai.desk", "front_desk")
    form = client.get("/staff/login")
    token = csrf_of(form.text)
    statuses = []
    for _ in range(5):
        r = client.post(
            "/staff/login", data={"username": "cai.desk", "password": "nope", "csrf_token": token}
        )
        statuses.append(r.status_code)
    assert statuses == [401, 401, 401, 401, 429]
    right = client.post(
        "/staff/login", data={"username": "cai.desk", "password": PASSWORD, "csrf_token": token}
    )
    assert right.status_code == 429 and "pulse_session" not in right.cookies
    ghost = client.post(
        "/staff/login", data={"username": "no.one", "password": "nope", "csrf_token": token}
    )
    assert ghost.status_code == 401
    assert "用户名或密码错误" in ghost.text or "wrong username or password" in ghost.text
    # Without the CSRF token the form is refused outright.
    assert client.post("/staff/login", data={"username": "x", "password": "y"}).status_code == 403
    assert len(audit_rows(app, action="lockout")) == 1


@pytest.mark.req("H3")
def test_idle_session_lands_on_login(app: Kernel, web_app: Any, client: Any) -> None:
    import time

    web_app.state.auth_config = AuthConfig(idle_timeout_minutes=0.02)
    make_user(app, "dan.audit", "auditor")
    assert client_login(client, "dan.audit").url.path == "/staff/"
    time.sleep(1.5)
    after = client.get("/staff/privacy/audit", follow_redirects=False)
    assert after.status_code == 303
    assert after.headers["location"].startswith("/staff/login?next=/staff/privacy/audit")
    assert "expired=1" in after.headers["location"]


@pytest.mark.req("H6", "D2")
def test_reveal_with_purpose_audits_exactly_once_and_lists_stay_masked(
    app: Kernel, client: Any
) -> None:
    owner = make_user(app, "eve.consult", "consultant")
    secret = enrol(app, "eve.consult")
    pid = add_person(app, owner, {"name": XSS, "phone": "13812345678", "email": "a.b@example.cn"})
    assert client_login(client, "eve.consult", secret).url.path == "/staff/"
    listing = client.get("/staff/people")
    assert listing.status_code == 200
    assert "13812345678" not in listing.text and "138****5678" in listing.text
    assert XSS not in listing.text and "<img" not in listing.text
    person = client.get(f"/staff/people/{pid}")
    assert person.status_code == 200 and "13812345678" not in person.text
    assert "a.b@example.cn" not in person.text and "<img src=x" not in person.text
    before = len(audit_rows(app, action="reveal"))
    shown = client.post(
        f"/staff/people/{pid}/reveal",
        data={"field": "phone", "purpose": "service.followup", "csrf_token": csrf_of(person.text)},
        headers={"HX-Request": "true"},
    )
    assert shown.status_code == 200 and "13812345678" in shown.text
    assert 'hx-trigger="load delay:30s"' in shown.text
    reveals = audit_rows(app, action="reveal")
    assert len(reveals) == before + 1
    assert reveals[-1]["purpose"] == "service.followup" and reveals[-1]["subject"] == pid
    # A purpose the role holds no reveal grant for is refused (and audited as denied).
    refused = client.post(
        f"/staff/people/{pid}/reveal",
        data={"field": "phone", "purpose": "marketing.sms", "csrf_token": csrf_of(person.text)},
    )
    assert refused.status_code == 403 and "13812345678" not in refused.text
    # Name revealed: the payload comes back as inert text.
    name = client.post(
        f"/staff/people/{pid}/reveal",
        data={
            "field": "name",
            "purpose": "service.appointment",
            "csrf_token": csrf_of(person.text),
        },
    )
    assert "&lt;img src=x onerror=alert(1)&gt;" in name.text and XSS not in name.text


@pytest.mark.req("H4")
def test_break_glass_from_the_console_opens_a_person_out_of_scope(app: Kernel, client: Any) -> None:
    owner = make_user(app, "fay.consult", "consultant")
    pid = add_person(app, owner, {"name": "王小明", "phone": "13900001111"})
    make_user(app, "gus.desk", "front_desk")
    secret = enrol(app, "gus.desk")
    client_login(client, "gus.desk", secret)
    assert client.get(f"/staff/people/{pid}").status_code == 404
    form = client.get("/staff/emergency")
    asked = client.post(
        "/staff/emergency",
        data={
            "reason": "patient fainted at the desk, need contact",
            "person_id": pid,
            "minutes": "10",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert asked.status_code == 200 and asked.url.path == f"/staff/people/{pid}"
    reads = [r for r in audit_rows(app, subject=pid) if r["role"] == "break_glass"]
    assert reads and reads[-1]["actor"].startswith("gus.desk#bg-")
    too_long = client.post(
        "/staff/emergency",
        data={
            "reason": "patient fainted at the desk, need contact",
            "purpose": "service.followup",
            "minutes": "45",
            "csrf_token": csrf_of(form.text),
        },
    )
    assert too_long.status_code == 422


def test_console_pages_render_for_each_role(app: Kernel, client: Any) -> None:
    make_user(app, "hal.privacy", "privacy_officer")
    secret = enrol(app, "hal.privacy")
    client_login(client, "hal.privacy", secret)
    for path in (
        "/staff/",
        "/staff/?by=consultant&period=all",
        "/staff/people",
        "/staff/leads",
        "/staff/followups",
        "/staff/calendar",
        "/staff/marketing",
        "/staff/emergency",
        "/staff/privacy",
        "/staff/privacy/notices",
        "/staff/privacy/purposes",
        "/staff/privacy/users",
        "/staff/privacy/audit",
        "/staff/?lang=en",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[:500])
        main = response.text.split("<main", 1)[1]
        assert not re.search(r">staff\.[a-z_]+\.", main), path  # no untranslated key
    verify = client.post(
        "/staff/privacy/audit/verify",
        data={"csrf_token": csrf_of(client.get("/staff/privacy/audit").text)},
    )
    assert verify.status_code == 200 and 'class="status ok"' in verify.text


@pytest.mark.req("H4", "H6")
def test_break_glass_purpose_grant_adds_a_reveal_purpose(app: Kernel, client: Any) -> None:
    desk = make_user(app, "ida.desk", "front_desk")
    secret = enrol(app, "ida.desk")
    pid = add_person(app, desk, {"name": "赵敏", "phone": "13700002222"})
    client_login(client, "ida.desk", secret)
    person = client.get(f"/staff/people/{pid}")
    assert 'value="service.followup"' not in person.text  # front desk: appointments only
    refused = client.post(
        f"/staff/people/{pid}/reveal",
        data={"field": "phone", "purpose": "service.followup", "csrf_token": csrf_of(person.text)},
    )
    assert refused.status_code == 403
    form = client.get("/staff/emergency")
    client.post(
        "/staff/emergency",
        data={
            "reason": "aftercare emergency call, doctor asked",
            "purpose": "service.followup",
            "minutes": "5",
            "csrf_token": csrf_of(form.text),
        },
    )
    person = client.get(f"/staff/people/{pid}")
    assert 'value="service.followup"' in person.text
    shown = client.post(
        f"/staff/people/{pid}/reveal",
        data={"field": "phone", "purpose": "service.followup", "csrf_token": csrf_of(person.text)},
    )
    assert shown.status_code == 200 and "13700002222" in shown.text
    entry = audit_rows(app, action="reveal", subject=pid, outcome="allowed")[-1]
    assert entry["role"] == "break_glass" and entry["actor"].startswith("ida.desk#bg-")
    assert entry["purpose"] == "service.followup"


@pytest.mark.req("H1", "H6")
def test_users_page_creates_named_accounts_only_and_resets_mfa(app: Kernel, client: Any) -> None:
    make_user(app, "joe.privacy", "privacy_officer")
    client_login(client, "joe.privacy", enrol(app, "joe.privacy"))
    page = client.get("/staff/privacy/users")
    token = csrf_of(page.text)
    form = {"display_name": "前台", "role": "front_desk", "password": PASSWORD, "csrf_token": token}
    generic = client.post("/staff/privacy/users", data={**form, "username": "frontdesk"})
    assert generic.status_code == 422 and "frontdesk" not in str(
        [r["detail"] for r in audit_rows(app, action="account")]
    )
    made = client.post("/staff/privacy/users", data={**form, "username": "kai.desk"})
    assert made.status_code == 200 and "kai.desk" in made.text
    dup = client.post("/staff/privacy/users", data={**form, "username": "kai.desk"})
    assert dup.status_code == 422
    bg = client.post(
        "/staff/privacy/users", data={**form, "username": "lee.bg", "role": "break_glass"}
    )
    assert bg.status_code == 422
    created = audit_rows(app, action="account")
    assert len(created) == 1 and "kai.desk" in str(created[0]["detail"])
    # The new account must enrol a second factor; then the privacy area is closed to it.
    assert client_login(client, "kai.desk").url.path == "/staff/mfa"
    client_login(client, "kai.desk", enrol(app, "kai.desk"))
    assert client.get("/staff/privacy/users").status_code == 403


@pytest.mark.req("D2")
def test_people_search_by_blind_index_stays_in_scope_and_masked(app: Kernel, client: Any) -> None:
    mine = make_user(app, "kim.consult", "consultant")
    other = make_user(app, "lou.consult", "consultant")
    pid = add_person(
        app, mine, {"name": "孙丽", "phone": "13611112222", "email": "sun.li@example.cn"}
    )
    add_person(app, other, {"name": "钱多", "phone": "13633334444"})
    client_login(client, "kim.consult", enrol(app, "kim.consult"))
    found = client.get("/staff/people", params={"kind": "phone", "q": "136 1111 2222"})
    assert f"/staff/people/{pid}" in found.text and "13611112222" not in found.text
    by_mail = client.get("/staff/people", params={"kind": "email", "q": "SUN.LI@example.cn"})
    assert f"/staff/people/{pid}" in by_mail.text and "sun.li@example.cn" not in by_mail.text
    hidden = client.get("/staff/people", params={"kind": "phone", "q": "13633334444"})
    assert "/staff/people/" not in hidden.text.split("<tbody>")[1]  # another team's person
    assert audit_rows(app, action="search", actor="kim.consult")
