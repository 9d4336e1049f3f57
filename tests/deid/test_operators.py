"""Column operators: what each one releases, and the keyed ones' per-recipient behaviour."""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.operators import (
    Applied,
    Operator,
    OperatorContext,
    OperatorError,
    ReleaseForm,
    build_operator,
    operator_names,
    register_operator,
)

KEY_A = b"recipient-a-secret-key-0123456789"
KEY_B = b"recipient-b-secret-key-9876543210"


def run(
    name: str,
    series: pd.Series,
    /,
    key: bytes | None = KEY_A,
    frame: pd.DataFrame | None = None,
    **params: object,
) -> Applied:
    operator = build_operator(name, params, column=str(series.name))
    frame = frame if frame is not None else series.to_frame()
    return operator.apply(str(series.name), series, OperatorContext(frame=frame, recipient_key=key))


def test_registry_lists_every_builtin_operator() -> None:
    assert {
        "redact",
        "mask",
        "pseudonym",
        "date_shift",
        "generalize",
        "top_code",
        "bottom_code",
        "suppress",
        "date_truncate",
        "zip3",
    } <= set(operator_names())


def test_adding_an_operator_is_registering_one_class() -> None:
    @register_operator
    @dataclasses.dataclass(frozen=True)
    class Upper(Operator):
        name: ClassVar[str] = "test_upper"
        release_form: ClassVar[ReleaseForm] = ReleaseForm.TRANSFORMED

        def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
            return Applied(values=values.str.upper())

    out = run("test_upper", pd.Series(["ab"], name="c"))
    assert out.values is not None and out.values.tolist() == ["AB"]


def test_unknown_operator_and_bad_params_name_the_column() -> None:
    with pytest.raises(OperatorError, match="unknown operator 'scramble'"):
        build_operator("scramble", {}, column="phone")
    with pytest.raises(OperatorError, match=r"column 'phone'.*no parameter\(s\) keep"):
        build_operator("mask", {"keep": 3}, column="phone")


@pytest.mark.req("E3")
def test_redact_drops_or_tokenises() -> None:
    values = pd.Series(["Zhang San", "Li Si"], name="name")
    assert run("redact", values).values is None
    token = run("redact", values, mode="token").values
    assert token is not None and token.tolist() == ["[REDACTED]", "[REDACTED]"]


@pytest.mark.req("E3")
def test_mask_keeps_first_and_last_characters() -> None:
    values = pd.Series(["13812345678", "12", None], name="phone")
    out = run("mask", values, keep_first=3, keep_last=4).values
    assert out is not None
    assert out.tolist() == ["138****5678", "**", None]  # too short → fully masked


@pytest.mark.req("E3", "D4")
def test_pseudonyms_are_stable_per_recipient_and_cannot_be_joined_across_recipients() -> None:
    phones = pd.Series(["13812345678", "13900001111", "13812345678", None], name="phone")
    a1 = run("pseudonym", phones, key=KEY_A).values
    a2 = run("pseudonym", phones, key=KEY_A).values
    b = run("pseudonym", phones, key=KEY_B).values
    assert a1 is not None and a2 is not None and b is not None
    assert a1.tolist() == a2.tolist()  # deterministic for one recipient
    assert a1[0] == a1[2] and a1[0] != a1[1]  # same value → same token
    assert a1[3] is None
    assert all(re.fullmatch(r"P-[A-Z2-7]{26}", t) for t in a1[:3])
    # Two recipients' extracts share no token, so a join on the token matches nothing.
    joined = pd.merge(a1.dropna().to_frame("t"), b.dropna().to_frame("t"), on="t")
    assert joined.empty


def test_pseudonym_without_a_recipient_key_is_refused() -> None:
    with pytest.raises(OperatorError, match="needs a recipient key"):
        run("pseudonym", pd.Series(["x"], name="id"), key=None)


@pytest.mark.req("E3")
def test_date_shift_preserves_intervals_within_a_person_and_is_deterministic() -> None:
    frame = pd.DataFrame(
        {
            "person": ["p1", "p1", "p2", "p2", "p3"],
            "visit": ["2024-01-01", "2024-01-31", "2024-01-01", "2024-03-01", "2023-12-25"],
        }
    )
    out = run("date_shift", frame["visit"], frame=frame, person_column="person", max_days=30)
    again = run("date_shift", frame["visit"], frame=frame, person_column="person", max_days=30)
    assert out.values is not None and again.values is not None
    assert out.values.tolist() == again.values.tolist()
    before = pd.to_datetime(frame["visit"])
    after = pd.to_datetime(out.values)
    shift = (after - before).dt.days
    assert shift[0] == shift[1] and shift[2] == shift[3]  # one offset per person
    assert (after[1] - after[0]).days == 30 and (after[3] - after[2]).days == 60
    assert ((shift.abs() >= 1) & (shift.abs() <= 30)).all()
    other = run(
        "date_shift", frame["visit"], key=KEY_B, frame=frame, person_column="person", max_days=30
    )
    assert other.values is not None and other.values.tolist() != out.values.tolist()


def test_date_shift_names_a_bad_date() -> None:
    frame = pd.DataFrame({"person": ["p1"], "visit": ["not a date"]})
    with pytest.raises(OperatorError, match=r"'visit'.*'not a date' is not a date"):
        run("date_shift", frame["visit"], frame=frame, person_column="person")


@pytest.mark.req("E3")
def test_top_and_bottom_coding() -> None:
    ages = pd.Series([39.0, 90.0, 89.0, np.nan, 101.0], name="age")
    out = run("top_code", ages, above=89, label="90+").values
    assert out is not None and out.tolist() == ["39", "90+", "89", None, "90+"]
    low = run("bottom_code", pd.Series([3, 18, 40], name="age"), below=18).values
    assert low is not None and low.tolist() == ["<18", "18", "40"]


def test_generalize_applies_a_hierarchy_level_and_names_missing_values() -> None:
    hierarchy = Hierarchy.from_rows("zip", [["47677", "4767*", "*"], ["47602", "4760*", "*"]])
    values = pd.Series(["47677", "47602"], name="zip")
    out = run("generalize", values, hierarchy=hierarchy, level=1).values
    assert out is not None and out.tolist() == ["4767*", "4760*"]
    with pytest.raises(OperatorError, match=r"'zip'.*no entry for '99999'"):
        run("generalize", pd.Series(["99999"], name="zip"), hierarchy=hierarchy, level=1)


def test_suppress_cells_or_rows() -> None:
    values = pd.Series(["flu", "HIV", "cold"], name="diagnosis")
    cells = run("suppress", values).values
    assert cells is not None and cells.tolist() == ["*", "*", "*"]
    some = run("suppress", values, values=["HIV"], drop_rows=True)
    assert some.drop_rows is not None and some.drop_rows.tolist() == [False, True, False]


@pytest.mark.req("E3")
def test_zip3_and_date_truncate_for_safe_harbor() -> None:
    zips = pd.Series(["03601", "94110-1234", "2134", None], name="zip")
    out = run("zip3", zips).values
    assert out is not None and out.tolist() == ["000", "941", "021", None]
    dates = pd.Series(["1950-03-04", "2001-07-07 10:00"], name="dob")
    years = run("date_truncate", dates).values
    assert years is not None and years.tolist() == ["1950", "2001"]


def test_pseudonym_hashes_each_distinct_value_once() -> None:
    """HMAC per value is unavoidable; per *row* is not (cache of unique values)."""
    values = pd.Series(["a", "b"] * 50_000, name="id")
    out = run("pseudonym", values).values
    assert out is not None and out.nunique() == 2 and len(out) == 100_000
