"""Width folding that keeps every character offset unchanged.

Chinese notes mix full-width digits (１３８…), full-width punctuation and the
ideographic space. Recognisers run on a folded copy so one ASCII pattern covers
all spellings; because every mapping is one code point to one code point, an
offset in the folded copy is the same offset in the original.
"""

from __future__ import annotations

_FULLWIDTH_START = 0xFF01
_FULLWIDTH_END = 0xFF5E
_OFFSET = 0xFEE0

_TABLE: dict[int, int] = {
    code: code - _OFFSET for code in range(_FULLWIDTH_START, _FULLWIDTH_END + 1)
}
_TABLE.update(
    {
        0x3000: ord(" "),  # ideographic space
        0x00A0: ord(" "),  # no-break space
        0x2010: ord("-"),  # hyphen
        0x2011: ord("-"),
        0x2012: ord("-"),
        0x2013: ord("-"),  # en dash
        0x2014: ord("-"),  # em dash
        0x2212: ord("-"),  # minus sign
    }
)


def fold_width(text: str) -> str:
    """Return ``text`` with full-width ASCII folded to ASCII; same length, same offsets."""
    return text.translate(_TABLE)
