"""The recogniser registry: which recognisers run, keyed by name.

Why a registry: adding a recogniser family (say, a Hong Kong ID) should be
adding a module and one ``register`` line, not editing the scrubber. Each
recogniser declares the types it can emit, so a caller who asks only for
``{"PHONE"}`` does not pay for the name and address passes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from pulsecrm.deid.text.addresses import AddressRecogniser
from pulsecrm.deid.text.dates import DateOfBirthRecogniser
from pulsecrm.deid.text.finance import BankCardRecogniser
from pulsecrm.deid.text.findings import Finding
from pulsecrm.deid.text.identity_documents import IdentityDocumentRecogniser
from pulsecrm.deid.text.medical_ids import MedicalRecordRecogniser
from pulsecrm.deid.text.names import NameRecogniser
from pulsecrm.deid.text.network import NetworkRecogniser
from pulsecrm.deid.text.phones import PhoneRecogniser
from pulsecrm.deid.text.wechat import WeChatRecogniser


class Recogniser(Protocol):
    """Anything that finds PII spans in width-folded text."""

    name: str
    types: frozenset[str]

    def find(self, text: str) -> list[Finding]:
        """Return candidate findings (possibly overlapping, any score)."""
        ...


_FACTORIES: dict[str, Callable[[], Recogniser]] = {}


def register(name: str, factory: Callable[[], Recogniser]) -> None:
    """Add (or replace) a recogniser family under ``name``."""
    _FACTORIES[name] = factory
    _instances.clear()


_ALL = "*"
_instances: dict[str, Any] = {}  # name → recogniser, plus _ALL → the tuple of all


def all_recognisers() -> tuple[Recogniser, ...]:
    """One shared instance of every registered recogniser, in registration order."""
    cached = _instances.get(_ALL)
    if cached is not None:
        return cached
    for name, factory in _FACTORIES.items():
        if name not in _instances:
            _instances[name] = factory()
    every = tuple(_instances[name] for name in _FACTORIES)
    _instances[_ALL] = every
    return every


def recognisers_for(types: Iterable[str] | None) -> tuple[Recogniser, ...]:
    """The recognisers able to emit at least one of ``types`` (all when ``None``)."""
    every = all_recognisers()
    if types is None:
        return every
    wanted = frozenset(types)
    return tuple(r for r in every if r.types & wanted)


register("phones", PhoneRecogniser)
register("identity_documents", IdentityDocumentRecogniser)
register("finance", BankCardRecogniser)
register("network", NetworkRecogniser)
register("wechat", WeChatRecogniser)
register("dates", DateOfBirthRecogniser)
register("medical_ids", MedicalRecordRecogniser)
register("addresses", AddressRecogniser)
register("names", NameRecogniser)
