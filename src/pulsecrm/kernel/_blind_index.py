"""Blind index: a truncated HMAC-SHA256 of a normalised value, for equality search.

Private to the kernel. Truncation is deliberate: with ``bits`` sized so that a
lookup in the expected population returns a few candidates, the index alone
cannot confirm that a given phone number is present (an attacker holding the
database and guessing numbers gets several candidates per guess, never a
yes/no), while search still needs only an indexed integer comparison followed
by decrypting those few candidates. See ``docs/blind-index.md``.
"""

from __future__ import annotations

import hmac
import math


def index_bits(population: int, candidates: float) -> int:
    """Bits so that ``population / 2**bits ≈ candidates`` false matches per lookup."""
    wanted = math.log2(max(population, 2) / max(candidates, 0.01))
    return max(8, min(62, math.ceil(wanted)))


class BlindIndexer:
    """Computes blind-index tokens for one tenant under its blind-index key."""

    __slots__ = ("_bits", "_key", "_recent", "_shift")

    def __init__(self, key: bytes, bits: int) -> None:
        self._key = key
        self._bits = bits
        self._shift = 64 - bits
        # A dedupe lookup and the write that follows hash the same values;
        # remembering them until the write ends (``forget``) halves an import's HMACs.
        self._recent: dict[tuple[str, str], int] = {}

    def forget(self) -> None:
        """Drop remembered values: plaintext identifiers must not linger in a long-lived process."""
        self._recent.clear()

    @property
    def bits(self) -> int:
        return self._bits

    def token(self, field: str, normalised: str) -> int:
        # Field name is part of the message so equal values in two fields
        # (a phone used as WeChat id) give unrelated tokens.
        cached = self._recent.get((field, normalised))
        if cached is not None:
            return cached
        if len(self._recent) > 100_000:
            self._recent.clear()
        digest = hmac.digest(self._key, field.encode() + b"\x00" + normalised.encode(), "sha256")
        token = int.from_bytes(digest[:8], "big") >> self._shift
        self._recent[(field, normalised)] = token
        return token
