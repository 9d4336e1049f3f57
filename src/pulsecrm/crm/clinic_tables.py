"""The clinic workflow: branches, staff, leads, consultations, appointments, visits, deals,
follow-ups, referrals, tags, capture forms and export approvals.

Everything here refers to people only by their random ``person.id``; no
identifier is stored. The two places that hold health data — a
consultation's chief complaint and notes, and a form submission's
questionnaire answers — keep ciphertext sealed per record by
``kernel.records`` (the catalog maps them with ``stored_in``), and their
tables are marked as personal data so the coverage test checks every column.

Workflow facts (channel, item codes, status, amounts, timestamps) are what
the funnel counts; they are pseudonymous and never decrypted. Like
``crm.tables``, adapters must not import this module: routes go through the
services.

No table has a foreign key *to* ``consultation`` or ``form_submission``:
crypto-shredding deletes those rows, and nothing may hold on to them.
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


def _id() -> Column[str]:
    return Column("id", String(32), primary_key=True, info=STRUCTURAL)


def _tenant() -> Column[int]:
    return Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False, info=STRUCTURAL)


branch = Table(
    "branch",
    metadata,
    _id(),
    _tenant(),
    Column("code", String(32), nullable=False),
    Column("name", String(100), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "code", name="uq_branch_tenant_code"),
)

team = Table(
    "team",
    metadata,
    _id(),
    _tenant(),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=False),
    Column("name", String(100), nullable=False),
    # Round-robin cursor: the account id assigned last (owner assignment rules).
    Column("last_assigned", Integer, nullable=True),
    UniqueConstraint("tenant_id", "name", name="uq_team_tenant_name"),
)

staff_member = Table(
    "staff_member",
    metadata,
    Column("account_id", Integer, ForeignKey("user_account.id"), primary_key=True),
    _tenant(),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=False),
    Column("team_id", String(32), ForeignKey("team.id"), nullable=True),
    # consultant | doctor | front_desk | manager
    Column("kind", String(16), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    Index("ix_staff_member_team", "tenant_id", "team_id"),
)

assignment_rule = Table(
    "assignment_rule",
    metadata,
    _id(),
    _tenant(),
    # channel | branch | default — the first matching rule (lowest priority) wins
    Column("kind", String(16), nullable=False),
    Column("match", String(64), nullable=True),
    Column("team_id", String(32), ForeignKey("team.id"), nullable=False),
    Column("priority", Integer, nullable=False, default=100),
)

lead = Table(
    "lead",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=True),
    Column("team_id", String(32), ForeignKey("team.id"), nullable=True),
    Column("owner_id", Integer, nullable=True),
    Column("channel", String(64), nullable=False),
    Column("campaign", String(100), nullable=True),
    Column("utm_source", String(100), nullable=True),
    Column("utm_medium", String(100), nullable=True),
    Column("utm_campaign", String(100), nullable=True),
    Column("platform", String(32), nullable=True),
    Column("platform_lead_id", String(100), nullable=True),
    # new | contacted | converted | lost
    Column("status", String(16), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("first_response_us", BigInteger, nullable=True),
    UniqueConstraint(
        "tenant_id", "platform", "platform_lead_id", name="uq_lead_tenant_platform_lead"
    ),
    Index("ix_lead_tenant_created", "tenant_id", "created_us"),
    Index("ix_lead_tenant_owner", "tenant_id", "owner_id"),
    Index("ix_lead_tenant_person", "tenant_id", "person_id"),
)

consultation = Table(
    "consultation",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False, info=STRUCTURAL),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True, info=STRUCTURAL),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=True, info=STRUCTURAL),
    Column("consultant_id", Integer, nullable=True, info=STRUCTURAL),
    # online | on_site — how the consultation took place (workflow fact)
    Column("mode", String(16), nullable=False, info=STRUCTURAL),
    # comma-separated item codes from the clinic's price list (not a diagnosis)
    Column("items", String(200), nullable=False, info=STRUCTURAL),
    # high | medium | low — commercial intent, used by the funnel
    Column("intent_level", String(8), nullable=False, info=STRUCTURAL),
    Column("created_us", BigInteger, nullable=False, info=STRUCTURAL),
    # Health data (catalog: chief_complaint, consultation_notes): sealed per record.
    Column("chief_complaint", LargeBinary, nullable=True),
    Column("notes", LargeBinary, nullable=True),
    Index("ix_consultation_tenant_lead", "tenant_id", "lead_id"),
    Index("ix_consultation_tenant_person", "tenant_id", "person_id"),
    info=PERSONAL,
)

appointment = Table(
    "appointment",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=False),
    Column("doctor_id", Integer, nullable=True),
    Column("owner_id", Integer, nullable=True),
    Column("item", String(64), nullable=False),
    Column("slot_us", BigInteger, nullable=False),
    # booked | confirmed | arrived | no_show | cancelled | rescheduled
    Column("status", String(16), nullable=False),
    Column("rescheduled_to", String(32), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("updated_us", BigInteger, nullable=False),
    Index("ix_appointment_tenant_slot", "tenant_id", "branch_id", "slot_us"),
    Index("ix_appointment_tenant_lead", "tenant_id", "lead_id"),
    Index("ix_appointment_tenant_person", "tenant_id", "person_id"),
)

appointment_status = Table(
    "appointment_status",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _tenant(),
    Column("appointment_id", String(32), ForeignKey("appointment.id"), nullable=False),
    Column("from_status", String(16), nullable=True),
    Column("to_status", String(16), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at_us", BigInteger, nullable=False),
    Index("ix_appointment_status_appt", "tenant_id", "appointment_id"),
)

reminder_job = Table(
    "reminder_job",
    metadata,
    _id(),
    _tenant(),
    Column("appointment_id", String(32), ForeignKey("appointment.id"), nullable=False),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    # d-1 | d-0
    Column("kind", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    # service.appointment: a service message, never marketing
    Column("purpose", String(64), nullable=False),
    Column("due_us", BigInteger, nullable=False),
    # scheduled | cancelled | sent | failed
    Column("status", String(16), nullable=False),
    Index("ix_reminder_job_due", "tenant_id", "status", "due_us"),
)

visit = Table(
    "visit",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True),
    Column("appointment_id", String(32), ForeignKey("appointment.id"), nullable=True),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=False),
    Column("arrived_us", BigInteger, nullable=False),
    Index("ix_visit_tenant_lead", "tenant_id", "lead_id"),
)

deal = Table(
    "deal",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True),
    Column("visit_id", String(32), ForeignKey("visit.id"), nullable=True),
    Column("branch_id", String(32), ForeignKey("branch.id"), nullable=False),
    Column("consultant_id", Integer, nullable=True),
    Column("items", String(200), nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("closed_us", BigInteger, nullable=False),
    Index("ix_deal_tenant_lead", "tenant_id", "lead_id"),
    Index("ix_deal_tenant_person", "tenant_id", "person_id"),
)

followup_template = Table(
    "followup_template",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(100), nullable=False),
    # comma-separated day offsets after the deal, e.g. "1,7,30"
    Column("offsets", String(100), nullable=False),
    Column("channel", String(16), nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_followup_template_tenant_name"),
)

followup_task = Table(
    "followup_task",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True),
    Column("deal_id", String(32), ForeignKey("deal.id"), nullable=True),
    Column("template_id", String(32), ForeignKey("followup_template.id"), nullable=True),
    Column("owner_id", Integer, nullable=True),
    Column("day_offset", Integer, nullable=False),
    Column("due_us", BigInteger, nullable=False),
    # open | done | skipped
    Column("status", String(16), nullable=False),
    # reached | no_answer | satisfied | complaint | rebook — a code, never free text
    Column("outcome", String(16), nullable=True),
    Column("completed_us", BigInteger, nullable=True),
    Column("next_due_us", BigInteger, nullable=True),
    Index("ix_followup_task_owner_due", "tenant_id", "owner_id", "status", "due_us"),
    Index("ix_followup_task_tenant_lead", "tenant_id", "lead_id"),
)

task = Table(
    "task",
    metadata,
    _id(),
    _tenant(),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=True),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True),
    Column("owner_id", Integer, nullable=False),
    # call_back | confirm_appointment | send_material | other — codes, never free text
    Column("kind", String(32), nullable=False),
    Column("due_us", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_task_owner", "tenant_id", "owner_id", "status"),
)

referral = Table(
    "referral",
    metadata,
    _id(),
    _tenant(),
    Column("referrer_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("referred_id", String(32), ForeignKey("person.id"), nullable=False),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True),
    # how the referral came in — a code (REFERRAL_CHANNELS), never free text
    Column("channel", String(32), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "referred_id", name="uq_referral_tenant_referred"),
)

tag = Table(
    "tag",
    metadata,
    _id(),
    _tenant(),
    Column("name", String(64), nullable=False),
    # derived tags come from a rule; from_health ones need separate consent (C4)
    Column("derived", Boolean, nullable=False, default=False),
    Column("from_health", Boolean, nullable=False, default=False),
    UniqueConstraint("tenant_id", "name", name="uq_tag_tenant_name"),
)

person_tag = Table(
    "person_tag",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("person_id", String(32), ForeignKey("person.id"), primary_key=True),
    Column("tag_id", String(32), ForeignKey("tag.id"), primary_key=True),
    Column("derived_from_health", Boolean, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Index("ix_person_tag_tag", "tenant_id", "tag_id"),
)

tag_block = Table(
    "tag_block",
    metadata,
    Column("tenant_id", Integer, primary_key=True),
    Column("person_id", String(32), ForeignKey("person.id"), primary_key=True),
    Column("tag_id", String(32), ForeignKey("tag.id"), primary_key=True),
    # a tag the person deleted is not derived again before this time (C4)
    Column("until_us", BigInteger, nullable=False),
)

capture_form = Table(
    "capture_form",
    metadata,
    _id(),
    _tenant(),
    Column("slug", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    # JSON: purposes, fields, optional purposes, health questions
    Column("definition", Text, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    UniqueConstraint("tenant_id", "slug", name="uq_capture_form_tenant_slug"),
)

form_submission = Table(
    "form_submission",
    metadata,
    _id(),
    _tenant(),
    Column("form_id", String(32), ForeignKey("capture_form.id"), nullable=False, info=STRUCTURAL),
    Column("person_id", String(32), ForeignKey("person.id"), nullable=False, info=STRUCTURAL),
    Column("lead_id", String(32), ForeignKey("lead.id"), nullable=True, info=STRUCTURAL),
    Column("created_us", BigInteger, nullable=False, info=STRUCTURAL),
    # the notice version the person saw when submitting (proof of what they were told)
    Column("notice_hash", String(64), nullable=True, info=STRUCTURAL),
    # Health questionnaire answers (catalog: questionnaire_answers), sealed per record.
    Column("answers", LargeBinary, nullable=True),
    Index("ix_form_submission_person", "tenant_id", "person_id"),
    info=PERSONAL,
)

export_request = Table(
    "export_request",
    metadata,
    _id(),
    _tenant(),
    Column("requested_by", String(100), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("person_count", Integer, nullable=False),
    # pending_approval | approved | rejected | not_needed
    Column("status", String(20), nullable=False),
    Column("decided_by", String(100), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("decided_us", BigInteger, nullable=True),
)


# Covering indexes for the set-based funnel (crm/funnel.py), created by
# migration 0004; declared here too so the schema and autogenerate agree.
for _name, _table, _columns in (
    (
        "ix_lead_funnel_cohort",
        lead,
        (
            "tenant_id",
            "created_us",
            "channel",
            "campaign",
            "owner_id",
            "branch_id",
            "first_response_us",
        ),
    ),
    (
        "ix_lead_funnel_key",
        lead,
        ("id", "tenant_id", "created_us", "channel", "campaign", "owner_id", "branch_id"),
    ),
    ("ix_appointment_funnel", appointment, ("tenant_id", "lead_id", "status")),
    ("ix_deal_funnel", deal, ("tenant_id", "lead_id", "amount_cents")),
    (
        "ix_followup_task_funnel",
        followup_task,
        ("tenant_id", "lead_id", "status", "due_us", "completed_us"),
    ),
):
    Index(_name, *(_table.c[c] for c in _columns))
