"""Labelled evaluation corpus of synthetic consultation notes (Chinese and English).

Why this exists: a recogniser is only as good as the notes it is measured on.
The templates below were written first, the way front-desk staff, online
consultants (网电咨询) and clinicians actually write — run-on sentences,
mixed punctuation, phones typed in every spelling, surnames with titles
(王女士) — and only then were the recognisers built. They include hard
negatives that a naive pattern set trips over: order numbers, prices, visit
dates, drug doses, tooth numbers, hospital names and everyday words that start
with a surname character (高度近视, 张口受限, 黄金周 …).

Each placeholder in a template is either a PII slot (UPPER case, becomes a gold
span) or a filler slot (lower case, realistic non-PII text). Generation is
fully deterministic for a given seed so the committed JSONL can be rebuilt
with ``python -m pulsecrm.deid.text.corpus <path>``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pulsecrm.deid.text.corpus_templates import (
    _EN_FILLERS,
    _ZH_FILLERS,
    EN_TEMPLATES,
    PII_SLOT_TYPES,
    ZH_TEMPLATES,
)
from pulsecrm.deid.text.corpus_values import ValueFactory, _Values  # noqa: F401

DEFAULT_SEED = 20240611
DEFAULT_ZH_NOTES = 1700
DEFAULT_EN_NOTES = 500


@dataclass(frozen=True, slots=True)
class GoldSpan:
    """A labelled PII span: character offsets into the note text."""

    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class LabelledNote:
    """One synthetic note with its gold PII spans."""

    text: str
    spans: tuple[GoldSpan, ...]
    lang: str
    template_id: str

    def to_json(self) -> str:
        """One JSON line; offsets are Python ``str`` indices."""
        return json.dumps(
            {
                "text": self.text,
                "lang": self.lang,
                "template": self.template_id,
                "spans": [{"type": s.type, "start": s.start, "end": s.end} for s in self.spans],
            },
            ensure_ascii=False,
        )

    @staticmethod
    def from_json(line: str) -> LabelledNote:
        """Parse one line written by :meth:`to_json`."""
        raw = json.loads(line)
        spans = tuple(GoldSpan(s["type"], s["start"], s["end"]) for s in raw["spans"])
        return LabelledNote(raw["text"], spans, raw["lang"], raw["template"])


# --------------------------------------------------------------------------------------
# Templates. UPPER-case slots are PII (see PII_SLOT_TYPES); lower-case slots are filler.
# --------------------------------------------------------------------------------------


def _filler(values: _Values, slot: str) -> str:
    """Non-PII filler, including deliberately confusable numbers."""
    rng = values.rng
    if slot in _ZH_FILLERS:
        return rng.choice(_ZH_FILLERS[slot])
    if slot in _EN_FILLERS:
        return rng.choice(_EN_FILLERS[slot])
    if slot == "price":
        amount = rng.choice((680, 1280, 3980, 12800, 26800, 39800, 158000, 99))
        return rng.choice((f"¥{amount}", f"{amount}元", f"￥{amount:,}", f"{amount}.00元"))
    if slot == "en_price":
        return (
            f"${rng.randint(80, 9000):,}" if rng.random() < 0.5 else f"¥{rng.randint(500, 40000)}"
        )
    if slot == "order_no":
        return rng.choice(
            (
                f"DD{rng.randint(10**13, 10**14 - 1)}",
                f"2023{rng.randint(10**11, 10**12 - 1)}",
                f"{rng.randint(10**15, 10**16 - 1)}",
                f"NO.{rng.randint(100000, 999999)}",
                f"1{rng.randint(10**9, 10**10 - 1)}",
            )
        )
    if slot == "count":
        return str(rng.choice((2, 3, 5, 7, 12, 15, 28, 30)))
    if slot == "age":
        return str(rng.randint(6, 78))
    if slot == "height":
        return str(rng.randint(150, 190))
    if slot == "weight":
        return str(rng.randint(42, 95))
    if slot == "digits4":
        return f"{rng.randint(0, 9999):04d}"
    if slot == "visit_date":
        return values.visit_date()
    if slot == "en_visit_date":
        return values.en_visit_date()
    raise KeyError(f"unknown filler slot {slot!r}")


def _pii_value(values: _Values, slot: str) -> str:
    generators: dict[str, Callable[[], str]] = {
        "PERSON": values.person,
        "SURNAME": values.surname,
        "EN_PERSON": values.en_person,
        "EN_SURNAME": values.en.last_name,
        "PHONE": values.mobile,
        "LANDLINE": values.landline,
        "INTL_PHONE": values.intl_phone,
        "INTL_PHONE_ZH": values.hk_mobile,
        "ID": values.resident_id,
        "PASSPORT": values.passport,
        "HK_PERMIT": values.hk_permit,
        "TW_PERMIT": values.tw_permit,
        "HOME_RETURN": values.home_return,
        "BANK": values.bank_card,
        "EMAIL": values.email,
        "URL": values.url,
        "IP": values.ip,
        "WECHAT": values.wechat,
        "DOB": values.dob,
        "EN_DOB": values.en_dob,
        "MRN": values.mrn,
        "ADDRESS": values.address,
        "EN_ADDRESS": values.en_address,
    }
    return generators[slot]()


_SLOT = re.compile(r"\{([A-Za-z_0-9]+)\}")


def fill_template(template: str, values: _Values, template_id: str, lang: str) -> LabelledNote:
    """Fill every slot, recording gold offsets for the PII ones."""
    pieces: list[str] = []
    spans: list[GoldSpan] = []
    cursor = 0
    length = 0
    for match in _SLOT.finditer(template):
        literal = template[cursor : match.start()]
        pieces.append(literal)
        length += len(literal)
        slot = match.group(1)
        if slot in PII_SLOT_TYPES:
            value = _pii_value(values, slot)
            spans.append(GoldSpan(PII_SLOT_TYPES[slot], length, length + len(value)))
        else:
            value = _filler(values, slot)
        pieces.append(value)
        length += len(value)
        cursor = match.end()
    pieces.append(template[cursor:])
    return LabelledNote("".join(pieces), tuple(spans), lang, template_id)


def generate_corpus(
    *, seed: int = DEFAULT_SEED, zh_notes: int = DEFAULT_ZH_NOTES, en_notes: int = DEFAULT_EN_NOTES
) -> list[LabelledNote]:
    """Deterministically generate labelled notes, cycling through every template."""
    values = _Values(seed)
    notes: list[LabelledNote] = []
    for index in range(zh_notes):
        template_index = index % len(ZH_TEMPLATES)
        notes.append(
            fill_template(ZH_TEMPLATES[template_index], values, f"zh{template_index:02d}", "zh")
        )
    for index in range(en_notes):
        template_index = index % len(EN_TEMPLATES)
        notes.append(
            fill_template(EN_TEMPLATES[template_index], values, f"en{template_index:02d}", "en")
        )
    return notes


def write_jsonl(notes: Iterable[LabelledNote], path: Path) -> None:
    """Write one note per line (UTF-8, ``ensure_ascii=False``)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for note in notes:
            handle.write(note.to_json() + "\n")


def read_jsonl(path: Path) -> Iterator[LabelledNote]:
    """Read notes written by :func:`write_jsonl`."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                yield LabelledNote.from_json(line)


def main(argv: list[str]) -> int:
    """``python -m pulsecrm.deid.text.corpus OUT.jsonl`` regenerates the committed corpus."""
    if len(argv) != 1:
        print("usage: python -m pulsecrm.deid.text.corpus OUT.jsonl", file=sys.stderr)
        return 2
    notes = generate_corpus()
    write_jsonl(notes, Path(argv[0]))
    print(f"wrote {len(notes)} notes to {argv[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
