"""Access policy: role × field × purpose, compiled once, denied by default.

A decision combines three catalog facts: the role holds a grant for the
field's category and the purpose; the field itself declares the purpose (a
field may only be used for what it was collected for — minimum necessity);
and whether the grant may reveal or only see the mask. Consent is checked
separately, per person, by the consent hook the vault calls.
"""

from __future__ import annotations

from enum import IntEnum

from pulsecrm.catalog.loader import Catalog


class Access(IntEnum):
    DENY = 0
    MASKED = 1
    REVEAL = 2


class Policy:
    """The compiled decision table; ``decide`` is one dict lookup."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        table: dict[tuple[str, str, str], Access] = {}
        for role in catalog.roles.values():
            if not role.reads_personal_data:
                continue
            for grant in role.grants:
                for spec in catalog.fields.values():
                    if spec.category not in grant.categories:
                        continue
                    for purpose in grant.purposes:
                        if purpose not in spec.purposes:
                            continue
                        access = Access.REVEAL if grant.reveal else Access.MASKED
                        key = (role.id, spec.name, purpose)
                        table[key] = max(table.get(key, Access.DENY), access)
        self._table = table

    def decide(self, role: str, field: str, purpose: str) -> Access:
        return self._table.get((role, field, purpose), Access.DENY)

    def fields_for(self, role: str, purpose: str) -> dict[str, Access]:
        """Every field ``role`` may touch for ``purpose`` (for forms and API schemas)."""
        return {f: a for (r, f, p), a in self._table.items() if r == role and p == purpose}

    def __len__(self) -> int:
        return len(self._table)
