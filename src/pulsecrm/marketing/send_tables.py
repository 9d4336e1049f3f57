"""The sending ledger: one ``message`` row per (campaign, person, channel) and its events.

``message`` is the idempotency record of the send pipeline: the unique key
(tenant_id, campaign_id, person_id, channel) makes enqueueing an audience
twice a no-op, and the ``queued`` -> ``sending`` claim (with ``claimed_us``
as the lease start) lets exactly one worker own a message. Its id doubles as
the provider idempotency key (SMTP Message-ID, SMS ``OutId``/``SessionContext``,
WeChat ``client_msg_id``) so a retry after a crash is recognisable downstream.

Rows hold no identifier: the address is decrypted by the kernel at send time
and never stored here. ``message_event`` is an append-only ledger
(delivery receipts, unsubscribes, clicks, replies), protected by the triggers
in ``store/append_only.py``; ``detail`` holds codes, never message text.

Adapters must not import this module: they call ``marketing.sending``.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from pulsecrm.store.base import Base

metadata = Base.metadata

message = Table(
    "message",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    # NULL for service messages (appointment reminders): not deduplicated by the key
    Column("campaign_id", String(32), nullable=True),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    # sms | email | wechat | outbox
    Column("channel", String(16), nullable=False),
    Column("purpose", String(64), nullable=False),
    # queued | sending | sent | failed | skipped
    Column("status", String(16), nullable=False),
    # consent | suppressed | quiet_hours | frequency_cap | shredded | no_address
    Column("skip_reason", String(16), nullable=True),
    Column("provider", String(32), nullable=True),
    Column("provider_message_id", String(128), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("queued_us", BigInteger, nullable=False),
    # lease start of the current ``sending`` claim (crash recovery)
    Column("claimed_us", BigInteger, nullable=True),
    Column("sent_us", BigInteger, nullable=True),
    # error class and provider code; never the address or the message text
    Column("error", String(200), nullable=True),
    UniqueConstraint(
        "tenant_id", "campaign_id", "person_id", "channel", name="uq_message_tenant_campaign"
    ),
    Index("ix_message_frequency", "tenant_id", "person_id", "channel", "sent_us"),
    Index("ix_message_campaign_status", "tenant_id", "campaign_id", "status"),
    Index("ix_message_provider_id", "provider", "provider_message_id"),
)

message_event = Table(
    "message_event",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("message_id", String(32), ForeignKey("message.id"), nullable=False),
    # delivered | failed | unsubscribed | clicked | replied
    Column("kind", String(16), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Column("detail", Text, nullable=True),
    Index("ix_message_event_message", "tenant_id", "message_id", "kind"),
)
