"""Import every capability's tables so ``Base.metadata`` holds the whole schema.

Alembic, the catalog-coverage test and the kernel's vault look tables up in
that metadata; a new capability adds its ``tables`` module here.
"""

from pulsecrm.access import tables as access_tables  # noqa: F401
from pulsecrm.consent import tables as consent_tables  # noqa: F401
from pulsecrm.crm import clinic_tables  # noqa: F401
from pulsecrm.crm import tables as crm_tables
from pulsecrm.kernel import tables as kernel_tables
from pulsecrm.marketing import send_tables  # noqa: F401
from pulsecrm.marketing import tables as marketing_tables  # noqa: F401
from pulsecrm.rights import tables as rights_tables  # noqa: F401
from pulsecrm.store.base import Base

metadata = Base.metadata

__all__ = ["crm_tables", "kernel_tables", "metadata"]
