"""``pulsecrm serve`` refuses an empty home with the fix; ``demo --no-serve`` only seeds."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulsecrm.cli.main import app as cli


def test_serve_without_installation_names_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PULSECRM_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("PULSECRM_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("PULSECRM_LOCALE", "en")
    result = CliRunner().invoke(cli, ["serve", "--port", "18999"])
    assert result.exit_code == 2
    assert "pulsecrm init" in result.output and "Traceback" not in result.output


def test_demo_logins_say_which_roles_need_a_second_factor(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from pulsecrm.cli.main import _print_demo_logins

    _print_demo_logins("127.0.0.1", 8123)
    out = capsys.readouterr().err
    assert "http://127.0.0.1:8123/staff/" in out
    assert "zhang.consultant" in out and "chen.auditor" in out and "pulse-demo-2026" in out
    assert "TOTP" in out
