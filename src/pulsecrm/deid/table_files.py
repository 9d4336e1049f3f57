"""Reading and writing the tables a de-identification run consumes and produces.

CSV or Parquet, chosen by ``format`` or else by the file extension. CSV input
is read with every column as text: identifiers with leading zeros (ZIP codes,
ID numbers, phone numbers) must reach the operators exactly as written, and
the hierarchies compare values as strings anyway.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

TableFormatName = Literal["csv", "parquet"]
_EXTENSIONS: dict[str, TableFormatName] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class TableFileError(ValueError):
    """A table could not be read or written; the message names the file."""


def table_format(path: Path, explicit: str | None) -> TableFormatName:
    """``explicit`` if given, else the format ``path``'s extension implies."""
    if explicit is not None:
        if explicit not in ("csv", "parquet"):
            raise TableFileError(f"{path}: unknown format {explicit!r} (use csv or parquet)")
        return explicit  # type: ignore[return-value]
    suffix = path.suffix.lower()
    if suffix not in _EXTENSIONS:
        raise TableFileError(
            f"{path}: cannot tell the format from extension {suffix or '(none)'!r}; "
            "use .csv or .parquet, or pass --format"
        )
    return _EXTENSIONS[suffix]


def read_table(
    path: Path, *, fmt: str | None = None, sep: str = ",", encoding: str = "utf-8"
) -> pd.DataFrame:
    """Read ``path`` into a DataFrame (CSV columns as text, empty cells as null)."""
    kind = table_format(path, fmt)
    if not path.is_file():
        raise TableFileError(f"{path}: input file does not exist")
    try:
        if kind == "csv":
            return pd.read_csv(
                path, sep=sep, dtype=str, keep_default_na=False, na_values=[""], encoding=encoding
            )
        return pd.read_parquet(path)
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise TableFileError(f"{path}: cannot read as {kind}: {exc}") from None


def write_table(
    frame: pd.DataFrame,
    path: Path,
    *,
    fmt: str | None = None,
    sep: str = ",",
    encoding: str = "utf-8",
) -> None:
    """Write ``frame`` to ``path`` (no index column)."""
    kind = table_format(path, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "csv":
            frame.to_csv(path, sep=sep, index=False, encoding=encoding)
        else:
            frame.to_parquet(path, index=False)
    except (OSError, ValueError) as exc:
        raise TableFileError(f"{path}: cannot write as {kind}: {exc}") from None
