"""MEDICAL_RECORD: record, admission, outpatient and visit numbers after their label.

Why label-driven: hospital numbering schemes differ (MZ2023000123,
ZY2023-00451, plain 10-digit numbers) and nothing in the value itself says
"medical record", so the cue word (病历号, 住院号, 门诊号, MRN, visit no.) is
what makes it one.
"""

from __future__ import annotations

import re

from pulsecrm.deid.text.findings import MEDICAL_RECORD, Finding

_VALUE = (
    r"(?:码)?(?: ?[:：#] ?| )?(?P<value>[A-Za-z]{0,4}-?\d[0-9A-Za-z\-]{2,24})(?<!-)(?![0-9A-Za-z])"
)
# literal-first so the regex engine can skip to candidate positions quickly
_MRN_ZH = re.compile(r"(?:病历号|病案号|住院号|门诊号|就诊卡号|就诊号|病历编号|档案号)" + _VALUE)
_MRN_EN = re.compile(
    r"(?<![A-Za-z])(?i:mrn|medical record (?:number|no\.?)|visit (?:no\.?|number)|"
    r"patient id|hospital (?:number|no\.?)|record no\.?)" + _VALUE
)
_ASCII_LETTER = re.compile("[A-Za-z]")
_GATE_WORDS = ("mrn", "record", "visit", "patient id", "hospital")


class MedicalRecordRecogniser:
    """Medical-record style identifiers after a record-number label."""

    name = "medical_ids"
    types = frozenset({MEDICAL_RECORD})

    def find(self, text: str) -> list[Finding]:
        """Scan ``text`` (width-folded) for record numbers."""
        findings: list[Finding] = []
        if "号" in text:
            findings.extend(
                Finding(m.start("value"), m.end("value"), MEDICAL_RECORD, 0.9)
                for m in _MRN_ZH.finditer(text)
            )
        if _ASCII_LETTER.search(text):
            lowered = text.lower()
            if any(word in lowered for word in _GATE_WORDS):
                findings.extend(
                    Finding(m.start("value"), m.end("value"), MEDICAL_RECORD, 0.9)
                    for m in _MRN_EN.finditer(text)
                )
        return findings
