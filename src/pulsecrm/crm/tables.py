"""People: a pseudonymous profile kept apart from the encrypted identity.

``person_identity`` holds only ciphertext (AES-256-GCM under the person's own
data key, written and read only by the kernel vault). ``person_profile`` is
what segments, funnels and analytics use: no direct identifiers. Adapters
(api, web, cli, jobs) must not import this module — the import-linter
contract in ``pyproject.toml`` enforces it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, LargeBinary, String, Table

from pulsecrm.store.base import STRUCTURAL, Base

metadata = Base.metadata
PERSONAL = {"personal_data": True}

person = Table(
    "person",
    metadata,
    Column("id", String(32), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, ForeignKey("tenant.id"), nullable=False, info=STRUCTURAL),
    Column("created_us", BigInteger, nullable=False, info=STRUCTURAL),
    Column("updated_us", BigInteger, nullable=False, info=STRUCTURAL),
    Index("ix_person_tenant", "tenant_id", "created_us"),
    info=PERSONAL,
)

person_profile = Table(
    "person_profile",
    metadata,
    Column("person_id", String(32), ForeignKey("person.id"), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("gender", String(8)),
    Column("birth_year", Integer),
    Column("city", String(64)),
    Column("source_channel", String(64)),
    Index("ix_person_profile_tenant_city", "tenant_id", "city"),
    Index("ix_person_profile_tenant_source", "tenant_id", "source_channel"),
    info=PERSONAL,
)

person_identity = Table(
    "person_identity",
    metadata,
    Column("person_id", String(32), ForeignKey("person.id"), primary_key=True, info=STRUCTURAL),
    Column("tenant_id", Integer, nullable=False, info=STRUCTURAL),
    Column("name", LargeBinary),
    Column("phone", LargeBinary),
    Column("email", LargeBinary),
    Column("id_number", LargeBinary),
    Column("wechat_openid", LargeBinary),
    Column("address", LargeBinary),
    Column("birth_date", LargeBinary),
    info=PERSONAL,
)
