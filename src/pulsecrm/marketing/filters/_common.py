"""Parameter types and table handles shared by the filter modules (not a filter itself)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from pulsecrm.crm import clinic_tables
from pulsecrm.crm.tables import person_profile

Name = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Values = Annotated[list[Name], Field(min_length=1, max_length=200)]
Days = Annotated[int, Field(ge=1, le=3650)]

profile = person_profile
lead = clinic_tables.lead
visit = clinic_tables.visit
deal = clinic_tables.deal
appointment = clinic_tables.appointment
consultation = clinic_tables.consultation
tag = clinic_tables.tag
person_tag = clinic_tables.person_tag
