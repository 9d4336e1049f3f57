"""Consent errors: each names the field and the rule broken, in zh-CN and en.

Raised where the rule lives (notices, ledger, tokens) and rendered once at the
edge: the API turns them into ``{"error": {"code", "field", "rule", "message"}}``
with ``http_status``, the CLI into a one-line message.
"""

from __future__ import annotations

from pulsecrm.kernel.errors import KernelError


class ConsentError(KernelError):
    """A consent request breaks a rule; nothing has been written."""

    code = "consent_rule"
    zh = "同意请求不符合规则"
    en = "consent request breaks a rule"
    http_status = 422
    rule = "consent_rule"

    def __init__(self, field: str, en: str, zh: str, *, rule: str | None = None) -> None:
        self.field = field
        self.rule = rule or type(self).rule
        self.rule_en, self.rule_zh = en, zh
        super().__init__(en, field=field, rule=self.rule)

    def message(self, locale: str = "zh-CN") -> str:
        if locale.lower().startswith("en"):
            return f"{self.field}: {self.rule_en} (rule: {self.rule})"
        return f"{self.field}：{self.rule_zh}（规则：{self.rule}）"


class UnknownConsentPurpose(ConsentError):
    code = rule = "unknown_purpose"


class InvalidChannel(ConsentError):
    code = rule = "invalid_channel"


class NotOptIn(ConsentError):
    """B2: consent is never default, implied, pre-ticked or inferred from silence."""

    code = rule = "opt_in_only"


class NoticeNotPublished(ConsentError):
    code = rule = "notice_unpublished"


class NoticeSuperseded(ConsentError):
    code = rule = "notice_superseded"
    http_status = 409


class PurposeNotInNotice(ConsentError):
    code = rule = "purpose_not_in_notice"


class NoticeIncomplete(ConsentError):
    """A1/A3/A4: publishing refused because a required element is missing."""

    code = rule = "notice_incomplete"


class BundledSeparateConsent(ConsentError):
    """B4: 单独同意 may only be given by an action for that one purpose."""

    code = rule = "separate_consent_unbundled"


class GuardianRequired(ConsentError):
    """B8: under 14, marketing and sensitive purposes need a guardian's consent."""

    code = rule = "minor_needs_guardian"


class AuthorizationIncomplete(ConsentError):
    """HIPAA 164.508(c): a marketing authorization lacks a required element."""

    code = rule = "hipaa_authorization_elements"


class NothingToRenew(ConsentError):
    code = rule = "nothing_to_renew"
    http_status = 409


class PersonNotFound(ConsentError):
    code = rule = "person_not_found"
    http_status = 404


class InvalidEvidence(ConsentError):
    code = rule = "evidence_required"


class LinkInvalid(ConsentError):
    """A preference or unsubscribe link whose signature fails or that has expired."""

    code = rule = "link_invalid"
    http_status = 403


class NoticeNotFound(ConsentError):
    code = rule = "notice_not_found"
    http_status = 404
