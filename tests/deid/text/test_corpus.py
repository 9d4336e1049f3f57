"""The committed evaluation corpus: shape, determinism, and the quality thresholds."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from pulsecrm.deid.text.corpus import (
    EN_TEMPLATES,
    ZH_TEMPLATES,
    LabelledNote,
    generate_corpus,
    read_jsonl,
)
from pulsecrm.deid.text.corpus_heldout import generate_heldout_corpus
from pulsecrm.deid.text.evaluate import Evaluation, evaluate, format_table

pytestmark = pytest.mark.req("E3")

CORPUS = Path(__file__).parent / "data" / "notes_corpus.jsonl"
RECALL_FLOORS = {
    "PHONE": 0.95,
    "ID_NUMBER": 0.95,
    "BANK_CARD": 0.95,
    "EMAIL": 0.95,
    "PERSON": 0.85,
    "ADDRESS": 0.85,
}
PRECISION_FLOOR = 0.85


@cache
def committed() -> tuple[LabelledNote, ...]:
    return tuple(read_jsonl(CORPUS))


@cache
def scores() -> Evaluation:
    return evaluate(committed())


def test_corpus_size_and_language_mix() -> None:
    notes = committed()
    assert len(notes) >= 2000
    assert sum(1 for n in notes if n.lang == "zh") >= 1500
    assert len(ZH_TEMPLATES) + len(EN_TEMPLATES) >= 60
    assert len({n.template_id for n in notes}) == len(ZH_TEMPLATES) + len(EN_TEMPLATES)
    assert CORPUS.stat().st_size < 2_000_000


def test_corpus_contains_hard_negatives() -> None:
    notes = committed()
    assert sum(1 for n in notes if not n.spans) >= 100
    joined = "\n".join(n.text for n in notes)
    for decoy in ("黄金周", "高度", "金额", "白色", "王牌", "张口受限", "订单号", "¥", "mg"):
        assert decoy in joined


def test_gold_spans_are_valid_offsets() -> None:
    for note in committed():
        for span in note.spans:
            assert 0 <= span.start < span.end <= len(note.text)
            assert note.text[span.start : span.end].strip()


def test_committed_corpus_is_reproducible() -> None:
    regenerated = generate_corpus()
    assert [n.to_json() for n in regenerated] == [n.to_json() for n in committed()]


@pytest.mark.parametrize("pii_type", sorted(RECALL_FLOORS))
def test_recall_floor(pii_type: str) -> None:
    overlap = scores().overlap[pii_type]
    assert overlap.recall >= RECALL_FLOORS[pii_type], format_table(scores())


def test_precision_floor_for_every_type() -> None:
    for pii_type, overlap in scores().overlap.items():
        assert overlap.precision >= PRECISION_FLOOR, (pii_type, format_table(scores()))


@pytest.mark.parametrize("pii_type", ["PHONE", "ID_NUMBER", "BANK_CARD", "EMAIL"])
def test_exact_boundaries_for_structured_identifiers(pii_type: str) -> None:
    exact = scores().exact[pii_type]
    assert exact.recall >= 0.95 and exact.precision >= 0.95, format_table(scores())


def test_heldout_templates_keep_the_floors() -> None:
    """Templates written after the recognisers (see corpus_heldout) — a regression guard.

    Their first run scored PERSON recall 0.53 and WECHAT_ID 0.0; the generic fixes
    that followed (name lists, tab-separated fields, 我姓王, 微信（id）) are guarded here.
    Mini-program user names without a WeChat cue remain a known gap (recall 0.5).
    """
    evaluation = evaluate(generate_heldout_corpus())
    for pii_type, floor in RECALL_FLOORS.items():
        assert evaluation.overlap[pii_type].recall >= floor, format_table(evaluation)
    for pii_type, overlap in evaluation.overlap.items():
        assert overlap.precision >= PRECISION_FLOOR, (pii_type, format_table(evaluation))
