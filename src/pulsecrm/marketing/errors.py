"""Marketing errors: each names the field (a JSON path for segment trees) and the rule broken.

They subclass :class:`InvalidValue`, so the API renders ``field`` and ``rule``
once, at the edge, in the caller's language, with ``http_status``.
"""

from __future__ import annotations

from pulsecrm.kernel.errors import AccessDenied, InvalidValue


class MarketingError(InvalidValue):
    """A request breaks a marketing rule; nothing has been written."""

    code = "marketing_invalid"
    http_status = 422

    def __init__(self, field: str, en: str, zh: str, *, rule: str | None = None) -> None:
        if rule:
            self.code = rule
        super().__init__(field, en, zh)

    def message(self, locale: str = "zh-CN") -> str:
        if locale.lower().startswith("en"):
            return f"{self.field}: {self.rule_en} (rule: {self.code})"
        return f"{self.field}：{self.rule_zh}（规则：{self.code}）"


class SegmentInvalid(MarketingError):
    """A filter tree is malformed or uses a filter its purpose does not allow."""

    code = "segment_invalid"


class TemplateRejected(MarketingError):
    """C2: a template lacks the sender identity or the unsubscribe element."""

    code = "template_rejected"


class AdRejected(MarketingError):
    """C6: a medical advertisement lacks a valid review certificate or makes a banned claim."""

    code = "medical_ad_rejected"


class CampaignInvalid(MarketingError):
    code = "campaign_invalid"


class CampaignState(MarketingError):
    """The campaign is not in a state that allows this (e.g. editing after scheduling)."""

    code = "campaign_state"
    http_status = 409


class AuthorizationMissing(MarketingError):
    """C7: a HIPAA marketing communication using PHI needs every recipient's authorisation."""

    code = "hipaa_authorization_required"
    http_status = 409


class NotFound(MarketingError):
    code = "not_found"
    http_status = 404


def not_found(field: str, value: str) -> NotFound:
    return NotFound(field, f"no {field} {value!r}", f"{field} {value!r} 不存在")


class RoleRefused(AccessDenied):
    """The caller's role may not manage segments or campaigns."""

    code = "role_refused"
    zh = "当前角色无权管理营销活动"
    en = "this role may not manage segments and campaigns"
