"""Rights fixtures: the wired kernel (``app``) re-exported from the CRM fixtures."""

from __future__ import annotations

from tests.crm.conftest import app  # noqa: F401  (re-exported fixture)
