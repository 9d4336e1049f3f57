"""Cheap look-arounds used by recognisers to weigh a candidate by its neighbours.

A bare 11-digit number after 订单号 is an order number, the same digits after
电话 are a phone. Recognisers look a few characters to the left of a candidate
rather than running a second pattern over the whole note.
"""

from __future__ import annotations


def window_before(text: str, start: int, width: int) -> str:
    """The ``width`` characters before ``start``, lower-cased for keyword tests."""
    return text[max(0, start - width) : start].lower()


def mentions_any(window: str, keywords: tuple[str, ...]) -> bool:
    """True when any keyword occurs in ``window`` (keywords must be lower-case)."""
    return any(keyword in window for keyword in keywords)


def last_keyword_end(window: str, keywords: tuple[str, ...]) -> int:
    """End offset (within ``window``) of the right-most keyword, or -1."""
    best = -1
    for keyword in keywords:
        index = window.rfind(keyword)
        if index >= 0:
            best = max(best, index + len(keyword))
    return best
