"""`pulsecrm deid scrub`: the JSON-lines contract other tools depend on."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pulsecrm.cli.main import app

pytestmark = pytest.mark.req("E3")

runner = CliRunner()


def run(args: list[str], stdin: bytes, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["deid", "scrub", *args], input=stdin, env=env)


def test_json_lines_one_object_per_line_with_input_offsets() -> None:
    lines = [
        "身份证号11010519491231002X，手机13812345678",
        "",
        "😀患者李娜（手机１３８００１３８０００）",
        "nothing here",
    ]
    stdin = ("\r\n".join(lines[:2]) + "\n" + "\n".join(lines[2:]) + "\n").encode()
    result = run(["--json"], stdin)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == len(lines)
    assert records[1] == {"text": "", "findings": []}
    for line, record in zip(lines, records, strict=True):
        for finding in record["findings"]:
            assert set(finding) == {"type", "start", "end", "score"}
            assert 0 <= finding["start"] < finding["end"] <= len(line)
    first = records[0]
    assert first["text"] == "身份证号<ID_NUMBER>，手机<PHONE>"
    assert [(f["type"], f["start"], f["end"]) for f in first["findings"]] == [
        ("ID_NUMBER", 4, 22),
        ("PHONE", 25, 36),
    ]
    third = records[2]
    assert [lines[2][f["start"] : f["end"]] for f in third["findings"]] == [
        "李娜",
        "１３８００１３８０００",
    ]
    assert records[3] == {"text": "nothing here", "findings": []}


def test_json_output_is_not_ascii_escaped() -> None:
    result = run(["--json"], "联系人：王芳\n".encode())
    assert "联系人" in result.stdout and "\\u" not in result.stdout


def test_plain_mode_reads_all_input_and_keeps_layout() -> None:
    result = run([], "电话13812345678\n第二行：无\n".encode())
    assert result.exit_code == 0
    assert result.stdout == "电话<PHONE>\n第二行：无\n"


def test_plain_mode_reads_a_file(tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("邮箱 a.b@example.com", encoding="utf-8")
    result = run([str(note)], b"")
    assert result.stdout == "邮箱 <EMAIL>"


def test_operator_types_and_key_env() -> None:
    stdin = "电话13812345678，身份证11010519491231002X\n".encode()
    masked = run(["--json", "--operator", "mask", "--types", "PHONE"], stdin)
    assert json.loads(masked.stdout)["text"] == "电话*******5678，身份证11010519491231002X"
    env = {"SCRUB_KEY": "secret-1"}
    first = run(["--operator", "pseudonym", "--key-env", "SCRUB_KEY"], stdin, env)
    again = run(["--operator", "pseudonym", "--key-env", "SCRUB_KEY"], stdin, env)
    other = run(["--operator", "pseudonym", "--key-env", "SCRUB_KEY"], stdin, {"SCRUB_KEY": "2"})
    assert first.stdout == again.stdout != other.stdout
    assert "<PHONE_" in first.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--operator", "shred"],
        ["--types", "PHONE,NOPE"],
        ["--operator", "pseudonym", "--key-env", "PULSECRM_TEST_UNSET_VARIABLE"],
    ],
)
def test_bad_options_exit_2_without_traceback(args: list[str]) -> None:
    result = run(args, b"x\n")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_invalid_utf8_names_the_line_and_exits_2() -> None:
    result = run(["--json"], b"ok line\nsecond \xff\xfe bad\n")
    assert result.exit_code == 2
    assert "line 2" in result.stderr
    assert "Traceback" not in result.output
    plain = run([], b"fine\nfine\n\xc3\x28\n")
    assert plain.exit_code == 2 and "line 3" in plain.stderr


def test_very_long_line() -> None:
    line = ("客户电话13812345678，" + "说明" * 2000) * 50
    result = run(["--json"], (line + "\n").encode())
    record = json.loads(result.stdout)
    assert len(record["findings"]) == 50
    assert all(line[f["start"] : f["end"]] == "13812345678" for f in record["findings"])


def test_installed_command_via_subprocess() -> None:
    executable = Path(sys.executable).with_name("pulsecrm")
    if not executable.exists():
        pytest.skip("the pulsecrm console script is not installed in this environment")
    completed = subprocess.run(
        [str(executable), "deid", "scrub", "--json"],
        input="手机13812345678\r\n\n".encode(),
        capture_output=True,
        check=True,
        timeout=60,
    )
    lines = completed.stdout.decode().splitlines()
    assert [json.loads(line) for line in lines] == [
        {
            "text": "手机<PHONE>",
            "findings": [{"type": "PHONE", "start": 2, "end": 13, "score": 0.9}],
        },
        {"text": "", "findings": []},
    ]
