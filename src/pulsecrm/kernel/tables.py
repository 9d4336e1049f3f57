"""Tables the kernel owns in the main database: tenants, accounts, audit log, blind index.

None of them holds personal data in clear: accounts are staff, the audit log
names people only by their random subject id, and the blind index holds
truncated keyed hashes.
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

from pulsecrm.store.base import Base

metadata = Base.metadata

tenant = Table(
    "tenant",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("created_us", BigInteger, nullable=False),
)

user_account = Table(
    "user_account",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("username", String(100), nullable=False),
    Column("display_name", String(200), nullable=False),
    Column("role", String(64), nullable=False),
    Column("password_hash", String(255), nullable=True),
    Column("is_local_operator", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_us", BigInteger, nullable=False),
    # Usernames are unique installation-wide: no two people share a login (H1).
    UniqueConstraint("username", name="uq_user_account_username"),
)

audit_entry = Table(
    "audit_entry",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("role", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("subject", String(64), nullable=True),
    Column("fields", Text, nullable=False),
    Column("detail", Text, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
    Index("ix_audit_entry_subject", "tenant_id", "subject"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenant.id"), primary_key=True),
    Column("tree_size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("frontier", LargeBinary, nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    Column("last_checkpoint_size", BigInteger, nullable=False),
)

audit_checkpoint = Table(
    "audit_checkpoint",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("tree_size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("ts_us", BigInteger, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
)

blind_index = Table(
    "blind_index",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("field", String(32), primary_key=True),
    Column("token", BigInteger, primary_key=True, autoincrement=False),
    Column("subject_id", String(64), primary_key=True),
)

shredded_subject = Table(
    "shredded_subject",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("subject_id", String(64), primary_key=True),
    Column("shredded_us", BigInteger, nullable=False),
)

APPEND_ONLY_TABLES = ("audit_entry", "audit_checkpoint", "shredded_subject")
