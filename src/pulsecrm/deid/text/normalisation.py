"""Width folding that keeps every character offset unchanged.

Chinese notes sometimes carry full-width digits and letters (１３８…, Ｅ１２３…)
and the ideographic space. Recognisers run on a folded copy so one ASCII
pattern covers both spellings; because every mapping is one code point to one
code point, an offset in the folded copy is the same offset in the original.

Why only alphanumerics and a few symbols: full-width punctuation (，：（）；) is
in almost every Chinese note, and folding it would force a per-character
translate on the hot path. The patterns accept both punctuation forms instead,
so the common note skips folding entirely after one regex test.
"""

from __future__ import annotations

import re

_OFFSET = 0xFEE0
_FOLDED_FULLWIDTH = (
    "０１２３４５６７８９"
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ"
    "ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ"
    "＋－＠．＃／＿"
)

_TABLE: dict[int, int] = {ord(char): ord(char) - _OFFSET for char in _FOLDED_FULLWIDTH}
_TABLE.update(
    {
        0x3000: ord(" "),  # ideographic space
        0x00A0: ord(" "),  # no-break space
        0x2010: ord("-"),  # hyphen
        0x2011: ord("-"),  # non-breaking hyphen
        0x2012: ord("-"),  # figure dash
        0x2013: ord("-"),  # en dash
        0x2014: ord("-"),  # em dash
        0x2212: ord("-"),  # minus sign
    }
)
_NEEDS_FOLDING = re.compile("[" + "".join(chr(code) for code in _TABLE) + "]")


def fold_width(text: str) -> str:
    """Return ``text`` with full-width alphanumerics folded to ASCII; same length."""
    if _NEEDS_FOLDING.search(text) is None:
        return text
    return text.translate(_TABLE)
