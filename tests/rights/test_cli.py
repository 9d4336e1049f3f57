"""`pulsecrm rights …`: the offline channel and the officer's queue (F1)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from pulsecrm.cli.main import app as cli
from pulsecrm.kernel.runtime import Kernel
from tests.helpers import audit_rows, ctx

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.output


@pytest.mark.req("F1")
def test_offline_request_recorded_at_the_desk_and_worked_by_the_officer(app: Kernel) -> None:
    ctx(app, "front_desk", actor="fay.desk")
    ctx(app, "privacy_officer", "compliance.dsr", actor="po.li")
    code, out = _run(
        "rights",
        "record",
        "--type",
        "access",
        "--name",
        "赵六",
        "--phone",
        "13500135000",
        "--user",
        "fay.desk",
        "--json",
    )
    assert code == 0, out
    recorded = json.loads(out)
    assert recorded["channel"] == "offline" and recorded["status"] == "received"
    assert recorded["clock"]["due_us"] > recorded["clock"]["received_us"]
    assert "13500135000" not in out
    # The desk recorded it as the requester's own words: it cannot read the queue.
    code, out = _run("rights", "queue", "--user", "fay.desk")
    assert code == 2 and "error" in out
    code, out = _run("rights", "queue", "--user", "po.li", "--json")
    assert code == 0, out
    [queued] = json.loads(out)
    assert queued["reference"] == recorded["reference"]
    assert queued["contact"]["phone"].endswith("5000") and "13500135000" not in out
    code, out = _run(
        "rights",
        "verify",
        recorded["reference"].lower(),
        "--method",
        "ID card at the desk",
        "--user",
        "po.li",
        "--json",
    )
    assert code == 0, out
    assert json.loads(out)["verified"] is True
    code, out = _run(
        "rights",
        "extend",
        recorded["reference"],
        "--reason",
        "archive in another branch",
        "--user",
        "po.li",
        "--json",
    )
    assert code == 0 and json.loads(out)["clock"]["extended_due_us"] is not None
    assert audit_rows(app, actor="offline:fay.desk", action="create")


def test_bad_request_type_is_named(app: Kernel) -> None:
    ctx(app, "front_desk", actor="fay.desk")
    code, out = _run(
        "rights", "record", "--type", "sell", "--phone", "13500135000", "--user", "fay.desk"
    )
    assert code == 2 and "request_type" in out and "Traceback" not in out
