"""Authentication settings (``PULSECRM_`` environment variables), kept apart from the
installation settings so the login policy can be tuned without touching them.

Defaults follow H3 (15 minutes idle) and common lockout practice (5 failures →
15 minutes); every value is configurable per deployment.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class AuthConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PULSECRM_", extra="ignore")

    # H3: a session unused this long is ended; fractions allowed (tests use seconds).
    idle_timeout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # Absolute lifetime of a session, however active.
    session_max_hours: float = Field(default=12.0, gt=0, le=7 * 24)
    # Lockout: this many failures inside the window lock the key (account name or IP).
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_ip_max_failures: int = Field(default=20, ge=1, le=100_000)
    login_failure_window_minutes: float = Field(default=15.0, gt=0)
    lockout_minutes: float = Field(default=15.0, gt=0, le=24 * 60)
    # H4: the longest emergency grant a user may ask for.
    break_glass_max_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # Break-glass reviews are due this many days after the grant.
    break_glass_review_days: int = Field(default=3, ge=1, le=90)
    # Recovery codes issued at enrolment (each usable once).
    recovery_codes: int = Field(default=10, ge=5, le=20)
    # Issuer shown in authenticator apps.
    totp_issuer: str = "PulseCRM"

    @property
    def idle_us(self) -> int:
        return int(self.idle_timeout_minutes * 60_000_000)

    @property
    def lifetime_us(self) -> int:
        return int(self.session_max_hours * 3_600_000_000)

    @property
    def lockout_us(self) -> int:
        return int(self.lockout_minutes * 60_000_000)

    @property
    def window_us(self) -> int:
        return int(self.login_failure_window_minutes * 60_000_000)
