"""The composition root: build a kernel with every capability's hooks plugged in.

The kernel may not import capabilities (dependencies point inward), so the
adapters (CLI, API, web, jobs) build their kernel here, where capability
packages hand the kernel their hooks — today the consent module's answer to
"who may be processed for this purpose now?".
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pulsecrm.consent.hook import LedgerConsentHook
from pulsecrm.kernel.runtime import Kernel, build_kernel
from pulsecrm.settings import Settings


def build_app_kernel(settings: Settings) -> Kernel:
    return build_kernel(settings, consent=LedgerConsentHook())


@contextmanager
def app_kernel(settings: Settings) -> Iterator[Kernel]:
    kernel = build_app_kernel(settings)
    try:
        yield kernel
    finally:
        kernel.close()
