"""Architecture contracts (pyproject.toml [tool.importlinter]) are part of the test suite.

The vault is the only door to personal data only if nothing else can reach
the keys, ciphers, blind index or ciphertext tables; these contracts make that
mechanical instead of a convention.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.req("E2", "D2")
def test_import_contracts_hold() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    result = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
