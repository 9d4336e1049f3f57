"""Free-text PII detection and scrubbing for consultation notes (Chinese + English)."""

from pulsecrm.deid.text.findings import ALL_TYPES, Finding
from pulsecrm.deid.text.scrubber import ScrubResult, find_pii, scrub

__all__ = ["ALL_TYPES", "Finding", "ScrubResult", "find_pii", "scrub"]
