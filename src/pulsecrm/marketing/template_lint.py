"""Template lint (C2): every commercial message names its sender and carries a one-step opt-out.

Checked when a template is saved, so a campaign can never hold a template
that breaks the rule:

* SMS: the sender identity (``{sender}``, rendered as the 【signature】, or the
  sender's name written out) and an opt-out reply phrase ("回复TD退订",
  "Reply TD to unsubscribe", or one configured in ``data/template_rules.yaml``);
* e-mail: a subject, the sender identity and the ``{unsubscribe_url}``
  placeholder (the e-mail adapter adds the RFC 8058 ``List-Unsubscribe``
  headers from the same URL);
* WeChat and the outbox: the sender identity and an opt-out phrase or link.

Only the placeholders listed in the rules file are allowed: a template can
never pull a person's name or other personal data into a message.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

from pulsecrm.marketing.errors import TemplateRejected

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NOISE = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class TemplateRules:
    sms_unsubscribe: tuple[str, ...]
    placeholders: frozenset[str]


@lru_cache(maxsize=1)
def rules() -> TemplateRules:
    text = (
        resources.files("pulsecrm.marketing")
        .joinpath("data/template_rules.yaml")
        .read_text(encoding="utf-8")
    )
    data: dict[str, Any] = yaml.safe_load(text)
    return TemplateRules(
        tuple(str(p) for p in data["sms_unsubscribe"]), frozenset(data["placeholders"])
    )


def squeeze(text: str) -> str:
    """NFKC, lower case, no spaces or punctuation: what a reader sees, minus the typography."""
    return _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def has_opt_out_phrase(body: str) -> bool:
    flat = squeeze(body)
    return any(squeeze(phrase) in flat for phrase in rules().sms_unsubscribe)


def _names_sender(body: str, sender_name: str) -> bool:
    if "{sender}" in body:
        return True
    return bool(sender_name.strip()) and squeeze(sender_name) in squeeze(body)


def lint_template(
    *, channel: str, locale: str, body: str, subject: str | None, sender_name: str
) -> None:
    """Raise :class:`TemplateRejected` naming the field and rule, or return quietly."""
    field = f"templates.{locale}"
    if not body.strip():
        raise TemplateRejected(f"{field}.body", "must not be empty", "不能为空", rule="required")
    for text, part in ((body, "body"), (subject or "", "subject")):
        for name in PLACEHOLDER.findall(text):
            if name not in rules().placeholders:
                allowed = ", ".join("{" + p + "}" for p in sorted(rules().placeholders))
                raise TemplateRejected(
                    f"{field}.{part}",
                    f"unknown placeholder {{{name}}}; allowed: {allowed}",
                    f"未知占位符 {{{name}}}；允许：{allowed}",
                    rule="unknown_placeholder",
                )
    if not _names_sender(body, sender_name):
        raise TemplateRejected(
            f"{field}.body",
            "must name the sender: write {sender} or the sender's name",
            "必须标明发送方身份：使用 {sender} 或写明发送方名称",
            rule="sender_identity_required",
        )
    if channel == "email":
        if not (subject or "").strip():
            raise TemplateRejected(
                f"{field}.subject", "an e-mail needs a subject", "邮件需要主题", rule="required"
            )
        if "{unsubscribe_url}" not in body:
            raise TemplateRejected(
                f"{field}.body",
                "an e-mail must contain the {unsubscribe_url} link",
                "邮件必须包含退订链接 {unsubscribe_url}",
                rule="unsubscribe_required",
            )
        return
    if channel == "sms":
        ok = has_opt_out_phrase(body)
    else:
        ok = has_opt_out_phrase(body) or "{unsubscribe_url}" in body
    if not ok:
        example = "回复TD退订" if locale == "zh-CN" else "Reply TD to unsubscribe"
        raise TemplateRejected(
            f"{field}.body",
            f"must tell the recipient how to opt out, e.g. “{example}”",
            f"必须告知退订方式，例如“{example}”",
            rule="unsubscribe_required",
        )
