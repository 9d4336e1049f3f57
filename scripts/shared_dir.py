"""Where the read-only ``shared/`` folder is (data sets, test vectors, requirement texts).

Beside the checkout (``../shared``) or inside it, or — for a fresh clone made
anywhere, as CI does — beside the local repository it was cloned from.
``PULSECRM_SHARED_DIR`` overrides all of these.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def find_shared(root: Path) -> Path | None:
    override = os.environ.get("PULSECRM_SHARED_DIR")
    if override:
        return Path(override)
    candidates = [root.parent / "shared", root / "shared"]
    origin = subprocess.run(
        ["git", "-C", str(root), "config", "--get", "remote.origin.url"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    if origin and Path(origin).is_dir():
        candidates.append(Path(origin).resolve().parent / "shared")
    return next((c for c in candidates if c.is_dir()), None)
