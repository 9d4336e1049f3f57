"""``api_token``: staff API tokens, stored only as their SHA-256 (the secret is shown once).

A token belongs to one named account (and so to its role and tenant), expires,
and can be revoked; revoked and expired tokens are kept for the audit trail.
No personal data: the rows describe staff credentials.
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
)

from pulsecrm.crm.clinic_tables import followup_task
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


# -- issue 6: second factor, login throttling, web sessions, break-glass (H2–H4, H6) ----
# None of these rows holds personal data: they describe staff credentials and
# events. The TOTP secret is stored only sealed (AES-GCM under the tenant's
# ``mfa_seal`` secret from the kernel key store), recovery codes only as
# Argon2id hashes, session ids only as SHA-256.

mfa_totp = Table(
    "mfa_totp",
    metadata,
    Column("account_id", Integer, ForeignKey("user_account.id"), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("secret_sealed", LargeBinary, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    # NULL until the first code is verified: an unconfirmed enrolment is no second factor.
    Column("confirmed_us", BigInteger, nullable=True),
    # Replay protection: the last accepted 30-second step; a code for that step or
    # an earlier one is refused even inside the ±1 step window.
    Column("last_step", BigInteger, nullable=False, default=0),
)

mfa_recovery_code = Table(
    "mfa_recovery_code",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("code_hash", String(255), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("used_us", BigInteger, nullable=True),
    Index("ix_mfa_recovery_code_account", "tenant_id", "account_id"),
)

login_throttle = Table(
    "login_throttle",
    metadata,
    Column("tenant_id", Integer, ForeignKey("tenant.id"), primary_key=True),
    # ``user:<name as typed>`` or ``ip:<address>``: counted whether or not the
    # account exists, so a lockout reveals nothing about which usernames are real.
    Column("key", String(200), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("first_failure_us", BigInteger, nullable=False),
    Column("locked_until_us", BigInteger, nullable=True),
)

web_session = Table(
    "web_session",
    metadata,
    Column("id_hash", LargeBinary(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("user_account.id"), nullable=False),
    Column("role", String(64), nullable=False),
    Column("mfa_done", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("last_seen_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger, nullable=True),
    Index("ix_web_session_account", "tenant_id", "account_id"),
)

break_glass = Table(
    "break_glass",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("account_id", Integer, ForeignKey("user_account.id"), nullable=False),
    # Staff's own words on why (the form asks not to name the patient; the
    # person, when the grant is for one, is the ``person_id`` below).
    Column("reason", Text, nullable=False),
    Column("purpose", String(64), nullable=True),
    Column("person_id", String(32), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("ended_us", BigInteger, nullable=True),
    Index("ix_break_glass_account", "tenant_id", "account_id", "expires_us"),
)

alert = Table(
    "alert",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ref_id", String(32), nullable=True),
    Column("account_id", Integer, ForeignKey("user_account.id"), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("acknowledged_us", BigInteger, nullable=True),
    Index("ix_alert_open", "tenant_id", "acknowledged_us", "created_us"),
)

access_review = Table(
    "access_review",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("ref_id", String(32), nullable=False),
    Column("assignee_role", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("due_us", BigInteger, nullable=False),
    Column("done_us", BigInteger, nullable=True),
    Column("done_by", Integer, ForeignKey("user_account.id"), nullable=True),
    Column("outcome", String(32), nullable=True),
    Index("ix_access_review_open", "tenant_id", "done_us", "due_us"),
)

# The staff console's person page lists a person's follow-ups; the CRM indexes them by
# owner and by lead only, so that query scanned the table. Declared here (as marketing
# declares its visit-by-person index) because the console is what needs it; created by
# migration 0009.
Index(
    "ix_followup_task_person",
    followup_task.c.tenant_id,
    followup_task.c.person_id,
    followup_task.c.due_us,
)
