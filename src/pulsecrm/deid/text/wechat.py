"""WECHAT_ID: a WeChat account name written after 微信/VX/wx/WeChat.

Why context is mandatory: a WeChat id is 6–20 letters, digits, ``_`` or ``-``
starting with a letter — indistinguishable from any English word or code on its
own. After a Chinese cue (微信, 微信号, VX：) the id follows directly. After the
English word "WeChat" used as a channel ("via WeChat article", "WeChat article
shared by…") a bare lower-case word is not taken as an account unless it is
separated by a colon or looks like an id (has a digit, ``_`` or ``-``).
"""

from __future__ import annotations

import re

from pulsecrm.deid.text.findings import WECHAT_ID, Finding

_VALUE = (
    r"(?P<sep>\s?(?:[:：]|是|为)?\s?|\s|[（(])"
    r"(?P<value>[A-Za-z][A-Za-z0-9_\-]{5,19})(?![A-Za-z0-9_\-])"
)
# literal-first so the regex engine can skip to candidate positions quickly
_WECHAT_ZH = re.compile(r"(?:微信号|微信id|微信ID|微信|v信|V信)" + _VALUE)
_WECHAT_LATIN = re.compile(
    r"(?<![A-Za-z])(?P<cue>(?i:vx|wx)(?:号)?|(?i:wechat|weixin)(?:\s?(?i:id))?)" + _VALUE
)
_LATIN_GATE_WORDS = ("vx", "wx", "wechat", "weixin")
_CHANNEL_WORDS = ("via ", "from ", "on ", "through ", "in ", "by ", "a ", "the ")
_ASCII_LETTER = re.compile("[A-Za-z]")


class WeChatRecogniser:
    """Finds WeChat ids after a WeChat cue word."""

    name = "wechat"
    types = frozenset({WECHAT_ID})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for WeChat ids."""
        findings: list[Finding] = []
        if "信" in text:
            findings.extend(
                Finding(m.start("value"), m.end("value"), WECHAT_ID, 0.85)
                for m in _WECHAT_ZH.finditer(text)
            )
        if _ASCII_LETTER.search(text) is None:
            return findings
        lowered = text.lower()
        if not any(word in lowered for word in _LATIN_GATE_WORDS):
            return findings
        for match in _WECHAT_LATIN.finditer(text):
            if _is_channel_mention(text, match):
                continue
            findings.append(Finding(match.start("value"), match.end("value"), WECHAT_ID, 0.85))
        return findings


def _is_channel_mention(text: str, match: re.Match[str]) -> bool:
    """ "via WeChat article": WeChat names the channel, not an account."""
    cue = match.group("cue").lower()
    if not cue.startswith(("wechat", "weixin")) or "id" in cue:
        return False
    if {":", "："} & set(match.group("sep")):
        return False
    value = match.group("value")
    if any(c.isdigit() or c in "_-" for c in value):
        return False
    if text[max(0, match.start() - 9) : match.start()].lower().endswith(_CHANNEL_WORDS):
        return True
    # "WeChat article shared by…": a lower-case word running on into prose
    following = text[match.end() : match.end() + 2]
    return (
        value.islower() and len(following) == 2 and following[0] == " " and following[1].islower()
    )
