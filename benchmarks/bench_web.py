"""Staff console under load: the people list and the person page, privacy on vs a baseline.

* privacy:  the real routes ``/staff/people`` and ``/staff/people/{id}`` — session
  check (idle timeout, MFA), row scope, identifiers read through ``kernel.vault``
  (decrypt, mask, and one audit entry per person made durable by group commit
  before the page is returned), timeline, consent panel and tags;
* baseline: the same handlers and template (``staff_people.people_list_page`` /
  ``person_page_for``) given a reader that takes already-masked values from a
  plaintext fixture table (``bench_plain_person``) — no decryption, no audit entry.
  Everything else (session, scope, timeline, consent, rendering) is identical, so
  the ratio is the price of the kernel door on these pages.

Setup: a fresh installation seeded like ``pulsecrm demo`` (``PULSECRM_BENCH_PEOPLE``,
default 2000), the demo consultant enrolled in TOTP and signed in. The server is uvicorn
on loopback with ``PULSECRM_BENCH_WORKERS`` processes (default 2, one per core); the
load generator is ``wrk`` (Debian package; 2 threads, ``PULSECRM_BENCH_CONNECTIONS``
connections, ``PULSECRM_BENCH_SECONDS`` per run) with a Lua hook that prints
p50/p95/p99. Targets: p95 ≤ 50 ms and ≥ 300 requests/s.

Run: ``uv run python -m benchmarks.bench_web``.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Column, MetaData, String, Table, select
from starlette.responses import Response

from benchmarks._common import fresh_installation, result
from pulsecrm.web.auth_session import Staff, current_staff

LUA = """
done = function(summary, latency, requests)
  local secs = summary.duration / 1e6
  io.write(string.format(
    '{"rps": %f, "p50": %f, "p95": %f, "p99": %f, "errors": %d, "requests": %d}\\n',
    summary.requests / secs, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status
      + summary.errors.timeout, summary.requests))
end
"""
PLAIN_FIELDS = (
    "name",
    "phone",
    "email",
    "id_number",
    "wechat_openid",
    "address",
    "birth_date",
    "gender",
    "birth_year",
    "city",
    "source_channel",
)
plain_metadata = MetaData()
plain_person = Table(
    "bench_plain_person",
    plain_metadata,
    Column("id", String(32), primary_key=True),
    *(Column(f, String(200)) for f in PLAIN_FIELDS),
)


def bench_app() -> Any:
    """The web app plus the two baseline routes (uvicorn factory; settings from the env)."""
    from pulsecrm.kernel.context import AccessContext
    from pulsecrm.kernel.masking import mask_value
    from pulsecrm.kernel.vault_records import PersonView
    from pulsecrm.settings import Settings
    from pulsecrm.store.engine import read_connection
    from pulsecrm.web import staff_people
    from pulsecrm.web.app import create_web_app
    from pulsecrm.web.auth_session import StaffRoute, kernel_of

    app = create_web_app(Settings())
    router = APIRouter(route_class=StaffRoute)

    def plain_reader(request: Request) -> Any:
        kernel = kernel_of(request)
        specs = kernel.catalog.fields

        def read(ctx: AccessContext, ids: list[str], fields: list[str]) -> list[PersonView]:
            with read_connection(kernel.engine) as conn:
                rows = {
                    r.id: r._mapping
                    for r in conn.execute(select(plain_person).where(plain_person.c.id.in_(ids)))
                }
            views = []
            for pid in ids:
                view = PersonView(pid)
                row = rows.get(pid)
                for f in fields:
                    raw = row[f] if row is not None else None
                    view.values[f] = None if raw is None else mask_value(specs[f].mask, raw)
                views.append(view)
            return views

        return read

    @router.get("/bench/plain/people")
    def plain_people(request: Request, staff: Staff = Depends(current_staff)) -> Response:
        return staff_people.people_list_page(
            request, staff, None, "phone", 0, plain_reader(request)
        )

    @router.get("/bench/plain/people/{person_id}")
    def plain_person_page(
        request: Request, person_id: str, staff: Staff = Depends(current_staff)
    ) -> Response:
        return staff_people.person_page_for(request, staff, person_id, plain_reader(request))

    app.include_router(router)
    return app


def _prepare(people: int) -> tuple[Any, str, str]:
    """Seed, build the plaintext fixture, sign the consultant in; (settings, cookie, person)."""
    import pyotp

    from pulsecrm.access import login
    from pulsecrm.access.config import AuthConfig
    from pulsecrm.crm import people_service
    from pulsecrm.crm.demo_seed import DEMO_PASSWORD, seed_demo
    from pulsecrm.crm.scope import scope_for
    from pulsecrm.kernel.context import AccessContext
    from pulsecrm.store.engine import read_connection
    from pulsecrm.wiring import build_app_kernel

    settings = fresh_installation()
    os.environ["PULSECRM_HOME"] = str(settings.home)
    if settings.database_url:
        os.environ["PULSECRM_DATABASE_URL"] = settings.database_url
    started = time.perf_counter()
    seed_demo(settings, people=people)
    print(f"seeded {people} people in {time.perf_counter() - started:.1f}s", flush=True)
    kernel = build_app_kernel(settings)
    try:
        tenant = kernel.tenant_id()
        officer = AccessContext("zhao.privacy", "privacy_officer", tenant, "compliance.dsr")
        consultant = AccessContext("zhang.consultant", "consultant", tenant, "service.appointment")
        with read_connection(kernel.engine) as conn:
            ids, _total = people_service.people_in_scope(
                conn=conn, scope=scope_for(conn=conn, ctx=consultant), limit=200
            )
        fields = [
            f
            for f in PLAIN_FIELDS
            if f in kernel.policy.fields_for("privacy_officer", "compliance.dsr")
        ]
        views = kernel.vault.read(officer, ids, fields, reveal=True)
        plain_metadata.create_all(kernel.engine)
        with kernel.engine.begin() as conn:
            conn.execute(
                plain_person.insert(),
                [{"id": v.subject_id, **{f: v.values.get(f) for f in PLAIN_FIELDS}} for v in views],
            )
        config = AuthConfig(idle_timeout_minutes=600)
        signed = login.password_login(
            kernel,
            username="zhang.consultant",
            password=DEMO_PASSWORD,
            ip="127.0.0.1",
            config=config,
        )
        info = login.current_session(kernel, signed.session, config=config, need_mfa=False)
        enrolment = login.begin_enrolment(kernel, info, config=config)
        done = login.confirm_enrolment(
            kernel,
            signed.session,
            info,
            code=pyotp.TOTP(enrolment.secret).now(),
            ip="127.0.0.1",
            config=config,
        )
        return settings, done.session, ids[0]
    finally:
        kernel.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wrk(url: str, cookie: str, seconds: int, connections: int, lua: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            str(lua),
            "-H",
            f"Cookie: pulse_session={cookie}",
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(x for x in out.splitlines() if x.startswith("{"))
    return dict(json.loads(line))


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    people = int(os.environ.get("PULSECRM_BENCH_PEOPLE", "2000"))
    seconds = int(os.environ.get("PULSECRM_BENCH_SECONDS", "15"))
    connections = int(os.environ.get("PULSECRM_BENCH_CONNECTIONS", "8"))
    workers = int(os.environ.get("PULSECRM_BENCH_WORKERS", "2"))
    _settings, cookie, person_id = _prepare(people)
    os.environ["PULSECRM_IDLE_TIMEOUT_MINUTES"] = "600"
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "benchmarks.bench_web:bench_app",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--workers",
            str(workers),
        ],
        env=os.environ.copy(),
    )
    lua = Path(tempfile.mkdtemp()) / "p95.lua"
    lua.write_text(LUA)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request = urllib.request.Request(
                    f"{base}/staff/people", headers={"Cookie": f"pulse_session={cookie}"}
                )
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status != 200:
                        raise OSError(f"status {response.status}")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        pages = {
            "web_people_list": ("/staff/people", "/bench/plain/people"),
            "web_person_page": (f"/staff/people/{person_id}", f"/bench/plain/people/{person_id}"),
        }
        for name, (real, plain) in pages.items():
            _wrk(base + real, cookie, 3, connections, lua)  # warm-up
            on = _wrk(base + real, cookie, seconds, connections, lua)
            off = _wrk(base + plain, cookie, seconds, connections, lua)
            for run, figures in (("privacy", on), ("baseline", off)):
                print(f"{name} {run}: {figures}", flush=True)
            result(f"{name}_p95", on["p95"], off["p95"], "ms")
            result(f"{name}_throughput", on["rps"], off["rps"], "req/s")
            print(
                f"TARGET {name}: p95 {on['p95']:.1f} ms "
                f"(≤ 50: {'met' if on['p95'] <= 50 else 'MISSED'}), "
                f"{on['rps']:.0f} req/s (≥ 300: {'met' if on['rps'] >= 300 else 'MISSED'}), "
                f"errors {int(on['errors'])}",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
