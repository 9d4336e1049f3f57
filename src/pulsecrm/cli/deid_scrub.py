"""`pulsecrm deid scrub` — remove PII from free text (consultation notes, questionnaires).

Two modes, because two kinds of caller use it:

* ``--json``: one note per input line → one JSON object per output line,
  ``{"text": <scrubbed>, "findings": [{"type", "start", "end", "score"}]}``,
  offsets in characters of the input line without its line ending. Other tools
  pipe exports through this, so the contract is exact and streaming.
* plain: read all of stdin (or FILE) and print the scrubbed text.

Bad input is a user error, not a crash: invalid UTF-8 is reported with its
line number and exit status 2, without a traceback.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import BinaryIO

import typer

from pulsecrm.deid.text.findings import ALL_TYPES
from pulsecrm.deid.text.replacement import OPERATOR_NAMES
from pulsecrm.deid.text.scrubber import scrub

_USAGE_ERROR = 2


class _InputError(Exception):
    """A problem with the user's input or options, shown as one message line."""


def register(app: typer.Typer) -> None:
    """Attach this module's commands to the ``deid`` sub-app."""
    app.command("scrub")(scrub_command)


def scrub_command(
    file: Path | None = typer.Argument(
        None, help="Text file to scrub (plain mode). Default: standard input.", show_default=False
    ),
    json_lines: bool = typer.Option(
        False, "--json", help="One note per input line in, one JSON object per line out."
    ),
    operator: str = typer.Option(
        "replace", "--operator", help="replace | mask | pseudonym | redact."
    ),
    key_env: str | None = typer.Option(
        None,
        "--key-env",
        help="Environment variable holding the pseudonym key "
        "(default: a random key for this run only).",
    ),
    types: str | None = typer.Option(
        None, "--types", help="Comma-separated PII types to scrub, e.g. PHONE,ID_NUMBER."
    ),
) -> None:
    """Detect and scrub PII (phones, IDs, names, addresses…) in Chinese and English text."""
    try:
        wanted = _parse_types(types)
        if operator not in OPERATOR_NAMES:
            raise _InputError(
                f"unknown operator {operator!r}; choose one of {', '.join(OPERATOR_NAMES)}"
                f" / 未知的替换方式 {operator!r}"
            )
        key = _resolve_key(operator, key_env)
        stdout = sys.stdout.buffer
        if json_lines:
            source = file.open("rb") if file is not None else sys.stdin.buffer
            try:
                _scrub_json_lines(source, stdout, operator, key, wanted)
            finally:
                if file is not None:
                    source.close()
        else:
            raw = file.read_bytes() if file is not None else sys.stdin.buffer.read()
            text = _decode(raw, line_number=None)
            result = scrub(text, operator=operator, key=key, types=wanted)
            stdout.write(result.text.encode("utf-8"))
        stdout.flush()
    except _InputError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(_USAGE_ERROR) from None
    except OSError as error:
        typer.echo(f"error: {error.strerror or error}", err=True)
        raise typer.Exit(_USAGE_ERROR) from None


def _scrub_json_lines(
    source: BinaryIO,
    sink: BinaryIO,
    operator: str,
    key: bytes | None,
    wanted: set[str] | None,
) -> None:
    """Stream: one JSON object per input line, written as soon as it is ready."""
    for line_number, raw in enumerate(source, start=1):
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        text = _decode(raw, line_number=line_number)
        result = scrub(text, operator=operator, key=key, types=wanted)
        record = {"text": result.text, "findings": [f.as_dict() for f in result.findings]}
        sink.write(json.dumps(record, ensure_ascii=False).encode("utf-8") + b"\n")


def _decode(raw: bytes, *, line_number: int | None) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = line_number if line_number is not None else raw.count(b"\n", 0, error.start) + 1
        raise _InputError(
            f"line {line}: invalid UTF-8 at byte {error.start} / 第 {line} 行不是有效的 UTF-8 文本"
        ) from None


def _parse_types(option: str | None) -> set[str] | None:
    if option is None:
        return None
    wanted = {part.strip().upper() for part in option.split(",") if part.strip()}
    unknown = wanted - ALL_TYPES
    if unknown or not wanted:
        raise _InputError(
            f"unknown PII type(s) {', '.join(sorted(unknown)) or '(none given)'}; "
            f"known: {', '.join(sorted(ALL_TYPES))} / 未知的个人信息类型"
        )
    return wanted


def _resolve_key(operator: str, key_env: str | None) -> bytes | None:
    if key_env is None:
        if operator == "pseudonym":
            typer.echo(
                "note: no --key-env given; pseudonyms use a random key valid for this run only",
                err=True,
            )
            return os.urandom(32)
        return None
    value = os.environ.get(key_env)
    if not value:
        raise _InputError(
            f"environment variable {key_env} is not set or empty / 环境变量 {key_env} 未设置"
        )
    return value.encode("utf-8")
