"""Marketing fixtures: the CRM's ``app`` (kernel with the consent hook) and ``clinic``.

Re-exported rather than copied so segments, campaigns and sending tests run
against the same small clinic as the CRM tests.
"""

from __future__ import annotations

from tests.crm.conftest import Clinic, app, clinic

__all__ = ["Clinic", "app", "clinic"]
