"""KEK provider backed by OpenBao / HashiCorp Vault's transit engine (via hvac).

The master key never leaves Vault: wrapping is ``transit/encrypt`` with the
associated data as the derivation context, rotation is ``transit/keys/rotate``
and retiring a version raises ``min_decryption_version``. Configure with
``VAULT_ADDR``, ``VAULT_TOKEN`` and ``PULSECRM_TRANSIT_KEY`` (a transit key
created with ``derived=true``). Not exercised in CI here: no Vault server is
available on the build machines (see docs/keys.md).
"""

from __future__ import annotations

import base64
import os
from typing import Any

import hvac

from pulsecrm.kernel.errors import KeyUnavailable


class VaultTransitProvider:
    name = "vault-transit"

    def __init__(self, client: Any, key_name: str) -> None:
        self._client = client
        self._key = key_name

    @classmethod
    def from_environment(cls) -> VaultTransitProvider:
        key_name = os.environ.get("PULSECRM_TRANSIT_KEY", "pulsecrm")
        client = hvac.Client(url=os.environ.get("VAULT_ADDR"), token=os.environ.get("VAULT_TOKEN"))
        if not client.is_authenticated():
            raise KeyUnavailable("cannot authenticate to Vault (VAULT_ADDR / VAULT_TOKEN)")
        return cls(client, key_name)

    def _key_info(self) -> dict[str, Any]:
        data: dict[str, Any] = self._client.secrets.transit.read_key(name=self._key)["data"]
        return data

    def versions(self) -> list[int]:
        info = self._key_info()
        floor = int(info.get("min_decryption_version", 1))
        return sorted(int(v) for v in info["keys"] if int(v) >= floor)

    def active_version(self) -> int:
        return int(self._key_info()["latest_version"])

    def create_version(self) -> int:
        self._client.secrets.transit.rotate_key(name=self._key)
        return self.active_version()

    def destroy_version(self, version: int) -> None:
        self._client.secrets.transit.update_key_configuration(
            name=self._key, min_decryption_version=version + 1
        )

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        result = self._client.secrets.transit.encrypt_data(
            name=self._key,
            plaintext=base64.b64encode(key).decode(),
            context=base64.b64encode(aad).decode(),
            key_version=version,
        )
        return str(result["data"]["ciphertext"]).encode()

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        result = self._client.secrets.transit.decrypt_data(
            name=self._key, ciphertext=wrapped.decode(), context=base64.b64encode(aad).decode()
        )
        return base64.b64decode(result["data"]["plaintext"])
