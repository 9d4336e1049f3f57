"""Runtime settings, read once from the environment (prefix ``PULSECRM_``).

Everything that locates secrets or data lives here so that tests, the CLI and
the server agree on one home directory and one database.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """PulseCRM settings; see ``docs/configuration.md`` for each variable."""

    model_config = SettingsConfigDict(env_prefix="PULSECRM_", extra="ignore")

    home: Path = Field(default_factory=lambda: Path.home() / ".pulsecrm")
    database_url: str | None = None
    keystore_url: str | None = None
    key_provider: str = "local"
    blind_index_population: int = 1_000_000
    blind_index_candidates: float = 2.0
    locale: str = "zh-CN"
    tenant: str = "default"

    @property
    def key_dir(self) -> Path:
        return self.home / "keys"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'pulsecrm.db'}"

    @property
    def effective_keystore_url(self) -> str:
        """Person data keys live apart from the data so a database copy holds no keys."""
        return self.keystore_url or f"sqlite:///{self.key_dir / 'keystore.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
