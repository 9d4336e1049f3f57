"""Replacement operators: what a detected span becomes in the scrubbed text.

* ``replace``   — a type tag, ``<PHONE>``; the default, readable and safe.
* ``mask``      — same length, ``*`` for hidden characters, keeping what staff
  need to tell records apart at a glance (last four digits, the surname, the
  e-mail domain, the birth year).
* ``pseudonym`` — ``<PHONE_1a2b3c4d>``: a keyed HMAC-SHA256 of the normalised
  value. The same phone written twice (even as ``138 1234 5678`` and
  ``13812345678``) gets the same token, so analysts can still follow one
  person through a note; without the key the token reveals nothing. Keys are
  the caller's: a fresh random key per call when none is given.
* ``redact``    — the span is removed.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

from pulsecrm.deid.text.findings import ADDRESS, DATE_OF_BIRTH, EMAIL, PERSON, Finding
from pulsecrm.deid.text.normalisation import fold_width

Operator = Callable[[str, Finding], str]

OPERATOR_NAMES: tuple[str, ...] = ("replace", "mask", "pseudonym", "redact")
_KEEP_VISIBLE = 4
_SEPARATORS = frozenset(" -+()/.@:")
_TOKEN_HEX_CHARS = 8


def build_operator(name: str, *, key: bytes | None = None) -> Operator:
    """The operator called ``name``; ``key`` is used by ``pseudonym`` only."""
    if name == "replace":
        return _replace
    if name == "mask":
        return _mask
    if name == "redact":
        return _redact
    if name == "pseudonym":
        return _Pseudonymiser(key if key is not None else os.urandom(32))
    raise ValueError(f"unknown operator {name!r}; choose one of {', '.join(OPERATOR_NAMES)}")


def _replace(value: str, finding: Finding) -> str:
    return f"<{finding.type}>"


def _redact(value: str, finding: Finding) -> str:
    return ""


def _mask(value: str, finding: Finding) -> str:
    if finding.type == PERSON:
        return value[:1] + "*" * (len(value) - 1)
    if finding.type == EMAIL and "@" in value:
        local, _, domain = value.partition("@")
        return local[:1] + "*" * (len(local) - 1) + "@" + domain
    if finding.type == DATE_OF_BIRTH:
        return value[:4] + "".join("*" if c.isdigit() else c for c in value[4:])
    if finding.type == ADDRESS:
        return value[:3] + "*" * (len(value) - 3)
    visible_from = _index_of_last_alnum(value, _KEEP_VISIBLE)
    return "".join(c if i >= visible_from or c in _SEPARATORS else "*" for i, c in enumerate(value))


def _index_of_last_alnum(value: str, count: int) -> int:
    """Index of the ``count``-th alphanumeric character from the end."""
    seen = 0
    for index in range(len(value) - 1, -1, -1):
        if value[index].isalnum():
            seen += 1
            if seen == count:
                return index
    return 0


class _Pseudonymiser:
    """Keyed, deterministic tokens: equal normalised values → equal tokens."""

    def __init__(self, key: bytes) -> None:
        if not key:
            raise ValueError("pseudonym key must not be empty")
        self._key = key

    def __call__(self, value: str, finding: Finding) -> str:
        canonical = _canonical(value, finding.type)
        message = f"{finding.type}\x00{canonical}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).hexdigest()
        return f"<{finding.type}_{digest[:_TOKEN_HEX_CHARS]}>"


def _canonical(value: str, kind: str) -> str:
    """Spelling-independent form: 138 1234 5678 and １３８１２３４５６７８ agree."""
    folded = fold_width(value).casefold()
    if kind in (PERSON, ADDRESS, EMAIL):
        return "".join(folded.split())
    alnum = "".join(c for c in folded if c.isalnum())
    if kind == "PHONE" and alnum.startswith("0086"):
        alnum = alnum[4:]
    elif kind == "PHONE" and alnum.startswith("86") and len(alnum) == 13:
        alnum = alnum[2:]
    return alnum
