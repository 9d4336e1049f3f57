"""Assemble the kernel for one installation: engines, keys, catalog, policy, audit, vault.

``open_kernel`` is the single place that wires these together; the CLI, the
API and jobs each open one kernel and close it when done (closing flushes and
stops the audit writer thread).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from sqlalchemy import Engine, select

from pulsecrm.catalog.loader import Catalog, default_catalog
from pulsecrm.kernel._blind_index import BlindIndexer, index_bits
from pulsecrm.kernel._key_provider import KeyProvider, open_provider
from pulsecrm.kernel._keystore import Keystore
from pulsecrm.kernel.audit_log import AuditSigner
from pulsecrm.kernel.audit_writer import AuditWriter
from pulsecrm.kernel.consent_hook import ConsentHook, NoConsentRecorded
from pulsecrm.kernel.errors import KernelError
from pulsecrm.kernel.policy import Policy
from pulsecrm.kernel.record_vault import RecordVault
from pulsecrm.kernel.shred_journal import ShredJournal
from pulsecrm.kernel.tables import tenant
from pulsecrm.kernel.vault import Vault
from pulsecrm.settings import Settings
from pulsecrm.store.engine import make_engine, read_connection


class NotInitialised(KernelError):
    code = "not_initialised"
    zh = "尚未初始化，请先运行 pulsecrm init"
    en = "not initialised; run `pulsecrm init` first"


@dataclass
class Kernel:
    settings: Settings
    engine: Engine
    keystore: Keystore
    catalog: Catalog
    consent: ConsentHook = field(default_factory=NoConsentRecorded)
    _signers: dict[int, AuditSigner] = field(default_factory=dict)
    _indexers: dict[int, BlindIndexer] = field(default_factory=dict)

    @cached_property
    def policy(self) -> Policy:
        return Policy(self.catalog)

    @cached_property
    def audit_writer(self) -> AuditWriter:
        # A connection of its own, fully synchronous: the group commit is
        # the one place where "durable before returning data" is promised.
        url = self.settings.effective_database_url
        engine = (
            make_engine(url, synchronous="FULL", pool_size=1)
            if url.startswith("sqlite")
            else self.engine
        )
        return AuditWriter(engine, self.signer_for)

    @cached_property
    def vault(self) -> Vault:
        return Vault(
            engine=self.engine,
            catalog=self.catalog,
            policy=self.policy,
            keystore=self.keystore,
            indexer_for=self.indexer_for,
            signer_for=self.signer_for,
            audit_writer=self.audit_writer,
            consent=self.consent,
            shred_journal=ShredJournal(self.settings.key_dir / "shredded.jsonl"),
        )

    @cached_property
    def records(self) -> RecordVault:
        """Per-record personal data (ledger evidence, notes), sealed like the person vault."""
        return RecordVault(
            catalog=self.catalog,
            policy=self.policy,
            keystore=self.keystore,
            audit_writer=lambda: self.audit_writer,
        )

    def signer_for(self, tenant_id: int) -> AuditSigner:
        signer = self._signers.get(tenant_id)
        if signer is None:
            raw = self.keystore.tenant_secret(
                tenant_id,
                "audit_signing",
                lambda: Ed25519PrivateKey.generate().private_bytes(
                    Encoding.Raw, PrivateFormat.Raw, NoEncryption()
                ),
            )
            signer = AuditSigner(Ed25519PrivateKey.from_private_bytes(raw))
            self._signers[tenant_id] = signer
        return signer

    def indexer_for(self, tenant_id: int) -> BlindIndexer:
        """The tenant's blind indexer; its width is fixed when the tenant's key is made."""
        indexer = self._indexers.get(tenant_id)
        if indexer is None:
            bits = index_bits(
                self.settings.blind_index_population, self.settings.blind_index_candidates
            )
            secret = self.keystore.tenant_secret(
                tenant_id, "blind_index", lambda: os.urandom(32) + struct.pack(">B", bits)
            )
            indexer = BlindIndexer(secret[:32], secret[32])
            self._indexers[tenant_id] = indexer
        return indexer

    def link_secret(self, tenant_id: int) -> bytes:
        """The tenant's HMAC key for signed links (preference pages, one-click unsubscribe)."""
        cache: dict[int, bytes] = self.__dict__.setdefault("_link_secrets", {})
        secret = cache.get(tenant_id)
        if secret is None:
            secret = self.keystore.tenant_secret(
                tenant_id, "preference_link", lambda: os.urandom(32)
            )
            cache[tenant_id] = secret
        return secret

    def tenant_id(self, slug: str | None = None) -> int:
        slug = slug or self.settings.tenant
        with read_connection(self.engine) as conn:
            found = conn.execute(select(tenant.c.id).where(tenant.c.slug == slug)).scalar()
        if found is None:
            raise NotInitialised(f"tenant {slug!r}")
        return int(found)

    def close(self) -> None:
        if "audit_writer" in self.__dict__:
            self.audit_writer.close()
        self.engine.dispose()
        self.keystore.engine.dispose()


def build_kernel(
    settings: Settings,
    *,
    provider: KeyProvider | None = None,
    consent: ConsentHook | None = None,
) -> Kernel:
    """Build the kernel; ``consent`` plugs in the consent module (see ``pulsecrm.wiring``)."""
    provider = provider or open_provider(settings.key_provider, settings.key_dir)
    keystore = Keystore(make_engine(settings.effective_keystore_url), provider)
    return Kernel(
        settings=settings,
        engine=make_engine(settings.effective_database_url),
        keystore=keystore,
        catalog=default_catalog(),
        consent=consent or NoConsentRecorded(),
    )


@contextmanager
def open_kernel(settings: Settings) -> Iterator[Kernel]:
    kernel = build_kernel(settings)
    try:
        yield kernel
    finally:
        kernel.close()
