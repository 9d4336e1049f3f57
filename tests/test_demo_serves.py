"""The README's first command: ``pulsecrm demo`` seeds a fresh home and serves the console,
patient pages and API, printing the URL and one login per role."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_seeds_a_fresh_home_and_serves_the_console(tmp_path: Path) -> None:
    port = _free_port()
    env = {
        **os.environ,
        "PULSECRM_HOME": str(tmp_path / "home"),
        "PULSECRM_DATABASE_URL": "",
        "PULSECRM_KEYSTORE_URL": "",
    }
    env = {k: v for k, v in env.items() if v != ""}
    cli = Path(sys.executable).with_name("pulsecrm")
    log = (tmp_path / "demo.log").open("w+")
    proc = subprocess.Popen(
        [str(cli), "demo", "--people", "60", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        page = None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"{base}/staff/login", timeout=2)
                break
            except httpx.HTTPError:
                time.sleep(0.5)
        log.seek(0)
        printed = log.read()
        assert page is not None and page.status_code == 200, printed
        assert f"{base}/staff/" in printed and "pulse-demo-2026" in printed
        for role_login in ("consultant", "privacy", "auditor", "marketing"):
            assert role_login in printed
        assert httpx.get(f"{base}/p/", timeout=5).status_code == 200
        assert httpx.get(f"{base}/api/v1/openapi.json", timeout=5).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
