"""Loaders for ARX's reference tables in ``shared/data`` (Adult and the toy medical table)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from pulsecrm.deid.hierarchy import Hierarchy

ADULT_COLUMNS = [
    "sex",
    "age",
    "race",
    "marital-status",
    "education",
    "native-country",
    "workclass",
    "occupation",
    "salary-class",
]


@lru_cache(maxsize=2)
def adult(shared_dir: Path) -> tuple[pd.DataFrame, dict[str, Hierarchy]]:
    """Adult (30 162 rows) and its nine ARX hierarchies, in header order."""
    folder = shared_dir / "data" / "adult"
    df = pd.read_csv(folder / "adult.csv", sep=";", dtype=str, keep_default_na=False)
    hierarchies = {
        column: Hierarchy.from_arx_csv(folder / f"adult_hierarchy_{column}.csv")
        for column in ADULT_COLUMNS
    }
    return df, hierarchies


@lru_cache(maxsize=2)
def toy_medical(shared_dir: Path) -> tuple[pd.DataFrame, dict[str, Hierarchy]]:
    """ARX's 9-row ZIP/Age/Salary/Disease table (Li et al.'s t-closeness example)."""
    folder = shared_dir / "data" / "toy-medical"
    df = pd.read_csv(folder / "test2.csv", sep=";", dtype=str, keep_default_na=False)
    hierarchies = {
        column: Hierarchy.from_arx_csv(folder / f"test2_hierarchy_{column}.csv")
        for column in ("ZIPCode", "Age", "Disease")
    }
    return df, hierarchies
