"""The kernel a job runs with: one per worker process, built from the environment on first use.

In-process runs (tests, the embedded default) hand theirs in with
``use_kernel`` so the job shares the caller's database and keys.
"""

from __future__ import annotations

import threading

from pulsecrm.kernel.runtime import Kernel
from pulsecrm.settings import Settings
from pulsecrm.wiring import build_app_kernel

_kernel: Kernel | None = None
_lock = threading.Lock()


def use_kernel(kernel: Kernel | None) -> None:
    global _kernel
    with _lock:
        _kernel = kernel


def current_kernel() -> Kernel:
    global _kernel
    with _lock:
        if _kernel is None:
            _kernel = build_app_kernel(Settings())
        return _kernel
