"""Python API: de-identify a pandas or Polars DataFrame in memory.

``deidentify(frame, config)`` returns a frame of the same library and the
same JSON summary the CLI writes. Polars frames are converted to pandas for
the run (operators and the engine work on pandas/numpy) and back, so callers
never see the other library.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl

from pulsecrm.deid.config import DeidConfig, config_from_mapping, load_config
from pulsecrm.deid.pipeline import deidentify_frame

ConfigLike = DeidConfig | Mapping[str, Any] | str | Path


def as_config(config: ConfigLike, *, base_dir: Path | str | None = None) -> DeidConfig:
    """A validated config from a config object, a mapping, or a YAML file path."""
    if isinstance(config, DeidConfig):
        return config
    if isinstance(config, str | Path):
        return load_config(config)
    return config_from_mapping(dict(config), base_dir=base_dir)


def deidentify(
    frame: pd.DataFrame | pl.DataFrame,
    config: ConfigLike,
    *,
    base_dir: Path | str | None = None,
) -> tuple[pd.DataFrame | pl.DataFrame, dict[str, Any]]:
    """De-identify ``frame`` per ``config``; return (released frame, summary).

    ``base_dir`` resolves relative hierarchy and key-file paths when ``config``
    is a mapping (a YAML path resolves against its own folder).
    """
    resolved = as_config(config, base_dir=base_dir)
    if isinstance(frame, pl.DataFrame):
        outcome = deidentify_frame(frame.to_pandas(), resolved)
        return pl.from_pandas(outcome.data), outcome.summary
    if isinstance(frame, pd.DataFrame):
        outcome = deidentify_frame(frame, resolved)
        return outcome.data, outcome.summary
    raise TypeError(f"expected a pandas or Polars DataFrame, got {type(frame).__name__}")
