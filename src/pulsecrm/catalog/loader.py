"""Load and cross-check the catalog YAML.

Errors name the file, the key path and the rule broken, because the people
editing these files are privacy officers, not Python programmers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from pulsecrm.catalog.model import FieldSpec, PurposeSpec, RoleSpec

_Model = TypeVar("_Model", bound=BaseModel)

CHANNELS = frozenset({"sms", "email", "wechat", "phone", "post"})


class CatalogError(ValueError):
    """The catalog is invalid; ``str()`` names file, key and rule."""

    def __init__(self, file: str, key: str, rule: str) -> None:
        self.file, self.key, self.rule = file, key, rule
        super().__init__(f"{file}: {key}: {rule}")


@dataclass(frozen=True)
class Catalog:
    fields: dict[str, FieldSpec]
    purposes: dict[str, PurposeSpec]
    roles: dict[str, RoleSpec]

    def field(self, name: str) -> FieldSpec:
        try:
            return self.fields[name]
        except KeyError:
            raise KeyError(f"unknown catalog field {name!r}") from None

    def purpose(self, purpose_id: str) -> PurposeSpec:
        try:
            return self.purposes[purpose_id]
        except KeyError:
            raise KeyError(f"unknown purpose {purpose_id!r}") from None

    def stored_fields(self, table: str) -> dict[str, FieldSpec]:
        """Catalog fields kept in ``table``, by column name."""
        return {f.column: f for f in self.fields.values() if f.table == table and f.column}


def _read_yaml(path: Path, top_key: str) -> dict[str, Any]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CatalogError(path.name, "<document>", f"not valid YAML ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get(top_key), dict):
        raise CatalogError(path.name, top_key, "must be a mapping of ids to entries")
    entries: dict[str, Any] = document[top_key]
    return entries


def _parse(model: type[_Model], file: str, top: str, key: str, raw: Any) -> _Model:
    if not isinstance(raw, dict):
        raise CatalogError(file, f"{top}.{key}", "must be a mapping")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise CatalogError(file, f"{top}.{key}.{where}", first["msg"]) from exc


def load_catalog(directory: Path | None = None) -> Catalog:
    """Load fields, purposes and roles from ``directory`` (default: the shipped catalog)."""
    base = directory or Path(str(resources.files("pulsecrm.catalog") / "data"))
    purposes = {
        key: _parse(PurposeSpec, "purposes.yaml", "purposes", key, {"id": key, **(raw or {})})
        for key, raw in _read_yaml(base / "purposes.yaml", "purposes").items()
    }
    fields = {
        key: _parse(FieldSpec, "fields.yaml", "fields", key, {"name": key, **(raw or {})})
        for key, raw in _read_yaml(base / "fields.yaml", "fields").items()
    }
    roles = {
        key: _parse(RoleSpec, "roles.yaml", "roles", key, {"id": key, **(raw or {})})
        for key, raw in _read_yaml(base / "roles.yaml", "roles").items()
    }
    _cross_check(fields, purposes, roles)
    return Catalog(fields=fields, purposes=purposes, roles=roles)


def _cross_check(
    fields: dict[str, FieldSpec], purposes: dict[str, PurposeSpec], roles: dict[str, RoleSpec]
) -> None:
    for purpose in purposes.values():
        for channel in purpose.channels:
            if channel not in CHANNELS:
                raise CatalogError(
                    "purposes.yaml",
                    f"purposes.{purpose.id}.channels",
                    f"unknown channel {channel!r} (known: {', '.join(sorted(CHANNELS))})",
                )
    for spec in fields.values():
        for purpose_id in spec.purposes:
            if purpose_id not in purposes:
                raise CatalogError(
                    "fields.yaml", f"fields.{spec.name}.purposes", f"unknown purpose {purpose_id!r}"
                )
        if spec.sensitive and not spec.encrypted:
            raise CatalogError(
                "fields.yaml", f"fields.{spec.name}.encrypted", "sensitive PI must be encrypted"
            )
        if spec.level >= 4 and not spec.encrypted:
            raise CatalogError(
                "fields.yaml", f"fields.{spec.name}.encrypted", "level 4–5 data must be encrypted"
            )
        if spec.searchable and not spec.encrypted:
            raise CatalogError(
                "fields.yaml",
                f"fields.{spec.name}.searchable",
                "only encrypted fields take a blind index",
            )
    for role in roles.values():
        for index, grant in enumerate(role.grants):
            for purpose_id in grant.purposes:
                if purpose_id not in purposes:
                    raise CatalogError(
                        "roles.yaml",
                        f"roles.{role.id}.grants[{index}].purposes",
                        f"unknown purpose {purpose_id!r}",
                    )
            if grant.purposes and not role.reads_personal_data:
                raise CatalogError(
                    "roles.yaml",
                    f"roles.{role.id}.grants",
                    "a role with reads_personal_data: false cannot hold grants",
                )


@cache
def default_catalog() -> Catalog:
    """The shipped catalog, loaded once per process."""
    return load_catalog()
