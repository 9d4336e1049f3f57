"""Tables the marketing capability owns: segments, campaigns, templates, audiences, suppression.

* ``segment`` — a saved filter tree (JSON) and the purpose it is for; the
  tree is compiled to SQL on every use, so it never holds a person list.
* ``campaign`` / ``campaign_template`` — what is sent, to which segment, for
  which purpose, on which channel, and the sending rules (quiet hours,
  frequency cap, rate). Templates are linted before they are stored (C2, C6).
* ``campaign_audience`` — the people a campaign may reach, built set-based
  from the segment minus every exclusion (B5, C1); ``audience_report`` keeps
  how many were excluded and why.
* ``suppression`` — people who must not be contacted on a channel (``*`` =
  every channel): TD replies, unsubscribes, hard bounces, complaints.

Rows refer to people only by their random ``person.id``. The person-linked
tables are marked as personal data; every column in them is structural (keys,
tenant, timestamps and processing facts such as a suppression reason), so
none needs a catalog field. Adapters must not import this module.

The ``ix_visit_person_arrived`` and ``ix_consent_state_audience`` indexes live
here because only segments and audiences ask "when did this person last
visit?" and "what is this person's consent for the campaign?" per person.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
)

from pulsecrm.consent.tables import consent_state
from pulsecrm.crm.clinic_tables import visit
from pulsecrm.store.base import STRUCTURAL, Base

metadata = Base.metadata
PERSONAL = {"personal_data": True}

segment = Table(
    "segment",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("name", String(100), nullable=False),
    # JSON text of the filter tree (marketing/segment_tree.py validates it)
    Column("definition", Text, nullable=False),
    # the purpose the segment is for; health filters need marketing.personalized_health
    Column("purpose", String(64), nullable=False),
    Column("created_by", String(100), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_segment_tenant", "tenant_id", "created_us"),
)

campaign = Table(
    "campaign",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("purpose", String(64), nullable=False),
    # sms | email | wechat | outbox
    Column("channel", String(16), nullable=False),
    Column("segment_id", String(32), ForeignKey("segment.id"), nullable=False),
    # draft | scheduled | sending | done | cancelled
    Column("status", String(16), nullable=False),
    Column("scheduled_us", BigInteger, nullable=True),
    Column("timezone", String(64), nullable=False, default="Asia/Shanghai"),
    # minutes after local midnight; quiet when start > end wraps past midnight
    Column("quiet_start_min", Integer, nullable=False, default=1260),
    Column("quiet_end_min", Integer, nullable=False, default=480),
    Column("frequency_cap", Integer, nullable=False, default=2),
    Column("frequency_window_days", Integer, nullable=False, default=7),
    Column("send_rate_per_s", Integer, nullable=False, default=50),
    Column("sender_name", String(100), nullable=False),
    # HIPAA profile (C7): treatment | operations | payment | marketing | none
    Column("hipaa_class", String(16), nullable=True),
    # a medical-service advertisement: needs a review certificate and the ad lint (C6)
    Column("medical_ad", Boolean, nullable=False, default=False),
    # a third party pays for the communication: HIPAA marketing whatever the class (C7)
    Column("sponsor_paid", Boolean, nullable=False, default=False),
    Column("created_by", String(100), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_campaign_tenant_status", "tenant_id", "status", "scheduled_us"),
)

campaign_template = Table(
    "campaign_template",
    metadata,
    Column("tenant_id", Integer, nullable=False),
    Column("campaign_id", String(32), ForeignKey("campaign.id"), nullable=False),
    # zh-CN | en
    Column("locale", String(8), nullable=False),
    Column("subject", String(200), nullable=True),
    Column("body", Text, nullable=False),
    # 医疗广告审查证明 number and its expiry date (C6)
    Column("review_cert_id", String(64), nullable=True),
    Column("review_cert_expires", Date, nullable=True),
    PrimaryKeyConstraint("campaign_id", "locale", name="pk_campaign_template"),
)

campaign_audience = Table(
    "campaign_audience",
    metadata,
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("campaign_id", String(32), nullable=False, info=STRUCTURAL),
    Column("person_id", String(32), nullable=False, info=STRUCTURAL),
    # the template locale chosen for the person (the consent language)
    Column("locale", String(8), nullable=False, info=STRUCTURAL),
    PrimaryKeyConstraint("campaign_id", "person_id", name="pk_campaign_audience"),
    info=PERSONAL,
)

audience_report = Table(
    "audience_report",
    metadata,
    Column("campaign_id", String(32), ForeignKey("campaign.id"), primary_key=True),
    Column("tenant_id", Integer, nullable=False),
    Column("segment_count", Integer, nullable=False),
    Column("included", Integer, nullable=False),
    # JSON object reason -> count, in the exclusion order (marketing/audience.py)
    Column("excluded", Text, nullable=False),
    Column("built_by", String(100), nullable=False),
    Column("built_us", BigInteger, nullable=False),
)

suppression = Table(
    "suppression",
    metadata,
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("person_id", String(32), nullable=False, info=STRUCTURAL),
    # a channel name, or * for every channel
    Column("channel", String(16), nullable=False, info=STRUCTURAL),
    # td_reply | unsubscribe | hard_bounce | complaint | manual
    Column("reason", String(16), nullable=False, info=STRUCTURAL),
    # where it came from, e.g. the inbound provider or the staff account
    Column("source", String(100), nullable=False, info=STRUCTURAL),
    Column("created_us", BigInteger, nullable=False, info=STRUCTURAL),
    PrimaryKeyConstraint("tenant_id", "person_id", "channel", name="pk_suppression"),
    info=PERSONAL,
)

# "No visit for 180 days" asks for a person's visits; the CRM indexes visits by lead only.
Index("ix_visit_person_arrived", visit.c.tenant_id, visit.c.person_id, visit.c.arrived_us)

# The audience probes each segment member's consent for (purpose, channel); this index
# answers the probe alone (SQLite would otherwise search the key, then fetch the row).
Index(
    "ix_consent_state_audience",
    *(
        consent_state.c[c]
        for c in (
            "tenant_id",
            "person_id",
            "purpose",
            "channel",
            "status",
            "needs_renewal",
            "minor_blocked",
            "expires_us",
            "by_guardian",
        )
    ),
)
