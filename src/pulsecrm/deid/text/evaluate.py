"""Precision / recall / F1 per PII type against the labelled corpus.

Two matching rules, both reported, because they answer different questions:
*exact* (same type, same start and end) says whether the recogniser draws the
boundary where a human would; *overlap* (same type, spans intersect, each gold
and predicted span used at most once) says whether the PII was caught at all,
which is what matters for privacy.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from pulsecrm.deid.text.corpus import GoldSpan, LabelledNote, read_jsonl
from pulsecrm.deid.text.findings import Finding
from pulsecrm.deid.text.scrubber import find_pii

Detector = Callable[[str], list[Finding]]


@dataclass(slots=True)
class TypeScores:
    """Counts for one type under one matching rule."""

    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else 1.0

    @property
    def recall(self) -> float:
        actual = self.true_positives + self.false_negatives
        return self.true_positives / actual if actual else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Evaluation:
    """Per-type scores under both matching rules, plus the misses for debugging."""

    exact: dict[str, TypeScores]
    overlap: dict[str, TypeScores]
    misses: list[tuple[str, str, str]]  # (kind, type, text around the span)


def evaluate(notes: Iterable[LabelledNote], detector: Detector = find_pii) -> Evaluation:
    """Score ``detector`` on ``notes``."""
    exact: dict[str, TypeScores] = defaultdict(TypeScores)
    overlap: dict[str, TypeScores] = defaultdict(TypeScores)
    misses: list[tuple[str, str, str]] = []
    for note in notes:
        predicted = detector(note.text)
        _score_exact(note.spans, predicted, exact)
        _score_overlap(note, predicted, overlap, misses)
    return Evaluation(dict(exact), dict(overlap), misses)


def _score_exact(
    gold: tuple[GoldSpan, ...], predicted: list[Finding], scores: dict[str, TypeScores]
) -> None:
    gold_keys = {(g.type, g.start, g.end) for g in gold}
    predicted_keys = {(p.type, p.start, p.end) for p in predicted}
    for kind, _, _ in gold_keys & predicted_keys:
        scores[kind].true_positives += 1
    for kind, _, _ in predicted_keys - gold_keys:
        scores[kind].false_positives += 1
    for kind, _, _ in gold_keys - predicted_keys:
        scores[kind].false_negatives += 1


def _score_overlap(
    note: LabelledNote,
    predicted: list[Finding],
    scores: dict[str, TypeScores],
    misses: list[tuple[str, str, str]],
) -> None:
    used: set[int] = set()
    for gold in note.spans:
        match = next(
            (
                i
                for i, p in enumerate(predicted)
                if i not in used
                and p.type == gold.type
                and p.start < gold.end
                and gold.start < p.end
            ),
            None,
        )
        if match is None:
            scores[gold.type].false_negatives += 1
            misses.append(("FN", gold.type, _excerpt(note.text, gold.start, gold.end)))
        else:
            used.add(match)
            scores[gold.type].true_positives += 1
    for index, finding in enumerate(predicted):
        if index not in used:
            scores[finding.type].false_positives += 1
            misses.append(("FP", finding.type, _excerpt(note.text, finding.start, finding.end)))


def _excerpt(text: str, start: int, end: int) -> str:
    return f"{text[max(0, start - 12) : start]}[{text[start:end]}]{text[end : end + 12]}"


def format_table(evaluation: Evaluation) -> str:
    """A plain-text table: type, exact P/R/F1, overlap P/R/F1, support."""
    lines = [
        f"{'type':<16} {'exact P':>8} {'exact R':>8} {'exact F1':>8} "
        f"{'ovl P':>7} {'ovl R':>7} {'ovl F1':>7} {'gold':>6}"
    ]
    for kind in sorted(set(evaluation.exact) | set(evaluation.overlap)):
        e = evaluation.exact.get(kind, TypeScores())
        o = evaluation.overlap.get(kind, TypeScores())
        support = o.true_positives + o.false_negatives
        lines.append(
            f"{kind:<16} {e.precision:8.3f} {e.recall:8.3f} {e.f1:8.3f} "
            f"{o.precision:7.3f} {o.recall:7.3f} {o.f1:7.3f} {support:6d}"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    """``python -m pulsecrm.deid.text.evaluate CORPUS.jsonl [--misses]``."""
    if not argv:
        print("usage: python -m pulsecrm.deid.text.evaluate CORPUS.jsonl [--misses]")
        return 2
    evaluation = evaluate(read_jsonl(Path(argv[0])))
    print(format_table(evaluation))
    if "--misses" in argv:
        for kind, pii_type, excerpt in evaluation.misses:
            print(kind, pii_type, excerpt.replace("\n", "⏎"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
