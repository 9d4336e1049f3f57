"""docs/compliance-matrix.md is generated from the tests' requirement marks and kept current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_compliance_matrix_is_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/compliance_matrix.py", "--check"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
