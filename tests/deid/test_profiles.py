"""Regulatory profiles: HIPAA Safe Harbor, GB/T 39725 level gates, GB/T 37964 record."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import pandas as pd
import pytest

from pulsecrm.deid.config import ConfigError, config_from_mapping
from pulsecrm.deid.operators import ReleaseForm, build_operator
from pulsecrm.deid.pipeline import deidentify_frame
from pulsecrm.deid.profiles.level_gates import GatedColumn, LevelGateError, check_level_gates
from pulsecrm.deid.profiles.process_record import (
    Approval,
    ColumnMethod,
    Verification,
    process_record,
)
from pulsecrm.deid.profiles.safe_harbor import (
    SafeHarborError,
    SafeHarborIdentifier,
    check_operator,
    find_identifier_patterns,
    identifier_from_name,
)

PATIENTS = pd.DataFrame(
    {
        "patient_id": ["MRN-0001", "MRN-0002", "MRN-0003", "MRN-0004"],
        "full_name": ["Zhang San", "Li Si", "Wang Wu", "Mary Smith"],
        "phone": ["13812345678", "(555) 123-4567", "13900001111", "555-987-6543"],
        "email": ["zs@example.com", "lisi@hospital.cn", "ww@qq.com", "mary@clinic.org"],
        "ssn": ["123-45-6789", "987-65-4321", "110101199003071234", "111-22-3333"],
        "homepage": ["http://zs.example.com", "https://lisi.cn/me", "www.ww.cn", "http://m.org"],
        "last_login_ip": ["10.0.0.1", "192.168.1.2", "8.8.8.8", "172.16.0.9"],
        "birth_date": ["1930-03-04", "1988-12-01", "2001-07-07", "1975-01-15"],
        "admission_date": ["2024-02-10", "2024-03-11", "2024-04-12", "2024-05-13"],
        "age": ["94", "35", "23", "90"],
        "zip": ["03601", "94110", "10001", "89301"],
        "diagnosis": ["flu", "asthma", "flu", "diabetes"],
        "spend": ["100", "250.5", "30", "75"],
    }
)


def safe_harbor_config() -> dict[str, Any]:
    return {
        "goal": "research extract under HIPAA Safe Harbor",
        "profile": "safe_harbor",
        "columns": {
            "patient_id": {"role": "identifying", "hipaa": "medical_record_number"},
            "full_name": {"role": "identifying"},
            "phone": {"role": "identifying"},
            "email": {"role": "identifying"},
            "ssn": {"role": "identifying"},
            "homepage": {"role": "identifying"},
            "last_login_ip": {"role": "identifying"},
            "birth_date": {"role": "insensitive"},
            "admission_date": {"role": "insensitive"},
            "age": {"role": "insensitive"},
            "zip": {"role": "insensitive"},
            "diagnosis": {"role": "sensitive", "level": 3},
            "spend": {"role": "insensitive", "hipaa": "none"},
        },
    }


IDENTIFIER_REGEXES = [
    re.compile(r"[\w.+-]+@[\w-]+\.\w+"),  # e-mail
    re.compile(r"https?://|www\."),  # URL
    re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b"),  # IPv4
    re.compile(r"\b1[3-9]\d{9}\b|\(?\d{3}\)?[-. ]\d{3}[-. ]\d{4}"),  # phones
    re.compile(r"\b\d{3}-\d{2}-\d{4}\b|\b\d{17}[\dX]\b"),  # SSN / ID card
    re.compile(r"MRN-\d+"),  # record numbers
]


@pytest.mark.req("E3")
def test_safe_harbor_golden_release_has_no_identifiers_and_coarse_dates_ages_zips() -> None:
    outcome = deidentify_frame(PATIENTS, config_from_mapping(safe_harbor_config()))
    released = outcome.data
    text = "\n".join(released.astype(str).apply(lambda row: "|".join(row), axis=1))
    for pattern in IDENTIFIER_REGEXES:
        assert not pattern.search(text), f"{pattern.pattern} still matches the release"
    for name in PATIENTS["full_name"]:
        assert name not in text
    assert released["age"].tolist() == ["90+", "35", "23", "90+"]
    assert released["birth_date"].tolist() == ["1930", "1988", "2001", "1975"]
    assert released["admission_date"].tolist() == ["2024", "2024", "2024", "2024"]
    assert released["zip"].tolist() == ["000", "941", "100", "000"]  # 036, 893 restricted
    assert set(released.columns) == {
        "birth_date",
        "admission_date",
        "age",
        "zip",
        "diagnosis",
        "spend",
    }
    assert outcome.summary["profile"] == "safe_harbor"


@pytest.mark.req("E3")
def test_safe_harbor_refuses_an_operator_that_keeps_part_of_an_identifier() -> None:
    config = safe_harbor_config()
    config["columns"]["phone"] = {
        "role": "insensitive",
        "operator": "mask",
        "params": {"keep_first": 3, "keep_last": 4},
    }
    with pytest.raises(ConfigError, match=r"columns\.phone\.operator.*Safe Harbor identifier"):
        deidentify_frame(PATIENTS, config_from_mapping(config))


@pytest.mark.req("E3")
def test_safe_harbor_scan_catches_identifiers_in_an_innocent_looking_column() -> None:
    frame = PATIENTS.assign(notes=["call me at 13812345678", "", "ok", "fine"])
    config = safe_harbor_config()
    config["columns"]["notes"] = {"role": "insensitive", "hipaa": "none"}
    with pytest.raises(ConfigError, match=r"column 'notes' holds 1 cn_mobile"):
        deidentify_frame(frame, config_from_mapping(config))


def test_safe_harbor_identifier_inference_and_operator_rules() -> None:
    assert identifier_from_name("Mobile Phone") is SafeHarborIdentifier.PHONE
    assert identifier_from_name("patient_email") is SafeHarborIdentifier.EMAIL
    assert identifier_from_name("date_of_birth") is SafeHarborIdentifier.DATES
    assert identifier_from_name("diagnosis") is None
    pseudonym = build_operator("pseudonym", {}, column="name")
    with pytest.raises(SafeHarborError, match="leaves it pseudonymised"):
        check_operator(SafeHarborIdentifier.NAMES, pseudonym, column="name")
    month = build_operator("date_truncate", {"unit": "month"}, column="dob")
    with pytest.raises(SafeHarborError):
        check_operator(SafeHarborIdentifier.DATES, month, column="dob")


def test_identifier_scan_reports_without_leaking_the_value() -> None:
    findings = find_identifier_patterns(pd.DataFrame({"c": ["write to a.b@example.com"]}))
    assert [(f.column, f.pattern, f.rows) for f in findings] == [("c", "email", 1)]
    assert "example.com" not in findings[0].example


@pytest.mark.req("E3")
def test_level_5_column_released_in_any_unsuppressed_form_is_refused() -> None:
    with pytest.raises(LevelGateError, match="'hiv_status' is GB/T 39725 level 5"):
        check_level_gates([GatedColumn("hiv_status", 5, ReleaseForm.PSEUDONYMISED, "pseudonym")])
    check_level_gates([GatedColumn("hiv_status", 5, ReleaseForm.SUPPRESSED, "suppress")])
    check_level_gates([GatedColumn("hiv_status", 5, ReleaseForm.REMOVED, "redact")])


@pytest.mark.req("E3")
def test_pipeline_refuses_a_config_releasing_a_level_5_column_before_any_work() -> None:
    frame = pd.DataFrame({"id": ["1", "2"], "hiv_status": ["pos", "neg"]})
    base: dict[str, Any] = {"goal": "g", "columns": {"id": {"role": "identifying"}}}
    for column in (
        {"role": "sensitive", "level": 5},
        {"role": "insensitive", "level": 5, "operator": "mask", "params": {"keep_first": 1}},
        {"role": "insensitive", "level": 5, "operator": "suppress", "params": {"values": ["pos"]}},
    ):
        config = config_from_mapping({**base, "columns": {**base["columns"], "hiv_status": column}})
        with pytest.raises(ConfigError, match=r"columns\.hiv_status\.level.*level 5"):
            deidentify_frame(frame, config)
    allowed = {"role": "insensitive", "level": 5, "operator": "suppress"}
    config = config_from_mapping({**base, "columns": {**base["columns"], "hiv_status": allowed}})
    assert deidentify_frame(frame, config).data["hiv_status"].tolist() == ["*", "*"]


@pytest.mark.req("E3")
def test_level_4_column_must_be_removed_or_pseudonymised() -> None:
    frame = pd.DataFrame({"phone": ["13812345678"], "x": ["1"]})
    masked = {
        "goal": "g",
        "columns": {
            "phone": {
                "role": "insensitive",
                "level": 4,
                "operator": "mask",
                "params": {"keep_first": 3, "keep_last": 4},
            },
            "x": {"role": "insensitive"},
        },
    }
    with pytest.raises(ConfigError, match="level 4 and may only leave"):
        deidentify_frame(frame, config_from_mapping(masked))


def test_process_record_has_every_gb_t_37964_step_and_is_json_serialisable() -> None:
    record = process_record(
        goal="share funnel analytics with partner",
        recipient="partner-a",
        profile="none",
        methods=[
            ColumnMethod("phone", "identifying", 4, "pseudonym", "pseudonymised"),
            ColumnMethod("age", "quasi", 2, "engine generalisation", "generalised"),
            ColumnMethod("disease", "sensitive", 3, "kept", "original"),
        ],
        verification=Verification(
            True, 5, 7, ["k-anonymity(k=5)"], 3, {"prosecutor_max": 0.14}, {"loss": 0.2}
        ),
        approval=Approval("DPO Wang", "2024-05-01T10:00:00"),
        monitoring="re-assess in 6 months",
        rows_in=100,
        rows_out=97,
    )
    data = json.loads(json.dumps(record.to_dict()))
    for key in (
        "goal",
        "identifiers",
        "quasi_identifiers",
        "methods",
        "verification",
        "approval",
        "monitoring",
        "standard",
    ):
        assert data[key], key
    assert data["identifiers"] == ["phone"] and data["quasi_identifiers"] == ["age"]
    assert data["verification"]["k_achieved"] == 7
    assert data["approval"] == {
        "approver": "DPO Wang",
        "approved_at": "2024-05-01T10:00:00",
        "status": "approved",
    }
    assert {f.name for f in dataclasses.fields(record)} >= {"goal", "approval", "monitoring"}


def test_every_run_produces_a_process_record() -> None:
    outcome = deidentify_frame(PATIENTS, config_from_mapping(safe_harbor_config()))
    record = outcome.summary["process_record"]
    assert record["standard"] == "GB/T 37964-2019"
    assert record["approval"]["status"] == "pending"
    assert {m["column"] for m in record["methods"]} == set(PATIENTS.columns)
    assert record["verification"]["verified"] is True
