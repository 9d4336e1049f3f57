"""Which roles need a second factor (H2) and which may be given to a person (H1).

Derived from the catalog, not listed by hand: a role needs MFA when any of its
grants may *reveal* personal data, and so does ``admin``, which cannot read
personal data itself but can hand out the roles that do. A role added to
``roles.yaml`` with a reveal grant needs MFA from that moment.
"""

from __future__ import annotations

from pulsecrm.catalog.loader import Catalog

BREAK_GLASS_ROLE = "break_glass"
# Roles that exist for the kernel, never for a login: the emergency role is
# entered only through a time-boxed break-glass grant, and consent intake is
# the data subject acting for themselves; lead intake and the message sender
# are system jobs.
NOT_ASSIGNABLE = frozenset({BREAK_GLASS_ROLE, "consent_intake", "lead_intake", "message_sender"})
MFA_ALWAYS = frozenset({"admin"})


def can_reveal(catalog: Catalog, role: str) -> bool:
    spec = catalog.roles.get(role)
    return bool(spec and spec.reads_personal_data and any(g.reveal for g in spec.grants))


def mfa_required(catalog: Catalog, role: str) -> bool:
    return role in MFA_ALWAYS or can_reveal(catalog, role)


def assignable_roles(catalog: Catalog) -> list[str]:
    return [r for r in catalog.roles if r not in NOT_ASSIGNABLE]
