"""Every message exists in every locale; locale negotiation picks an explicit choice first."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.requests import Request

from pulsecrm.web import i18n

TEMPLATES = Path(i18n.__file__).parent / "templates"


def test_every_key_exists_in_every_locale() -> None:
    keys = {locale: set(i18n.messages(locale)) for locale in i18n.LOCALES}
    reference = keys[i18n.DEFAULT_LOCALE]
    for locale, found in keys.items():
        assert found - reference == set(), f"only in {locale}: {sorted(found - reference)}"
        assert reference - found == set(), f"missing in {locale}: {sorted(reference - found)}"


def test_placeholders_agree_between_locales() -> None:
    def names(text: str) -> set[str]:
        return set(re.findall(r"{(\w+)}", text))

    zh, en = i18n.messages("zh-CN"), i18n.messages("en")
    for key, text in zh.items():
        assert names(text) == names(en[key]), key


LITERAL_KEY = re.compile(r"""(?<![\w.])t\(\s*["']([\w.-]+)["']\s*[,)]""")


def test_every_literal_key_used_by_a_patient_template_exists() -> None:
    used: set[str] = set()
    for path in [*(TEMPLATES / "patient").glob("*.html"), *TEMPLATES.glob("*.html")]:
        used |= set(LITERAL_KEY.findall(path.read_text(encoding="utf-8")))
    assert len(used) > 50  # the pattern does find the keys
    missing = sorted(k for k in used if k not in i18n.messages("zh-CN"))
    assert missing == []


def _request(query: str = "", cookie: str = "", accept: str = "") -> Request:
    headers = []
    if cookie:
        headers.append((b"cookie", f"lang={cookie}".encode()))
    if accept:
        headers.append((b"accept-language", accept.encode()))
    return Request({"type": "http", "query_string": query.encode(), "headers": headers})


@pytest.mark.parametrize(
    ("query", "cookie", "accept", "expected"),
    [
        ("", "", "", "zh-CN"),
        ("", "", "en-US,en;q=0.9", "en"),
        ("", "", "fr-FR,en;q=0.5", "en"),
        ("", "", "zh-TW,zh;q=0.9", "zh-CN"),
        ("", "en", "zh-CN", "en"),
        ("lang=zh-CN", "en", "en", "zh-CN"),
        ("lang=xx", "", "en", "en"),
    ],
)
def test_negotiation(query: str, cookie: str, accept: str, expected: str) -> None:
    assert i18n.negotiate(_request(query, cookie, accept)) == expected
