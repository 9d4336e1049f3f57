"""Tables the consent module owns: notices, the consent ledger, its current state, evidence.

* ``notice_version`` — every published privacy notice, immutable, identified by
  the SHA-256 of its canonical text (append-only).
* ``consent_event`` — the ledger: one row per grant, refusal, withdrawal,
  expiry or renewal, hash-chained per tenant (``prev_hash`` → ``row_hash``)
  and pointing at the kernel audit entry written with it (append-only).
* ``consent_evidence`` — the personal data of an event (IP, user agent,
  guardian identity) as kernel ciphertext under the person's own key. Kept
  apart from the ledger so crypto-shredding a person can delete it while the
  ledger (which holds only digests of these ciphertexts) stays append-only.
* ``consent_state`` — the current answer per person × purpose × channel,
  derived from the ledger and the notices, indexed so that "who may be
  contacted for this purpose on this channel" is one index range.
* ``consent_ledger_head`` — the tenant's last ledger position (serialises appends).
* ``privacy_preference`` — opt-out signals that are not a consent decision,
  e.g. ``Sec-GPC: 1`` (append-only).

Every column of a personal-data table is either structural (keys, tenant,
timestamps, and the consent facts themselves — purpose, channel, status —
which are the record of processing, not data about the person's life) or a
catalog field (``fields.yaml``: ``consent_evidence_*``, ``consent_guardian_*``).
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pulsecrm.store.base import STRUCTURAL, Base

metadata = Base.metadata
PERSONAL = {"personal_data": True}

notice_version = Table(
    "notice_version",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("locale", String(8), nullable=False),
    Column("version_hash", String(64), nullable=False),
    Column("label", String(64), nullable=False),
    Column("profile", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("purposes", Text, nullable=False),
    Column("renewal_purposes", Text, nullable=False),
    Column("supersedes", String(64), nullable=True),
    Column("published_us", BigInteger, nullable=False),
    Column("published_by", String(100), nullable=False),
    UniqueConstraint("tenant_id", "version_hash", name="uq_notice_version_hash"),
    Index("ix_notice_version_current", "tenant_id", "locale", "id"),
)

consent_event = Table(
    "consent_event",
    metadata,
    Column("tenant_id", Integer, primary_key=True, info=STRUCTURAL),
    Column("seq", BigInteger, primary_key=True, autoincrement=False, info=STRUCTURAL),
    Column("id", String(32), nullable=False, info=STRUCTURAL),
    Column("person_id", String(32), nullable=False, info=STRUCTURAL),
    Column("purpose", String(64), nullable=False, info=STRUCTURAL),
    Column("channel", String(16), nullable=False, info=STRUCTURAL),
    Column("kind", String(16), nullable=False, info=STRUCTURAL),
    Column("notice_hash", String(64), nullable=True, info=STRUCTURAL),
    Column("language", String(8), nullable=False, info=STRUCTURAL),
    Column("ts_us", BigInteger, nullable=False, info=STRUCTURAL),
    Column("method", String(32), nullable=False, info=STRUCTURAL),
    Column("origin", String(16), nullable=False, info=STRUCTURAL),
    Column("actor_type", String(16), nullable=False, info=STRUCTURAL),
    Column("actor", String(100), nullable=False, info=STRUCTURAL),
    Column("form_id", String(100), nullable=True, info=STRUCTURAL),
    Column("evidence_ref", String(200), nullable=True, info=STRUCTURAL),
    Column("scan_sha256", String(64), nullable=True, info=STRUCTURAL),
    Column("evidence_digest", String(64), nullable=True, info=STRUCTURAL),
    Column("expires_us", BigInteger, nullable=True, info=STRUCTURAL),
    Column("terms", Text, nullable=False, info=STRUCTURAL),
    Column("audit_seq", BigInteger, nullable=False, info=STRUCTURAL),
    Column("prev_hash", LargeBinary(32), nullable=False, info=STRUCTURAL),
    Column("row_hash", LargeBinary(32), nullable=False, info=STRUCTURAL),
    UniqueConstraint("id", name="uq_consent_event_id"),
    Index("ix_consent_event_person", "tenant_id", "person_id", "purpose", "channel"),
    info=PERSONAL,
)

consent_evidence = Table(
    "consent_evidence",
    metadata,
    Column("event_id", String(32), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("person_id", String(32), nullable=False, info=STRUCTURAL),
    Column("ip", LargeBinary),
    Column("user_agent", LargeBinary),
    Column("guardian_name", LargeBinary),
    Column("guardian_relationship", LargeBinary),
    Index("ix_consent_evidence_person", "tenant_id", "person_id"),
    info=PERSONAL,
)

consent_state = Table(
    "consent_state",
    metadata,
    Column("tenant_id", Integer, primary_key=True, info=STRUCTURAL),
    Column("person_id", String(32), primary_key=True, info=STRUCTURAL),
    Column("purpose", String(64), primary_key=True, info=STRUCTURAL),
    Column("channel", String(16), primary_key=True, info=STRUCTURAL),
    Column("status", String(16), nullable=False, info=STRUCTURAL),
    Column("needs_renewal", Boolean, nullable=False, info=STRUCTURAL),
    Column("minor_blocked", Boolean, nullable=False, info=STRUCTURAL),
    Column("subject_minor", Boolean, nullable=False, info=STRUCTURAL),
    Column("by_guardian", Boolean, nullable=False, info=STRUCTURAL),
    Column("expires_us", BigInteger, nullable=True, info=STRUCTURAL),
    Column("notice_hash", String(64), nullable=True, info=STRUCTURAL),
    Column("last_event_id", String(32), nullable=False, info=STRUCTURAL),
    Column("origin", String(16), nullable=False, info=STRUCTURAL),
    Column("updated_us", BigInteger, nullable=False, info=STRUCTURAL),
    # "Who may be contacted for P on C": one range of this index, covering.
    Index(
        "ix_consent_state_contactable",
        "tenant_id",
        "purpose",
        "channel",
        "status",
        "needs_renewal",
        "minor_blocked",
        "expires_us",
        "person_id",
    ),
    info=PERSONAL,
)

consent_ledger_head = Table(
    "consent_ledger_head",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenant.id"), primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("row_hash", LargeBinary(32), nullable=False),
)

privacy_preference = Table(
    "privacy_preference",
    metadata,
    Column("id", String(32), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("person_id", String(32), nullable=True, info=STRUCTURAL),
    Column("kind", String(32), nullable=False, info=STRUCTURAL),
    Column("source", String(16), nullable=False, info=STRUCTURAL),
    Column("route", String(200), nullable=False, info=STRUCTURAL),
    Column("recorded_us", BigInteger, nullable=False, info=STRUCTURAL),
    Index("ix_privacy_preference_person", "tenant_id", "person_id"),
    info=PERSONAL,
)

APPEND_ONLY_TABLES = ("notice_version", "consent_event", "privacy_preference")
