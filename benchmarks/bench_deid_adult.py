"""Adult (30 162 rows, 9 QIs): our optimal search against ARX's published figures.

Times are end-to-end ``anonymize()`` (encoding, search, release, metrics, risk and
the independent verification), median of 3 runs on this machine; the search alone
is printed in a comment.  Baselines are ARX's optimal search on a 2-core machine.

Run: ``uv run python benchmarks/bench_deid_adult.py``
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import pandas as pd

from pulsecrm.deid.engine import AnonymizationSpec, anonymize
from pulsecrm.deid.hierarchy import Hierarchy
from pulsecrm.deid.privacy_models import DistinctLDiversity, KAnonymity, PrivacyModel

COLUMNS = [
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

# name, k, suppression limit, distinct-l on occupation, ARX seconds, ARX Loss
CASES = [
    ("k2", 2, 0.05, None, 1.33, 0.169),
    ("k5", 5, 0.05, None, 1.28, 0.242),
    ("k10", 10, 0.05, None, 1.25, 0.291),
    ("k50", 50, 0.05, None, 0.62, 0.409),
    ("k5_nosupp", 5, 0.0, None, 0.09, 0.573),
    ("k5_l3", 5, 0.05, 3, 0.55, 0.172),
]


def shared_dir() -> Path:
    here = Path(__file__).resolve().parents[1]
    for candidate in (here.parent / "shared", here / "shared"):
        if candidate.is_dir():
            return candidate
    sys.exit("cannot find ../shared")


def main() -> None:
    folder = shared_dir() / "data" / "adult"
    df = pd.read_csv(folder / "adult.csv", sep=";", dtype=str, keep_default_na=False)
    hierarchies = {c: Hierarchy.from_arx_csv(folder / f"adult_hierarchy_{c}.csv") for c in COLUMNS}
    for name, k, limit, l_div, arx_seconds, arx_loss in CASES:
        qis = dict(hierarchies)
        models: list[PrivacyModel] = [KAnonymity(k)]
        if l_div is not None:
            del qis["occupation"]  # sensitive attribute, as in ARX's run
            models.append(DistinctLDiversity("occupation", l_div))
        spec = AnonymizationSpec(qis, models, suppression_limit=limit)
        times, search, lattice = [], [], []
        for _ in range(3):
            started = time.perf_counter()
            result = anonymize(df, spec)
            times.append(time.perf_counter() - started)
            search.append(result.metrics["seconds"])
            lattice.append(result.metrics["search_seconds"])
        assert result.verified
        seconds = statistics.median(times)
        loss = result.metrics["loss"]
        print(
            f"# {name}: levels={result.levels} classes={int(result.metrics['classes'])} "
            f"suppressed={int(result.metrics['suppressed_rows'])} "
            f"aecs={result.metrics['aecs']:.1f} checked={int(result.metrics['search_checked'])} "
            f"lattice_search={statistics.median(lattice):.3f}s "
            f"encode+search+release={statistics.median(search):.3f}s"
        )
        print(
            f"RESULT deid_adult_{name}_time privacy={seconds:.3f} baseline={arx_seconds} "
            f"ratio={seconds / arx_seconds:.3f} unit=s"
        )
        print(
            f"RESULT deid_adult_{name}_loss privacy={loss:.5f} baseline={arx_loss} "
            f"ratio={loss / arx_loss:.3f} unit=loss"
        )


if __name__ == "__main__":
    main()
