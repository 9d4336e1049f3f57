"""Free-text PII detection and scrubbing for consultation notes (Chinese + English)."""
