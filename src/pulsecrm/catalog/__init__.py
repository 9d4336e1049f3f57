"""The data catalog: every personal-data field, purpose and role, declared once."""

from pulsecrm.catalog.loader import Catalog, CatalogError, default_catalog, load_catalog
from pulsecrm.catalog.model import Category, FieldSpec, LegalBasis, PurposeSpec, RoleSpec

__all__ = [
    "Catalog",
    "CatalogError",
    "Category",
    "FieldSpec",
    "LegalBasis",
    "PurposeSpec",
    "RoleSpec",
    "default_catalog",
    "load_catalog",
]
