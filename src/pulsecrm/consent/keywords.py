"""Reply keywords that withdraw consent for the channel they arrive on (C2, B9).

Chinese: 退订 (and the common typo 退定), 取消订阅, 拒收, 不要再发/别再发 anywhere in
the text — unless negated right before it (不退订, 不要退订, 别退订, 无需退订).
Latin: the tokens TD, STOP, STOPALL, UNSUBSCRIBE, REVOKE, OPTOUT ("opt out"),
in any case, anywhere in the text, as whole words — so "TDD" or "stopwatch"
do not match. The one-letter replies T and N, and the CTIA words CANCEL, END,
QUIT, match only when they are the whole message (punctuation and spaces
aside): as words they occur in ordinary replies ("T恤", "Plan N", "cancel my
appointment", "see you at the end of May"), and "NOT NOW" is not an
unsubscribe. A false positive only withdraws a marketing consent, which the
person can give again; a false negative keeps messaging someone who said stop,
so the list leans to matching.
"""

from __future__ import annotations

import re
import unicodedata

CHINESE = ("退订", "退定", "取消订阅", "拒收", "不要再发", "别再发", "不要再给我发", "别给我发")
NEGATIONS = ("不要", "不用", "无需", "不必", "别", "不", "没", "勿")
WORDS = frozenset({"td", "stop", "stopall", "unsubscribe", "revoke", "optout"})
WHOLE_MESSAGE = frozenset({"t", "n", "td", "cancel", "end", "quit"})
_LATIN = re.compile(r"[a-z]+")
_NOISE = re.compile(r"[\s\W_]+", re.UNICODE)


def _normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def is_unsubscribe(text: str) -> bool:
    """True when an inbound reply asks to stop messages on its channel."""
    if not text:
        return False
    norm = _normalise(text)
    if _NOISE.sub("", norm) in WHOLE_MESSAGE:
        return True
    for phrase in CHINESE:
        start = norm.find(phrase)
        while start != -1:
            before = norm[max(0, start - 2) : start]
            if not any(before.endswith(neg) for neg in NEGATIONS):
                return True
            start = norm.find(phrase, start + 1)
    # "opt out" / "opt-out" written as two words
    if re.search(r"\bopt[\s-]?out\b", norm):
        return True
    return any(token in WORDS for token in _LATIN.findall(norm))
