"""The key store: one data key per person, wrapped by a versioned master key.

Private to the kernel. It lives in its own database (``PULSECRM_KEYSTORE_URL``,
default ``$PULSECRM_HOME/keys/keystore.db``) so that a copy or dump of the main
database holds ciphertext and no keys. Destroying a person's row here is
crypto-shredding: every ciphertext of theirs, in the live database or in any
earlier copy of it, becomes unreadable.
"""

from __future__ import annotations

import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from pulsecrm.kernel._key_provider import KeyProvider
from pulsecrm.kernel.errors import KeyUnavailable
from pulsecrm.store.bulk import bulk_insert
from pulsecrm.store.engine import read_connection

keystore_metadata = MetaData()

data_key = Table(
    "data_key",
    keystore_metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("kek_version", Integer, nullable=False, index=True),
    Column("wrapped", LargeBinary, nullable=False),
    Column("created_us", Integer, nullable=False),
)

tenant_secret = Table(
    "tenant_secret",
    keystore_metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("kek_version", Integer, nullable=False, index=True),
    Column("wrapped", LargeBinary, nullable=False),
)

_CACHE_LIMIT = 200_000
KEY_CACHE_SECONDS = 60.0
DATA_KEY_COLUMNS = ("tenant_id", "subject_id", "kek_version", "wrapped", "created_us")


_LOAD_KEYS = select(data_key.c.subject_id, data_key.c.kek_version, data_key.c.wrapped).where(
    data_key.c.tenant_id == bindparam("tenant"),
    data_key.c.subject_id.in_(bindparam("ids", expanding=True)),
)


def _dek_aad(tenant_id: int, subject_id: str) -> bytes:
    return f"pulsecrm/dek/v1|{tenant_id}|{subject_id}".encode()


def _secret_aad(tenant_id: int, kind: str) -> bytes:
    return f"pulsecrm/secret/v1|{tenant_id}|{kind}".encode()


class Keystore:
    def __init__(self, engine: Engine, provider: KeyProvider) -> None:
        self.engine = engine
        self.provider = provider
        # Keyed by the wrapped blob, which is re-read on every lookup: a shred
        # (row deleted) takes effect at once even in other processes.
        self._unwrapped: OrderedDict[bytes, AESGCM] = OrderedDict()
        self._recent: OrderedDict[tuple[int, str], tuple[AESGCM, float]] = OrderedDict()

    def create_schema(self) -> None:
        keystore_metadata.create_all(self.engine)

    # -- person data keys -------------------------------------------------
    def create_data_keys(self, tenant_id: int, subject_ids: Iterable[str]) -> dict[str, AESGCM]:
        """Create, wrap and durably store a fresh key per subject; commit before use.

        Keys are committed before any ciphertext that needs them, so a crash
        leaves at worst an unused key, never data without its key.
        """
        version = self.provider.active_version()
        now = int(time.time() * 1_000_000)
        rows, aeads = [], {}
        for subject_id in subject_ids:
            raw = AESGCM.generate_key(bit_length=256)
            wrapped = self.provider.wrap(version, raw, _dek_aad(tenant_id, subject_id))
            rows.append(
                {
                    "tenant_id": tenant_id,
                    "subject_id": subject_id,
                    "kek_version": version,
                    "wrapped": wrapped,
                    "created_us": now,
                }
            )
            aeads[subject_id] = AESGCM(raw)
        if rows:
            with self.engine.begin() as conn:
                bulk_insert(
                    conn,
                    data_key,
                    DATA_KEY_COLUMNS,
                    [tuple(r[c] for c in DATA_KEY_COLUMNS) for r in rows],
                )
        return aeads

    def load_data_keys(self, tenant_id: int, subject_ids: Iterable[str]) -> dict[str, AESGCM]:
        """Keys of the given subjects; a shredded subject is simply absent.

        Recently used keys are served from memory for ``KEY_CACHE_SECONDS``
        (DESIGN: cached data keys). A shred in this process evicts at once;
        in another process a cached key outlives the shred by at most that
        long, and by then the shred has deleted the ciphertext it could open.
        """
        wanted = list(dict.fromkeys(subject_ids))
        found: dict[str, AESGCM] = {}
        now = time.monotonic()
        missing = []
        for subject_id in wanted:
            hit = self._recent.get((tenant_id, subject_id))
            if hit is not None and hit[1] > now:
                found[subject_id] = hit[0]
            else:
                missing.append(subject_id)
        if not missing:
            return found
        with read_connection(self.engine) as conn:
            for start in range(0, len(missing), 900):
                chunk = missing[start : start + 900]
                rows = conn.execute(_LOAD_KEYS, {"tenant": tenant_id, "ids": chunk})
                for subject_id, version, wrapped in rows:
                    aead = self._unwrap(tenant_id, subject_id, version, wrapped)
                    found[subject_id] = aead
                    self._remember(tenant_id, subject_id, aead, now)
        return found

    def _remember(self, tenant_id: int, subject_id: str, aead: AESGCM, now: float) -> None:
        self._recent[(tenant_id, subject_id)] = (aead, now + KEY_CACHE_SECONDS)
        if len(self._recent) > _CACHE_LIMIT:
            self._recent.popitem(last=False)

    def _unwrap(self, tenant_id: int, subject_id: str, version: int, wrapped: bytes) -> AESGCM:
        aead = self._unwrapped.get(wrapped)
        if aead is None:
            aead = AESGCM(self.provider.unwrap(version, wrapped, _dek_aad(tenant_id, subject_id)))
            self._unwrapped[wrapped] = aead
            if len(self._unwrapped) > _CACHE_LIMIT:
                self._unwrapped.popitem(last=False)
        return aead

    def shred(self, tenant_id: int, subject_ids: Iterable[str]) -> int:
        ids = list(subject_ids)
        with self.engine.begin() as conn:
            result = conn.execute(
                delete(data_key).where(
                    data_key.c.tenant_id == tenant_id, data_key.c.subject_id.in_(ids)
                )
            )
        self._unwrapped.clear()
        for subject_id in ids:
            self._recent.pop((tenant_id, subject_id), None)
        return int(result.rowcount or 0)

    def has_key(self, tenant_id: int, subject_id: str) -> bool:
        with read_connection(self.engine) as conn:
            return (
                conn.execute(
                    select(func.count())
                    .select_from(data_key)
                    .where(data_key.c.tenant_id == tenant_id, data_key.c.subject_id == subject_id)
                ).scalar_one()
                > 0
            )

    # -- tenant secrets (blind-index key, audit signing key) ----------------
    def tenant_secret(self, tenant_id: int, kind: str, factory: Callable[[], bytes]) -> bytes:
        """The tenant's secret of ``kind``, created with ``factory`` on first use."""
        aad = _secret_aad(tenant_id, kind)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(tenant_secret.c.kek_version, tenant_secret.c.wrapped).where(
                    tenant_secret.c.tenant_id == tenant_id, tenant_secret.c.kind == kind
                )
            ).first()
            if row is not None:
                return self.provider.unwrap(row.kek_version, row.wrapped, aad)
            secret = factory()
            version = self.provider.active_version()
            conn.execute(
                insert(tenant_secret).values(
                    tenant_id=tenant_id,
                    kind=kind,
                    kek_version=version,
                    wrapped=self.provider.wrap(version, secret, aad),
                )
            )
            return secret

    # -- rotation ---------------------------------------------------------
    def usage_by_version(self) -> dict[int, int]:
        usage: dict[int, int] = {}
        with read_connection(self.engine) as conn:
            for table in (data_key, tenant_secret):
                rows = conn.execute(
                    select(table.c.kek_version, func.count()).group_by(table.c.kek_version)
                )
                for version, count in rows:
                    usage[version] = usage.get(version, 0) + count
        return usage

    def stale_count(self, version: int) -> int:
        return sum(count for v, count in self.usage_by_version().items() if v < version)

    def rewrap_batch(self, target_version: int, batch_size: int = 2000) -> int:
        """Rewrap up to ``batch_size`` keys still under an older KEK; commit; return count.

        Each batch is its own transaction and selects only rows still below
        the target version, so rotation is online (readers keep working: the
        old KEK stays usable until retired) and resumable after a crash.
        """
        done = 0
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(
                    data_key.c.tenant_id,
                    data_key.c.subject_id,
                    data_key.c.kek_version,
                    data_key.c.wrapped,
                )
                .where(data_key.c.kek_version < target_version)
                .limit(batch_size)
            ).all()
            for tenant_id, subject_id, version, wrapped in rows:
                aad = _dek_aad(tenant_id, subject_id)
                raw = self.provider.unwrap(version, wrapped, aad)
                conn.execute(
                    update(data_key)
                    .where(
                        data_key.c.tenant_id == tenant_id,
                        data_key.c.subject_id == subject_id,
                        data_key.c.kek_version == version,
                    )
                    .values(
                        kek_version=target_version,
                        wrapped=self.provider.wrap(target_version, raw, aad),
                    )
                )
            done += len(rows)
            secrets = conn.execute(
                select(
                    tenant_secret.c.tenant_id,
                    tenant_secret.c.kind,
                    tenant_secret.c.kek_version,
                    tenant_secret.c.wrapped,
                ).where(tenant_secret.c.kek_version < target_version)
            ).all()
            for tenant_id, kind, version, wrapped in secrets:
                aad = _secret_aad(tenant_id, kind)
                raw = self.provider.unwrap(version, wrapped, aad)
                conn.execute(
                    update(tenant_secret)
                    .where(tenant_secret.c.tenant_id == tenant_id, tenant_secret.c.kind == kind)
                    .values(
                        kek_version=target_version,
                        wrapped=self.provider.wrap(target_version, raw, aad),
                    )
                )
            done += len(secrets)
        return done

    def retire(self, version: int) -> None:
        """Destroy KEK ``version``; refused while any key is still wrapped under it."""
        if version not in self.provider.versions():
            raise KeyUnavailable(f"there is no master key version {version}")
        in_use = self.usage_by_version().get(version, 0)
        if in_use:
            raise KeyUnavailable(
                f"master key v{version} still wraps {in_use} keys; run `pulsecrm keys rotate` first"
            )
        if version == self.provider.active_version():
            raise KeyUnavailable(f"master key v{version} is the active version")
        self.provider.destroy_version(version)


def random_secret(length: int = 32) -> Callable[[], bytes]:
    return lambda: os.urandom(length)
