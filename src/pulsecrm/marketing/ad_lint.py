"""Medical-ad gate (C6): a review certificate that is valid, and no banned claim.

A campaign flagged ``medical_ad`` advertises medical services. Before any of
its templates is saved, and again when it is scheduled:

* each template cites a 医疗广告审查证明 number (e.g. ``（沪）医广【2026】第12-03-001号``)
  with an expiry date that has not passed (certificates are valid one year,
  so an expiry more than 366 days ahead is refused as implausible);
* it is labelled as an advertisement (“广告” / “Ad”), never disguised as
  health education;
* the text passes the banned-claims lexicon in ``data/medical_ad_lexicon.yaml``
  (cure guarantees, cure or efficacy rates, superlatives, testimonials,
  endorsements, absolute-safety claims, price lures), robust to spaces,
  full-width forms and punctuation slipped between characters. The error
  names the offending phrase, its category and the article of law.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from pulsecrm.marketing.errors import AdRejected

CERT_ID = re.compile(
    r"^[（(]?[\u4e00-\u9fff]{1,3}[)）]?医广\s*[【\[(（]\s*(?P<year>\d{4})\s*[】\])）]\s*"
    r"第?\s*[0-9][0-9\-]{3,24}\s*号$"
)
MAX_VALIDITY_DAYS = 366
_FILLER = r"[\W_]{0,3}"
_SQUEEZE = re.compile(r"[^\w%.]+|_")
AD_LABELS = ("广告", "ad", "advertisement", "sponsored")


@dataclass(frozen=True)
class Finding:
    category: str
    phrase: str
    law: str
    en_name: str
    zh_name: str


@dataclass(frozen=True)
class _Rule:
    category: str
    regex: re.Pattern[str]
    squeezed: bool
    law: str
    en_name: str
    zh_name: str


def _term_regex(term: str) -> str:
    folded = unicodedata.normalize("NFKC", term).lower()
    chars = [c for c in folded if not c.isspace()]
    body = _FILLER.join(re.escape(c) for c in chars)
    latin = folded[:1].isascii() and folded[:1].isalpha()
    if latin:
        return rf"(?<![a-z]){body}(?![a-z])"
    return body


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def _squeeze(text: str) -> str:
    return _SQUEEZE.sub("", _fold(text))


@lru_cache(maxsize=1)
def lexicon() -> tuple[tuple[str, ...], tuple[_Rule, ...]]:
    text = resources.files("pulsecrm.marketing").joinpath("data/medical_ad_lexicon.yaml")
    data: dict[str, Any] = yaml.safe_load(text.read_text(encoding="utf-8"))
    compiled: list[_Rule] = []
    for category, spec in data["categories"].items():
        meta = (str(spec["law"]), str(spec["en_name"]), str(spec["zh_name"]))
        for term in spec.get("terms") or []:
            compiled.append(_Rule(category, re.compile(_term_regex(str(term))), False, *meta))
        for pattern in spec.get("patterns") or []:
            compiled.append(_Rule(category, re.compile(str(pattern)), True, *meta))
    allow = tuple(_fold(str(a)) for a in data.get("allow") or [])
    return allow, tuple(compiled)


def banned_claims(text: str) -> list[Finding]:
    """Every banned claim in ``text`` (first match per category), in lexicon order."""
    allow, compiled = lexicon()
    folded = _fold(text)
    for phrase in allow:
        folded = folded.replace(phrase, " ")
    squeezed = _squeeze(folded)
    found: dict[str, Finding] = {}
    for rule in compiled:
        if rule.category in found:
            continue
        match = rule.regex.search(squeezed if rule.squeezed else folded)
        if match:
            found[rule.category] = Finding(
                rule.category, match.group(0), rule.law, rule.en_name, rule.zh_name
            )
    return list(found.values())


def check_certificate(*, locale: str, cert_id: str | None, expires: date | None, on: date) -> None:
    field = f"templates.{locale}"
    if not cert_id or not CERT_ID.match(cert_id.strip()):
        raise AdRejected(
            f"{field}.review_cert_id",
            "a medical ad needs its 医疗广告审查证明 number, e.g. （沪）医广【2026】第12-03-001号",
            "医疗广告须填写医疗广告审查证明文号，例如（沪）医广【2026】第12-03-001号",
            rule="review_certificate_required",
        )
    if expires is None:
        raise AdRejected(
            f"{field}.review_cert_expires",
            "the certificate's expiry date is required",
            "须填写审查证明有效期",
            rule="review_certificate_required",
        )
    if expires < on:
        raise AdRejected(
            f"{field}.review_cert_expires",
            f"the review certificate expired on {expires.isoformat()}",
            f"医疗广告审查证明已于 {expires.isoformat()} 过期",
            rule="review_certificate_expired",
        )
    if (expires - on).days > MAX_VALIDITY_DAYS:
        raise AdRejected(
            f"{field}.review_cert_expires",
            "a review certificate is valid for one year; this expiry is too far ahead",
            "医疗广告审查证明有效期为一年，该到期日不合理",
            rule="review_certificate_implausible",
        )


def lint_ad(
    *,
    locale: str,
    body: str,
    subject: str | None,
    cert_id: str | None,
    expires: date | None,
    on: date,
) -> None:
    """Raise :class:`AdRejected` for the first problem (all banned claims listed in the message)."""
    check_certificate(locale=locale, cert_id=cert_id, expires=expires, on=on)
    field = f"templates.{locale}"
    text = f"{subject or ''}\n{body}"
    findings = banned_claims(text)
    if findings:
        first = findings[0]
        listed_en = "; ".join(f"“{f.phrase}” ({f.en_name}, {f.law})" for f in findings)
        listed_zh = "；".join(f"“{f.phrase}”（{f.zh_name}，{f.law}）" for f in findings)
        raise AdRejected(
            f"{field}.body",
            f"banned claim(s) in a medical ad: {listed_en}",
            f"医疗广告含禁止内容：{listed_zh}",
            rule=f"banned_{first.category}",
        )
    flat = _fold(text)
    if not any(
        label in flat if not label.isascii() else re.search(rf"(?<![a-z]){label}(?![a-z])", flat)
        for label in AD_LABELS
    ):
        raise AdRejected(
            f"{field}.body",
            "a medical ad must be labelled as an advertisement (“广告” / “Ad”)",
            "医疗广告必须标明“广告”",
            rule="ad_label_required",
        )
