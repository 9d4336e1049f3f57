"""Rights errors: each names the field and the rule broken, in zh-CN and en.

They subclass :class:`InvalidValue`, so the API and the pages render ``field``,
``rule`` (the ``code``) and the message once, at the edge, with ``http_status``.
"""

from __future__ import annotations

from pulsecrm.kernel.errors import InvalidValue


class RightsError(InvalidValue):
    code = "rights_invalid"
    http_status = 422


class RequestNotFound(RightsError):
    code = "not_found"
    http_status = 404


class InvalidTransition(RightsError):
    code = "invalid_transition"
    http_status = 409


class ExtensionRefused(RightsError):
    """F1: an extension is recorded, with its reason, inside the original window only."""

    code = "extension_refused"
    http_status = 409


class NotVerified(RightsError):
    """F1: nothing is released to a requester whose identity is not verified."""

    code = "not_verified"
    http_status = 409
