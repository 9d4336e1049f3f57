"""Staff sign-in pages: password, TOTP enrolment and verification, recovery codes, logout.

Thin adapters over ``pulsecrm.access.login``: every rule (throttling, lockout,
uniform refusal, replay protection, session rotation, auditing) lives there.
Refusals re-render the form with one message that never says whether the
username exists.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from pulsecrm.access import login
from pulsecrm.access.errors import LoginLocked, LoginRefused, SecondFactorRefused
from pulsecrm.web.auth_session import (
    LOGIN_PATH,
    MFA_PATH,
    Staff,
    StaffRoute,
    anonymous_form,
    auth_config,
    bind_session,
    clear_session_cookie,
    client_ip,
    kernel_of,
    pending_form,
    pending_staff,
    safe_next,
    set_session_cookie,
)
from pulsecrm.web.i18n import negotiate
from pulsecrm.web.templating import render

router = APIRouter(route_class=StaffRoute, tags=["staff-auth"], include_in_schema=False)
Text = Annotated[str, Form(max_length=200)]


@router.get("/staff")
def staff_root() -> RedirectResponse:
    return RedirectResponse("/staff/", status_code=307)


@router.get(LOGIN_PATH)
def login_page(request: Request, next: str | None = None, expired: int = 0) -> Response:
    bind_session(request)
    return render(
        request,
        "staff/login.html",
        {"next": safe_next(next), "expired": bool(expired), "error": None, "username": ""},
    )


@router.post(LOGIN_PATH, dependencies=[Depends(anonymous_form)])
def login_submit(
    request: Request,
    username: Text,
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=500)] = "/staff/",
) -> Response:
    kernel = kernel_of(request)
    try:
        result = login.password_login(
            kernel,
            username=username,
            password=password,
            ip=client_ip(request),
            config=auth_config(request),
        )
    except (LoginRefused, LoginLocked) as exc:
        status = 429 if isinstance(exc, LoginLocked) else 401
        return render(
            request,
            "staff/login.html",
            {
                "next": safe_next(next),
                "expired": False,
                "error": exc.message(negotiate(request)),
                "locked": isinstance(exc, LoginLocked),
                "username": username,
            },
            status_code=status,
        )
    target = safe_next(next) if result.next_step == "done" else f"{MFA_PATH}?next={safe_next(next)}"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(request, response, result.session)
    return response


@router.get(MFA_PATH)
def mfa_page(
    request: Request, staff: Staff = Depends(pending_staff), next: str | None = None
) -> Response:
    if staff.session.mfa_done:
        return RedirectResponse(safe_next(next), status_code=303)
    kernel = kernel_of(request)
    state = login.mfa_state(kernel, staff.session)
    if state == "active":
        return render(request, "staff/mfa_verify.html", {"next": safe_next(next), "error": None})
    enrolment = login.begin_enrolment(kernel, staff.session, config=auth_config(request))
    return render(
        request,
        "staff/mfa_enrol.html",
        {
            "enrolment": enrolment,
            "next": safe_next(next),
            "error": None,
        },
    )


@router.post(f"{MFA_PATH}/verify")
def mfa_verify(
    request: Request,
    code: Annotated[str, Form(max_length=40)],
    next: Annotated[str, Form(max_length=500)] = "/staff/",
    staff: Staff = Depends(pending_form),
) -> Response:
    kernel = kernel_of(request)
    try:
        fresh = login.verify_second_factor(
            kernel,
            staff.raw,
            staff.session,
            code=code,
            ip=client_ip(request),
            config=auth_config(request),
        )
    except LoginLocked as exc:
        response = render(
            request,
            "staff/login.html",
            {
                "next": "/staff/",
                "expired": False,
                "error": exc.message(staff.locale),
                "locked": True,
                "username": staff.username,
            },
            status_code=429,
        )
        clear_session_cookie(request, response)
        return response
    except SecondFactorRefused as exc:
        return render(
            request,
            "staff/mfa_verify.html",
            {"next": safe_next(next), "error": exc.message(staff.locale)},
            status_code=401,
        )
    done = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, done, fresh)
    return done


@router.post(f"{MFA_PATH}/enrol")
def mfa_enrol(
    request: Request,
    code: Annotated[str, Form(max_length=40)],
    next: Annotated[str, Form(max_length=500)] = "/staff/",
    staff: Staff = Depends(pending_form),
) -> Response:
    kernel = kernel_of(request)
    config = auth_config(request)
    try:
        done = login.confirm_enrolment(
            kernel, staff.raw, staff.session, code=code, ip=client_ip(request), config=config
        )
    except LoginLocked as exc:
        response = render(
            request,
            "staff/login.html",
            {
                "next": "/staff/",
                "expired": False,
                "error": exc.message(staff.locale),
                "locked": True,
                "username": staff.username,
            },
            status_code=429,
        )
        clear_session_cookie(request, response)
        return response
    except SecondFactorRefused as exc:
        enrolment = login.begin_enrolment(kernel, staff.session, config=config)
        return render(
            request,
            "staff/mfa_enrol.html",
            {
                "enrolment": enrolment,
                "next": safe_next(next),
                "error": exc.message(staff.locale),
            },
            status_code=401,
        )
    # The codes are shown once, on this response; nothing stores them in clear.
    bind_session(request, done.session)
    response = render(
        request,
        "staff/recovery_codes.html",
        {"codes": done.recovery_codes, "next": safe_next(next)},
    )
    set_session_cookie(request, response, done.session)
    return response


@router.post("/staff/logout", dependencies=[Depends(anonymous_form)])
def logout(request: Request) -> Response:
    login.logout(kernel_of(request), request.cookies.get("pulse_session"), ip=client_ip(request))
    response = RedirectResponse(f"{LOGIN_PATH}?bye=1", status_code=303)
    clear_session_cookie(request, response)
    return response
