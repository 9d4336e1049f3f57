"""Helpers for console tests: staff with passwords, people with leads they own, TOTP login."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pyotp
from sqlalchemy import insert

from pulsecrm.access import login
from pulsecrm.access.config import AuthConfig
from pulsecrm.crm import lead_service
from pulsecrm.crm.tables import person
from pulsecrm.kernel.accounts import create_account, find_account
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel

PASSWORD = "correct horse battery"


def make_user(kernel: Kernel, username: str, role: str, password: str = PASSWORD) -> int:
    with kernel.engine.begin() as conn:
        found = find_account(conn, username)
        if found is not None:
            return found.id
        return create_account(
            conn,
            kernel.catalog,
            tenant_id=kernel.tenant_id(),
            username=username,
            display_name=username,
            role=role,
            password=password,
        ).id


def add_person(
    kernel: Kernel, owner_id: int, values: dict[str, str], channel: str = "douyin"
) -> str:
    """A person (through the vault) with one lead owned by ``owner_id``."""
    ctx = AccessContext("test.seed", "consultant", kernel.tenant_id(), "service.appointment")
    person_id = uuid.uuid4().hex
    now = now_us()
    with kernel.engine.begin() as conn:
        conn.execute(
            insert(person).values(
                id=person_id, tenant_id=ctx.tenant_id, created_us=now, updated_us=now
            )
        )
        kernel.vault.write(conn, ctx, {person_id: dict(values)}, new_subjects=[person_id])
        lead_service.create_lead(
            conn=conn,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            attribution=lead_service.Attribution(channel, "spring", None, None, None),
            owner_id=owner_id,
        )
    return person_id


def enrol(kernel: Kernel, username: str) -> str:
    """Enrol a TOTP factor for ``username`` through the real flow; returns the secret."""
    config = AuthConfig()
    result = login.password_login(
        kernel, username=username, password=PASSWORD, ip="127.0.0.1", config=config
    )
    info = login.current_session(kernel, result.session, config=config, need_mfa=False)
    enrolment = login.begin_enrolment(kernel, info, config=config)
    # The previous step's code (inside the ±1 window), so a login right after can use
    # the current one without tripping replay protection.
    login.confirm_enrolment(
        kernel,
        result.session,
        info,
        code=pyotp.TOTP(enrolment.secret).at(time.time() - 30),
        ip="127.0.0.1",
        config=config,
    )
    login.logout(kernel, result.session, ip="127.0.0.1")
    return enrolment.secret


CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)


def client_login(client: Any, username: str, secret: str | None = None) -> Any:
    """Sign in through the pages (password, then TOTP if given); returns the last response."""
    page = client.get("/staff/login")
    response = client.post(
        "/staff/login",
        data={
            "username": username,
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/staff/",
        },
        follow_redirects=True,
    )
    if secret is not None:
        response = client.post(
            "/staff/mfa/verify",
            data={
                "code": pyotp.TOTP(secret).now(),
                "csrf_token": csrf_of(response.text),
                "next": "/staff/",
            },
            follow_redirects=True,
        )
    return response
