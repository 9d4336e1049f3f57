"""``api_token``: staff API tokens, stored only as their SHA-256 (the secret is shown once).

A token belongs to one named account (and so to its role and tenant), expires,
and can be revoked; revoked and expired tokens are kept for the audit trail.
No personal data: the rows describe staff credentials.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Integer, LargeBinary, String, Table

from pulsecrm.store.base import Base

metadata = Base.metadata

api_token = Table(
    "api_token",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("token_hash", LargeBinary(32), nullable=False, unique=True),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger, nullable=True),
)
