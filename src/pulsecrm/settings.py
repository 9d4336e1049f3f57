"""Runtime settings, read once from the environment (prefix ``PULSECRM_``).

Everything that locates secrets or data lives here so that tests, the CLI and
the server agree on one home directory and one database.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
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

    # -- sending (issue 5; docs/sending.md) -----------------------------------
    # Queue broker: redis://… → Redis, amqp://… → RabbitMQ, unset → in-process.
    queue_url: str | None = None
    # Public base URL of the API, for unsubscribe and click-tracking links.
    public_base_url: str = "http://127.0.0.1:8000"
    # A ``sending`` claim older than this is a crashed worker's (see sending.py).
    send_lease_s: int = 300
    send_batch_size: int = 200
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_from: str = "noreply@pulsecrm.invalid"
    smtp_timeout_s: float = 10.0
    smtp_rate_per_s: float = 50.0
    # aliyun | tencent
    sms_provider: str = "aliyun"
    sms_endpoint: str | None = None
    sms_access_key_id: str | None = None
    sms_access_key_secret: SecretStr | None = None
    sms_sign_name: str = "PulseCRM"
    sms_template_code: str = "SMS_0000"
    sms_sdk_app_id: str = "1400000000"
    sms_region: str = "cn-hangzhou"
    sms_rate_per_s: float = 100.0
    # Shared secret the provider's receipt/inbound push carries (header or query ``token``).
    sms_webhook_secret: SecretStr | None = None
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_app_id: str | None = None
    wechat_app_secret: SecretStr | None = None
    wechat_template_id: str = ""
    wechat_rate_per_s: float = 50.0
    outbox_rate_per_s: float = 0.0  # 0 = unlimited
    # H5: an export of more people than this waits for a privacy officer's approval.
    export_approval_threshold: int = Field(default=10_000, ge=0)

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
