"""``pseudonym``: a keyed, per-recipient token in place of an identifier.

The token is ``P-`` + base32(HMAC-SHA256(recipient key, value)) truncated to
``length`` characters. Keyed — not a plain hash — because identifiers such as
phone numbers have so few possible values that an unkeyed hash is reversed by
enumeration. Per recipient because the same person must get *different*
tokens in extracts for different recipients, so two partners cannot join their
extracts on the token (requirement D4). Within one recipient's extracts the
token is stable, so that recipient can join its own tables.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, ClassVar

import pandas as pd

from pulsecrm.deid.operators.base import (
    Applied,
    Operator,
    OperatorContext,
    OperatorError,
    ReleaseForm,
    as_text,
    map_unique,
    register_operator,
)

PSEUDONYM_PREFIX = "P-"


def derive_subkey(recipient_key: bytes, purpose: str) -> bytes:
    """A separate key per use (pseudonyms, date shifts) from one recipient secret.

    Using the raw recipient key for both would let a date shift be computed
    from a pseudonym's key material; HMAC-based derivation keeps them apart.
    """
    return hmac.new(recipient_key, f"pulsecrm.deid.{purpose}".encode(), hashlib.sha256).digest()


def pseudonym_token(key: bytes, value: str, *, domain: str = "", length: int = 26) -> str:
    """The token for one value under ``key`` (``domain`` separates namespaces)."""
    digest = hmac.new(key, f"{domain}\x1f{value}".encode(), hashlib.sha256).digest()
    return PSEUDONYM_PREFIX + base64.b32encode(digest).decode("ascii").rstrip("=")[:length]


@register_operator
@dataclass(frozen=True)
class Pseudonym(Operator):
    """Replace each value with its keyed token; nulls stay null.

    ``domain`` (optional) keeps two kinds of identifier apart: with
    ``domain: phone`` and ``domain: email`` the same string in both columns
    yields different tokens. ``length`` is the number of base32 characters
    kept (26 = 130 bits; fewer than 16 invites collisions and is refused).
    """

    name: ClassVar[str] = "pseudonym"
    release_form: ClassVar[ReleaseForm] = ReleaseForm.PSEUDONYMISED
    needs_recipient_key: ClassVar[bool] = True

    domain: str = ""
    length: int = 26

    def __post_init__(self) -> None:
        if not 16 <= self.length <= 52:
            raise ValueError(f"length must be between 16 and 52, got {self.length}")

    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        if context.recipient_key is None:
            raise OperatorError(
                f"column {column!r}: operator 'pseudonym' needs a recipient key "
                "(set recipient.key_env or recipient.key_file in the config)"
            )
        key = derive_subkey(context.recipient_key, "pseudonym")

        def token(value: Any) -> str:
            return pseudonym_token(key, str(value), domain=self.domain, length=self.length)

        return Applied(values=map_unique(as_text(values), token).rename(column))
