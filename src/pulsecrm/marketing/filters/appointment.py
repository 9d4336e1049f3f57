"""Appointments by status.

``{"filter": "appointment", "status": ["no_show"], "within_days": 60}``
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from sqlalchemy import ColumnElement, exists

from pulsecrm.marketing.filters import CompileContext, Params, register
from pulsecrm.marketing.filters._common import Days, appointment

Status = Literal["booked", "confirmed", "arrived", "no_show", "cancelled", "rescheduled"]


class AppointmentParams(Params):
    status: list[Status] = Field(min_length=1, max_length=6)
    # slot time in the last N days (future slots always count)
    within_days: Days | None = None


@register("appointment", AppointmentParams, description="has an appointment in one of the states")
def compile_appointment(params: AppointmentParams, ctx: CompileContext) -> ColumnElement[bool]:
    where = [
        appointment.c.tenant_id == ctx.tenant_id,
        appointment.c.person_id == ctx.person,
        appointment.c.status.in_(params.status),
    ]
    if params.within_days:
        where.append(appointment.c.slot_us >= ctx.since(params.within_days))
    return exists().where(*where)
