"""Where the digits are: one cheap scan shared by the number recognisers.

Why: phones, resident IDs and card numbers all live in runs of digits and
separators. Scanning a note once for such runs (a pattern that starts with a
character class, which the regex engine can skip through quickly) and then
running the detailed patterns only inside those short windows is several times
faster than letting each detailed pattern try every position of the note.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

_RUN = re.compile(r"[0-9+(（][0-9 \-+()（）转分机ext.xX]{5,}")
_LOOKBACK = 4  # room for a "(+86" or "00" just before the run


@functools.lru_cache(maxsize=8)
def digit_windows(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) windows that may hold a long number, widened slightly to the left."""
    return tuple([(max(0, m.start() - _LOOKBACK), m.end()) for m in _RUN.finditer(text)])


def matches_in_digit_windows(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """``pattern.finditer`` restricted to the digit windows of ``text``."""
    for window_start, window_end in digit_windows(text):
        yield from pattern.finditer(text, window_start, window_end)
