"""Declarative base shared by every capability's tables.

Each capability module defines its tables against this one ``MetaData`` so
Alembic, the catalog-coverage test and the kernel see a single schema.
Two ``info`` keys carry privacy meaning:

* ``Table.info["personal_data"] = True`` — rows describe a person; every
  column must be structural or mapped to a catalog field.
* ``Column.info["structural"] = True`` — keys, tenant and timestamps: not
  personal data in themselves.
"""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


STRUCTURAL = {"structural": True}
