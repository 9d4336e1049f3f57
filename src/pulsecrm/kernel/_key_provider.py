"""Master-key (KEK) providers. Private to the kernel.

A provider never hands out a KEK: it wraps and unwraps data keys, so a KMS
(OpenBao / HashiCorp Vault transit) can keep the master key in its own
process. ``LocalKeyFileProvider`` keeps versioned 256-bit keys in files in
``$PULSECRM_HOME/keys`` (mode 0600, directory 0700) and refuses to start when
any of them is readable by group or others.
"""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pulsecrm.kernel.errors import DecryptionFailed, KeyFileExposed, KeyUnavailable

_KEK_FILE = re.compile(r"^kek-v(\d+)\.key$")


class KeyProvider(Protocol):
    """What the kernel needs of a master-key store."""

    name: str

    def versions(self) -> list[int]: ...

    def active_version(self) -> int: ...

    def create_version(self) -> int: ...

    def destroy_version(self, version: int) -> None: ...

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes: ...

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes: ...


def check_private(path: Path) -> None:
    """Refuse a key file or key directory that group or others can read."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileExposed(f"{path} has mode {stat.S_IMODE(mode):o}; run: chmod go= {path}")


class LocalKeyFileProvider:
    """Versioned KEKs in local files; the newest version wraps new keys."""

    name = "local"

    def __init__(self, key_dir: Path) -> None:
        self._dir = key_dir
        self._aeads: dict[int, AESGCM] = {}

    @classmethod
    def create(cls, key_dir: Path) -> LocalKeyFileProvider:
        key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(key_dir, 0o700)
        provider = cls(key_dir)
        if not provider.versions():
            provider.create_version()
        return provider

    def _path(self, version: int) -> Path:
        return self._dir / f"kek-v{version}.key"

    def versions(self) -> list[int]:
        if not self._dir.is_dir():
            return []
        found = (_KEK_FILE.match(p.name) for p in self._dir.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def active_version(self) -> int:
        versions = self.versions()
        if not versions:
            raise KeyUnavailable(f"no master key in {self._dir}; run `pulsecrm init`")
        return versions[-1]

    def create_version(self) -> int:
        version = (self.versions() or [0])[-1] + 1
        path = self._path(version)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(AESGCM.generate_key(bit_length=256)))
            handle.flush()
            os.fsync(handle.fileno())
        return version

    def destroy_version(self, version: int) -> None:
        self._aeads.pop(version, None)
        self._path(version).unlink()

    def _aead(self, version: int) -> AESGCM:
        aead = self._aeads.get(version)
        if aead is None:
            path = self._path(version)
            if not path.exists():
                raise KeyUnavailable(f"master key version {version} is not in {self._dir}")
            check_private(self._dir)
            check_private(path)
            aead = AESGCM(base64.b64decode(path.read_bytes()))
            self._aeads[version] = aead
        return aead

    def wrap(self, version: int, key: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead(version).encrypt(nonce, key, aad)

    def unwrap(self, version: int, wrapped: bytes, aad: bytes) -> bytes:
        try:
            return self._aead(version).decrypt(wrapped[:12], wrapped[12:], aad)
        except InvalidTag:
            raise DecryptionFailed("data key does not unwrap under its master key") from None

    def check_permissions(self) -> None:
        """Fail fast at start-up rather than at the first read."""
        if self._dir.exists():
            check_private(self._dir)
            for version in self.versions():
                check_private(self._path(version))


def open_provider(name: str, key_dir: Path) -> KeyProvider:
    """Pick the provider named by ``PULSECRM_KEY_PROVIDER`` (``local`` or ``vault-transit``)."""
    if name == "local":
        provider = LocalKeyFileProvider(key_dir)
        provider.check_permissions()
        return provider
    if name == "vault-transit":
        from pulsecrm.kernel._vault_transit import VaultTransitProvider

        return VaultTransitProvider.from_environment()
    raise KeyUnavailable(f"unknown key provider {name!r} (local, vault-transit)")
