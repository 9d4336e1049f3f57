"""Regulatory profiles layered on the de-identification pipeline.

* :mod:`.safe_harbor` — HIPAA 45 CFR 164.514(b)(2): the 18 identifiers mapped
  to operators, and a scan proving none is left.
* :mod:`.level_gates` — GB/T 39725-2020 data levels 1–5 and what each level
  may leave as.
* :mod:`.process_record` — the GB/T 37964-2019 process artefact every run
  produces (goal → identification → processing → verification → approval →
  monitoring).
"""
