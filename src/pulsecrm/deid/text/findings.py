"""The ``Finding`` type shared by every recogniser, and the PII type names.

Why a tiny module of its own: recognisers, the scrubber, the replacement
operators, the CLI and the evaluation all exchange findings, and none of them
should have to import another's machinery to do so.
"""

from __future__ import annotations

from typing import NamedTuple

PHONE = "PHONE"
ID_NUMBER = "ID_NUMBER"
PASSPORT = "PASSPORT"
HK_MO_TW_PERMIT = "HK_MO_TW_PERMIT"
BANK_CARD = "BANK_CARD"
EMAIL = "EMAIL"
URL = "URL"
IP = "IP"
WECHAT_ID = "WECHAT_ID"
DATE_OF_BIRTH = "DATE_OF_BIRTH"
MEDICAL_RECORD = "MEDICAL_RECORD"
ADDRESS = "ADDRESS"
PERSON = "PERSON"

ALL_TYPES: frozenset[str] = frozenset(
    {
        PHONE,
        ID_NUMBER,
        PASSPORT,
        HK_MO_TW_PERMIT,
        BANK_CARD,
        EMAIL,
        URL,
        IP,
        WECHAT_ID,
        DATE_OF_BIRTH,
        MEDICAL_RECORD,
        ADDRESS,
        PERSON,
    }
)


class Finding(NamedTuple):
    """One detected PII span.

    ``start``/``end`` are Python ``str`` indices into the caller's original text
    (not bytes, not the width-folded copy — folding keeps lengths equal), so
    ``text[start:end]`` is always the detected value. ``score`` is a confidence
    in ``[0, 1]``; the scrubber drops findings below its threshold.

    A named tuple rather than a dataclass because recognisers create thousands
    per second and tuple construction is several times cheaper; it is
    immutable and orders by position all the same.
    """

    start: int
    end: int
    type: str
    score: float

    def as_dict(self) -> dict[str, object]:
        """The JSON shape of the CLI contract: type, start, end, score."""
        return {"type": self.type, "start": self.start, "end": self.end, "score": self.score}
