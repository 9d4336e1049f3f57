"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    override = os.environ.get("PULSECRM_SHARED_DIR")
    if override:
        return Path(override)
    for candidate in (REPO_ROOT.parent / "shared", REPO_ROOT / "shared"):
        if candidate.is_dir():
            return candidate
    raise RuntimeError("cannot find ../shared (set PULSECRM_SHARED_DIR)")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the repository (data sets, test vectors)."""
    return _find_shared()
