"""WECHAT_ID: a WeChat account name written after 微信/VX/wx/WeChat.

Why context is mandatory: a WeChat id is 6–20 letters, digits, ``_`` or ``-``
starting with a letter — indistinguishable from any English word or code on its
own. After a Chinese cue (微信, 微信号, VX：) the id follows directly. After an
English cue we also demand a separator or an id-like value (a digit or ``_``),
so "via WeChat article" is not read as the account ``article``.
"""

from __future__ import annotations

import re

from pulsecrm.deid.text.findings import WECHAT_ID, Finding

_WECHAT = re.compile(
    r"(?:(?P<zh>微信号?|微信id|(?<![A-Za-z])(?i:vx|wx|v信)(?:号)?)"
    r"|(?P<en>(?<![A-Za-z])(?i:wechat|weixin)(?:\s?(?i:id))?))"
    r"(?P<sep>\s?[:]?\s?|\s)"
    r"(?P<value>[A-Za-z][A-Za-z0-9_\-]{5,19})(?![A-Za-z0-9_\-])"
)
_CHANNEL_WORDS = ("via ", "from ", "on ", "through ", "in ", "by ", "a ", "the ")
_GATE_WORDS = ("微信", "vx", "wx", "wechat", "weixin", "v信")


class WeChatRecogniser:
    """Finds WeChat ids after a WeChat cue word."""

    name = "wechat"
    types = frozenset({WECHAT_ID})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for WeChat ids."""
        if "微信" not in text:
            lowered = text.lower()
            if not any(word in lowered for word in _GATE_WORDS):
                return []
        findings: list[Finding] = []
        for match in _WECHAT.finditer(text):
            value = match.group("value")
            if (
                match.group("en")
                and ":" not in match.group("sep")
                and "id" not in match.group("en").lower()
                and text[max(0, match.start() - 9) : match.start()].lower().endswith(_CHANNEL_WORDS)
                and not any(c.isdigit() or c in "_-" for c in value)
            ):
                continue  # "via WeChat article": WeChat the channel, not an account
            findings.append(Finding(match.start("value"), match.end("value"), WECHAT_ID, 0.85))
        return findings
