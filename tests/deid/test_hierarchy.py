"""Hierarchies: ARX CSV loading, builders, and errors that name what is missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pulsecrm.deid.hierarchy import (
    Hierarchy,
    HierarchyError,
    china_region_hierarchy,
    date_hierarchy,
    interval_hierarchy,
    masking_hierarchy,
)
from tests.deid.arx_reference_data import ADULT_COLUMNS, adult, toy_medical

# Levels per Adult hierarchy as ARX ships them (level 0 included).
ADULT_LEVELS = {
    "sex": 2,
    "age": 5,
    "race": 2,
    "marital-status": 3,
    "education": 4,
    "native-country": 3,
    "workclass": 3,
    "occupation": 3,
    "salary-class": 2,
}


@pytest.mark.parametrize("column", ADULT_COLUMNS)
def test_every_adult_hierarchy_loads_and_covers_the_data(shared_dir, column):
    df, hierarchies = adult(shared_dir)
    hierarchy = hierarchies[column]
    assert hierarchy.name == column
    assert hierarchy.levels == ADULT_LEVELS[column]
    assert hierarchy.missing_values(df[column]) == []
    assert hierarchy.is_functional
    top = hierarchy.generalize(df[column], hierarchy.levels - 1)
    assert set(top) == {"*"}, "the top level of every ARX hierarchy suppresses the value"


def test_adult_age_generalises_like_the_arx_file(shared_dir):
    _, hierarchies = adult(shared_dir)
    age = hierarchies["age"]
    row = next(r for r in age.to_rows() if r[0] == "39")
    assert [age.generalize(pd.Series([39]), lvl)[0] for lvl in range(age.levels)] == row


def test_toy_medical_hierarchies_load(shared_dir):
    df, hierarchies = toy_medical(shared_dir)
    zip_codes = hierarchies["ZIPCode"]
    assert zip_codes.levels == 6
    assert list(zip_codes.generalize(df["ZIPCode"][:1], 2)) == ["476**"]
    disease = hierarchies["Disease"]
    assert disease.generalize(np.array(["flu"]), 1)[0] == "respiratory infection"
    assert disease.missing_values(df["Disease"]) == []


def test_missing_values_are_named_in_the_error():
    hierarchy = Hierarchy.from_rows("sex", [["M", "*"], ["F", "*"]])
    assert hierarchy.missing_values(["M", "X", "Y", "X"]) == ["X", "Y"]
    with pytest.raises(HierarchyError, match=r"'sex'.*'X', 'Y'"):
        hierarchy.generalize(pd.Series(["M", "X", "Y"]), 1)


def test_level_out_of_range_is_refused():
    hierarchy = Hierarchy.from_rows("sex", [["M", "*"], ["F", "*"]])
    with pytest.raises(HierarchyError, match=r"levels 0\.\.1, not 2"):
        hierarchy.generalize(np.array(["M"]), 2)


def test_ragged_and_duplicate_rows_are_refused():
    with pytest.raises(HierarchyError, match="row 1"):
        Hierarchy.from_rows("x", [["a", "*"], ["b"]])
    with pytest.raises(HierarchyError, match="more than once"):
        Hierarchy.from_rows("x", [["a", "*"], ["a", "*"]])


def test_rows_round_trip(tmp_path):
    rows = [["1", "0-4", "*"], ["7", "5-9", "*"]]
    hierarchy = Hierarchy.from_rows("n", rows)
    assert hierarchy.to_rows() == rows
    path = tmp_path / "data_hierarchy_n.csv"
    path.write_text("\n".join(";".join(r) for r in rows) + "\n", encoding="utf-8")
    loaded = Hierarchy.from_arx_csv(path)
    assert loaded.name == "n" and loaded.to_rows() == rows


def test_domain_shares_count_hierarchy_rows_not_data_rows(shared_dir):
    _, hierarchies = adult(shared_dir)
    age = hierarchies["age"]  # 100 values (1..100); level 1 bands of 5
    codes = age.level_codes[1]
    band_of_39 = codes[age.values.index("39")]
    assert age.domain_shares[1][band_of_39] == pytest.approx(5 / 100)
    assert age.domain_shares[0][0] == pytest.approx(1 / 100)


def test_interval_hierarchy_nests_bands_and_top_codes():
    hierarchy = interval_hierarchy("age", [37, 93, 12], widths=[5, 10, 20], top_code=90)
    assert hierarchy.to_rows()[0] == ["37", "35-39", "30-39", "20-39", "*"]
    assert hierarchy.to_rows()[1] == ["93", ">=90", ">=90", ">=90", "*"]
    assert hierarchy.is_functional
    with pytest.raises(HierarchyError, match="not a multiple"):
        interval_hierarchy("age", [1], widths=[5, 7])
    with pytest.raises(HierarchyError, match="'abc' is not a number"):
        interval_hierarchy("age", ["abc"], widths=[5])


def test_date_hierarchy_goes_month_year_decade():
    hierarchy = date_hierarchy("visit", ["2023-04-17", "2019-12-01"])
    assert hierarchy.to_rows()[0] == ["2023-04-17", "2023-04", "2023", "2020s", "*"]
    with pytest.raises(HierarchyError, match="'17/04/2023'"):
        date_hierarchy("visit", ["17/04/2023"])


def test_masking_hierarchy_masks_one_more_character_per_level():
    hierarchy = masking_hierarchy("zip", ["47677", "47602"])
    assert hierarchy.to_rows()[0] == ["47677", "4767*", "476**", "47***", "4****", "*****"]
    mixed = masking_hierarchy("id", ["123", "45"])
    assert mixed.to_rows()[1] == ["45", "4*", "**", "*"]
    assert len(set(mixed.level_labels[-1])) == 1


def test_china_region_codes_roll_up_to_prefecture_and_province():
    hierarchy = china_region_hierarchy("region", ["440106", "110105"])
    assert hierarchy.to_rows()[0] == ["440106", "440100", "440000", "*"]
    # Beijing's districts sit directly under the municipality.
    assert hierarchy.to_rows()[1] == ["110105", "110000", "110000", "*"]
    assert hierarchy.is_functional


def test_china_region_names_use_gbt2260_names_and_refuse_ambiguity():
    hierarchy = china_region_hierarchy("region", ["天河区"])
    assert hierarchy.to_rows()[0] == ["天河区", "广州市", "广东省", "*"]
    with pytest.raises(HierarchyError, match=r"朝阳区.*ambiguous"):
        china_region_hierarchy("region", ["朝阳区"])
    with pytest.raises(HierarchyError, match="'990101'"):
        china_region_hierarchy("region", ["990101"])
