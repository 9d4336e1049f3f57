"""The catalog declares every personal-data field once, and the schema cannot outgrow it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import inspect

from pulsecrm.catalog import CatalogError, default_catalog, load_catalog
from pulsecrm.catalog.model import Category, LegalBasis
from pulsecrm.store import models  # noqa: F401  (registers every table)
from pulsecrm.store.base import Base

REQUIRED_FIELDS = {
    "name",
    "phone",
    "email",
    "id_number",
    "wechat_openid",
    "address",
    "gender",
    "birth_date",
    "city",
    "source_channel",
    "chief_complaint",
    "consultation_notes",
    "questionnaire_answers",
}
REQUIRED_PURPOSES = {
    "service.appointment",
    "service.followup",
    "marketing.sms",
    "marketing.email",
    "marketing.wechat",
    "marketing.personalized_health",
    "analytics.deidentified",
    "sharing.partner",
    "compliance.dsr",
    "compliance.audit",
    "security.incident",
}


@pytest.mark.req("D1", "E1")
def test_every_required_field_is_classified_and_graded() -> None:
    catalog = default_catalog()
    assert set(catalog.fields) >= REQUIRED_FIELDS
    for spec in catalog.fields.values():
        assert 1 <= spec.level <= 5
        assert spec.purposes and spec.retention
    health = [f for f in catalog.fields.values() if f.category is Category.HEALTH]
    assert health and all(f.sensitive and f.encrypted for f in health)


@pytest.mark.req("B1", "B4")
def test_purposes_declare_legal_basis_and_separate_consent() -> None:
    catalog = default_catalog()
    assert set(catalog.purposes) >= REQUIRED_PURPOSES
    assert catalog.purpose("marketing.personalized_health").separate_consent
    assert catalog.purpose("sharing.partner").separate_consent
    assert catalog.purpose("marketing.sms").legal_basis is LegalBasis.CONSENT
    for purpose in catalog.purposes.values():
        assert purpose.name.get("zh-CN") and purpose.name.get("en")


def test_admin_and_auditor_read_no_personal_data() -> None:
    roles = default_catalog().roles
    assert {
        "consultant",
        "marketing_manager",
        "analyst",
        "privacy_officer",
        "auditor",
        "admin",
    } <= set(roles)
    assert not roles["admin"].reads_personal_data and not roles["admin"].grants
    assert not roles["auditor"].reads_personal_data


def _copy_catalog(tmp_path: Path) -> Path:
    source = Path(__file__).resolve().parents[2] / "src/pulsecrm/catalog/data"
    target = tmp_path / "catalog"
    shutil.copytree(source, target)
    return target


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("fields.yaml", "level: 5", "level: 7", "fields.special_condition.level"),
        (
            "fields.yaml",
            "retention: P3Y\n    stored_in: person_identity.phone",
            "retention: three years\n    stored_in: person_identity.phone",
            "fields.phone.retention",
        ),
        (
            "roles.yaml",
            "purposes: [analytics.deidentified]",
            "purposes: [analytics.everything]",
            "roles.analyst.grants[0].purposes",
        ),
        (
            "purposes.yaml",
            "legal_basis: contract",
            "legal_basis: vibes",
            "purposes.service.appointment.legal_basis",
        ),
        (
            "fields.yaml",
            "    encrypted: true\n    searchable: null\n    mask: redacted\n"
            "    purposes: [service.followup",
            "    encrypted: false\n    searchable: null\n    mask: redacted\n"
            "    purposes: [service.followup",
            "fields.special_condition.encrypted",
        ),
    ],
)
def test_invalid_catalog_names_file_key_and_rule(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    directory = _copy_catalog(tmp_path)
    path = directory / file
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(CatalogError) as caught:
        load_catalog(directory)
    assert caught.value.file == file
    assert caught.value.key.startswith(expected)
    assert caught.value.rule


@pytest.mark.req("D1", "E1")
def test_every_personal_data_column_in_the_database_has_a_catalog_entry(kernel) -> None:  # type: ignore[no-untyped-def]
    """Introspect the real database: a personal-data column with no catalog entry fails."""
    catalog = default_catalog()
    live = inspect(kernel.engine)
    live_tables = set(live.get_table_names())
    personal = [t for t in Base.metadata.tables.values() if t.info.get("personal_data")]
    assert personal, "no table is marked as holding personal data"
    for table in personal:
        assert table.name in live_tables
        mapped = catalog.stored_fields(table.name)
        structural = {c.name for c in table.columns if c.info.get("structural")}
        for column in live.get_columns(table.name):
            name = column["name"]
            assert name in structural or name in mapped, (
                f"{table.name}.{name} holds personal data but has no catalog entry"
            )
    # Every catalog mapping points at a real column (no stale entries either).
    for spec in catalog.fields.values():
        if spec.stored_in:
            assert spec.column in {c["name"] for c in live.get_columns(str(spec.table))}
    # Tables nobody declared would escape this check: there must be none.
    assert live_tables - {"alembic_version"} <= set(Base.metadata.tables)
