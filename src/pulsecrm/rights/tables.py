"""Data-subject requests (F1): the queue with its legal clocks, and the requester's sealed details.

``dsr_request`` holds only workflow facts — type, status, the clock
(received, due, any extension and its reason), whether the requester's
identity has been verified — and refers to people by random ids. What the
requester typed (name, phone, e-mail, the free-text description) is personal
data: it lives in ``dsr_requester``, one row per request keyed by its own vault
subject (``requester_id``) and sealed by ``kernel.vault`` under that subject's
data key, so erasing the requester is one crypto-shred. ``dsr_request_event``
is the append-only history of every transition (database triggers refuse
UPDATE and DELETE). Adapters must not import this module.
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

from pulsecrm.store.base import STRUCTURAL, Base

metadata = Base.metadata
PERSONAL = {"personal_data": True}

dsr_request = Table(
    "dsr_request",
    metadata,
    Column("id", String(32), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False, info=STRUCTURAL),
    # A short reference the requester can quote (e.g. DSR-7K3QX9), unique per tenant.
    Column("reference", String(16), nullable=False, info=STRUCTURAL),
    # access | copy | correction | deletion | withdrawal | explanation
    Column("request_type", String(16), nullable=False, info=STRUCTURAL),
    # received | verifying | in_progress | fulfilled | rejected
    Column("status", String(16), nullable=False, info=STRUCTURAL),
    # web_form | signed_link | offline
    Column("channel", String(16), nullable=False, info=STRUCTURAL),
    Column("locale", String(8), nullable=False, info=STRUCTURAL),
    # The vault subject holding the requester's sealed details (``dsr_requester``).
    Column("requester_id", String(32), nullable=False, info=STRUCTURAL),
    # The person the request is about, once known (a signed link, or verification).
    Column("person_id", String(32), nullable=True, info=STRUCTURAL),
    Column("received_us", BigInteger, nullable=False, info=STRUCTURAL),
    # min(received + 30 days, received + 1 calendar month), in the clinic's time zone.
    Column("due_us", BigInteger, nullable=False, info=STRUCTURAL),
    # Set once, only inside the original window; ``due_us`` stays the original clock.
    Column("extended_due_us", BigInteger, nullable=True, info=STRUCTURAL),
    Column("extension_reason", Text, nullable=True, info=STRUCTURAL),
    Column("extended_us", BigInteger, nullable=True, info=STRUCTURAL),
    Column("verified", Boolean, nullable=False, default=False, info=STRUCTURAL),
    Column("verified_us", BigInteger, nullable=True, info=STRUCTURAL),
    Column("verified_by", String(100), nullable=True, info=STRUCTURAL),
    Column("closed_us", BigInteger, nullable=True, info=STRUCTURAL),
    # Why a request was rejected (a coded reason, e.g. identity_unverified).
    Column("outcome", String(64), nullable=True, info=STRUCTURAL),
    Column("updated_us", BigInteger, nullable=False, info=STRUCTURAL),
    Index("ix_dsr_request_queue", "tenant_id", "status", "due_us"),
    Index("ux_dsr_request_reference", "tenant_id", "reference", unique=True),
    Index("ix_dsr_request_person", "tenant_id", "person_id"),
)

dsr_requester = Table(
    "dsr_requester",
    metadata,
    # ``person_id`` is the requester's vault subject (= dsr_request.requester_id),
    # not necessarily a person in the CRM: an unknown requester has no person row.
    Column("person_id", String(32), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("name", LargeBinary),
    Column("phone", LargeBinary),
    Column("email", LargeBinary),
    Column("details", LargeBinary),
    info=PERSONAL,
)

dsr_request_event = Table(
    "dsr_request_event",
    metadata,
    Column("id", String(32), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("request_id", String(32), nullable=False, info=STRUCTURAL),
    Column("at_us", BigInteger, nullable=False, info=STRUCTURAL),
    # received | verifying | verified | in_progress | extended | fulfilled | rejected
    Column("kind", String(16), nullable=False, info=STRUCTURAL),
    Column("from_status", String(16), nullable=True, info=STRUCTURAL),
    Column("to_status", String(16), nullable=False, info=STRUCTURAL),
    Column("actor", String(100), nullable=False, info=STRUCTURAL),
    Column("note", Text, nullable=True, info=STRUCTURAL),
    Index("ix_dsr_request_event_request", "tenant_id", "request_id", "at_us"),
)
