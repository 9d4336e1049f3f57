"""CRM errors: each names the field and the rule it broke, in zh-CN and en.

They subclass :class:`InvalidValue`, so the API renders ``field`` and
``rule`` (the ``code``) once, at the edge, with ``http_status``.
"""

from __future__ import annotations

from pulsecrm.kernel.errors import InvalidValue


class CrmError(InvalidValue):
    code = "crm_invalid"
    http_status = 422


class NotFound(CrmError):
    """Also what a row outside the caller's scope looks like: its existence is not leaked."""

    code = "not_found"
    http_status = 404


class UnknownBranch(CrmError):
    code = "unknown_branch"


class SlotInPast(CrmError):
    code = "slot_in_past"


class InvalidTransition(CrmError):
    code = "invalid_transition"
    http_status = 409


class Duplicate(CrmError):
    code = "duplicate"
    http_status = 409


class FieldNotNeeded(CrmError):
    """D1: a form collects a field none of its purposes declares."""

    code = "field_not_needed"


class UnknownFormField(CrmError):
    code = "unknown_field"


class SignatureInvalid(CrmError):
    code = "signature_invalid"
    http_status = 401


class ConsentMissing(CrmError):
    code = "separate_consent_required"
    http_status = 403


class ApprovalRequired(CrmError):
    code = "pending_approval"
    http_status = 202


def not_found(field: str, value: str) -> NotFound:
    return NotFound(
        field,
        f"no {field} {value!r} (or not in your scope)",
        f"{field} {value!r} 不存在或不在您的范围内",
    )


class NotEditable(CrmError):
    """A field that exists but changes another way (a transition, or derived)."""

    code = "not_editable"


class HealthGrantRequired(CrmError):
    """The role has no health grant for the purpose: it may not write this field (D2)."""

    code = "health_grant_required"
    http_status = 403
