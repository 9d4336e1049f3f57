"""EMAIL, URL, IP (v4 and v6).

Why gates first: most Chinese notes contain no ``@``, no ``://`` and no dotted
quad, so a substring test skips each pattern in nanoseconds. IP candidates are
confirmed with :mod:`ipaddress` so times (14:30) and versions are not taken.
"""

from __future__ import annotations

import ipaddress
import re

from pulsecrm.deid.text.findings import EMAIL, IP, URL, Finding

_EMAIL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._%+\-]*@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"
)
_URL = re.compile(r"(?i:https?://|www\.)[A-Za-z0-9\-._~:/?#@!$&*+=%]+")
_URL_TRAILING_PUNCTUATION = ".,;:!?)'\""
_IPV4 = re.compile(
    r"(?<![0-9.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?![0-9]|\.\d)"
)
_DOTTED_DIGITS = re.compile(r"[0-9]\.[0-9]{1,3}\.[0-9]")  # literal-first gate for _IPV4
_IPV6 = re.compile(r"(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![0-9A-Fa-f:])")


class NetworkRecogniser:
    """E-mail addresses, web addresses and IP addresses."""

    name = "network"
    types = frozenset({EMAIL, URL, IP})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for e-mail, URL and IP spans."""
        findings: list[Finding] = []
        if "@" in text:
            findings.extend(Finding(m.start(), m.end(), EMAIL, 0.95) for m in _EMAIL.finditer(text))
        if "://" in text or "www." in text or "WWW." in text:
            for match in _URL.finditer(text):
                end = match.end()
                while end > match.start() and text[end - 1] in _URL_TRAILING_PUNCTUATION:
                    end -= 1
                findings.append(Finding(match.start(), end, URL, 0.9))
        if _DOTTED_DIGITS.search(text):
            findings.extend(Finding(m.start(), m.end(), IP, 0.85) for m in _IPV4.finditer(text))
        if text.count(":") >= 2:
            for match in _IPV6.finditer(text):
                if _is_ipv6(match.group()):
                    findings.append(Finding(match.start(), match.end(), IP, 0.85))
        return findings


def _is_ipv6(candidate: str) -> bool:
    if candidate.count(":") < 2 or not any(c.isalnum() for c in candidate):
        return False
    try:
        return ipaddress.ip_address(candidate).version == 6
    except ValueError:
        return False
