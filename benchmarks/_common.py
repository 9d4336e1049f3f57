"""Shared bits of the benchmark scripts: a throwaway installation and RESULT lines."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pulsecrm.kernel.installation import initialise
from pulsecrm.settings import Settings


def result(name: str, privacy: float, baseline: float, unit: str) -> None:
    """One figure: the privacy-on value, the plaintext baseline and their ratio."""
    ratio = privacy / baseline if baseline else float("inf")
    print(
        f"RESULT {name} privacy={privacy:.6g} baseline={baseline:.6g} ratio={ratio:.3f} "
        f"unit={unit}",
        flush=True,
    )


def fresh_installation(database_url: str | None = None) -> Settings:
    home = Path(tempfile.mkdtemp(prefix="pulsecrm-bench-"))
    settings = Settings(
        home=home, database_url=database_url or os.environ.get("PULSECRM_BENCH_DATABASE_URL")
    )
    initialise(settings)
    return settings
