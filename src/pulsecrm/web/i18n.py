"""Interface language for web pages: zh-CN first, en second.

Messages live as YAML per locale and area (``locales/<locale>/patient.yaml``,
``.../staff.yaml``); every file of a locale is merged into one flat catalog of
dotted keys, so the patient and staff areas can grow apart without touching
one another. The locale of a request is chosen by ``?lang=``, then the ``lang``
cookie, then ``Accept-Language`` — an explicit choice always beats a browser
default. A missing key renders as the key itself (visible, never a crash);
``tests/web/test_skeleton_i18n.py`` keeps the locales' key sets equal.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request

LOCALES: tuple[str, ...] = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
LOCALE_DIR = Path(__file__).parent / "locales"
COOKIE = "lang"

Translator = Callable[..., str]


def _flatten(prefix: str, node: Any, out: dict[str, str]) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out)
    else:
        out[prefix] = "" if node is None else str(node)


@cache
def messages(locale: str) -> Mapping[str, str]:
    """Every message of ``locale`` (all areas merged), as dotted keys."""
    out: dict[str, str] = {}
    for path in sorted((LOCALE_DIR / locale).glob("*.yaml")):
        _flatten("", yaml.safe_load(path.read_text(encoding="utf-8")) or {}, out)
    return out


def normalise(value: str | None) -> str | None:
    """``en-US`` → ``en``, ``zh``/``zh-Hans-CN`` → ``zh-CN``; anything else → None."""
    if not value:
        return None
    tag = value.strip().split(";")[0].strip().lower()
    if tag.startswith("en"):
        return "en"
    if tag.startswith("zh"):
        return "zh-CN"
    return None


def negotiate(request: Request) -> str:
    """The request's locale: ``?lang=``, then cookie, then ``Accept-Language``, then zh-CN."""
    for candidate in (request.query_params.get("lang"), request.cookies.get(COOKIE)):
        found = normalise(candidate)
        if found:
            return found
    for part in request.headers.get("accept-language", "").split(","):
        found = normalise(part)
        if found:
            return found
    return DEFAULT_LOCALE


def has(locale: str, key: str) -> bool:
    return key in messages(locale if locale in LOCALES else DEFAULT_LOCALE)


def translator(locale: str) -> Translator:
    """``t(key, **values)``: the message in ``locale`` with ``{name}`` placeholders filled."""
    table = messages(locale if locale in LOCALES else DEFAULT_LOCALE)

    def t(key: str, **values: Any) -> str:
        text = table.get(key, key)
        return text.format_map(values) if values else text

    return t
