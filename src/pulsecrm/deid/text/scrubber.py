"""Orchestration: run the recognisers, resolve overlaps, apply an operator.

Why overlaps are resolved here and not in recognisers: families overlap by
design (an 18-digit ID can be Luhn-valid, a URL contains an IP, a name sits
inside an address). The rule is global and deterministic — higher score wins,
then the longer span, then the earlier start, then the type name — so the same
note always scrubs the same way.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import pairwise

from pulsecrm.deid.text.findings import ALL_TYPES, Finding
from pulsecrm.deid.text.normalisation import fold_width
from pulsecrm.deid.text.registry import recognisers_for
from pulsecrm.deid.text.replacement import build_operator

DEFAULT_MIN_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class ScrubResult:
    """Scrubbed text plus the findings, whose offsets index the *input* text."""

    text: str
    findings: list[Finding] = field(default_factory=list)


def find_pii(
    text: str, *, types: Iterable[str] | None = None, min_score: float = DEFAULT_MIN_SCORE
) -> list[Finding]:
    """Detect PII in ``text``; non-overlapping findings sorted by start offset."""
    wanted = None if types is None else _validated_types(types)
    folded = fold_width(text)
    candidates: list[Finding] = []
    for recogniser in recognisers_for(wanted):
        candidates += recogniser.find(folded)
    if wanted is None:
        kept = [f for f in candidates if f.score >= min_score and f.end > f.start]
    else:
        kept = [
            f for f in candidates if f.score >= min_score and f.end > f.start and f.type in wanted
        ]
    return resolve_overlaps(kept)


def scrub(
    text: str,
    *,
    operator: str = "replace",
    key: bytes | None = None,
    types: Iterable[str] | None = None,
    min_score: float = DEFAULT_MIN_SCORE,
) -> ScrubResult:
    """Detect PII and replace each span with ``operator`` (see :mod:`.replacement`)."""
    apply = build_operator(operator, key=key)
    findings = find_pii(text, types=types, min_score=min_score)
    if not findings:
        return ScrubResult(text, findings)
    pieces: list[str] = []
    cursor = 0
    for finding in findings:
        pieces.append(text[cursor : finding.start])
        pieces.append(apply(text[finding.start : finding.end], finding))
        cursor = finding.end
    pieces.append(text[cursor:])
    return ScrubResult("".join(pieces), findings)


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep the best non-overlapping findings: score, then length, then position, then type."""
    by_position = sorted(findings)
    if all(a.end <= b.start for a, b in pairwise(by_position)):
        return by_position  # the common case: nothing to resolve
    ranked = sorted(by_position, key=_rank)
    starts: list[int] = []
    accepted: list[Finding] = []
    for finding in ranked:
        index = bisect.bisect_left(starts, finding.start)
        if index > 0 and accepted[index - 1].end > finding.start:
            continue
        if index < len(accepted) and accepted[index].start < finding.end:
            continue
        starts.insert(index, finding.start)
        accepted.insert(index, finding)
    return accepted


def _rank(finding: Finding) -> tuple[float, int, int, str]:
    return (-finding.score, finding.start - finding.end, finding.start, finding.type)


def _validated_types(types: Iterable[str] | None) -> frozenset[str] | None:
    if types is None:
        return None
    wanted = frozenset(types)
    unknown = wanted - ALL_TYPES
    if unknown:
        raise ValueError(
            f"unknown PII type(s): {', '.join(sorted(unknown))}; "
            f"known: {', '.join(sorted(ALL_TYPES))}"
        )
    return wanted
