"""The segment filter registry: one module per filter type, each registering itself.

A filter type is a name, a Pydantic model of its parameters and a
``compile(params, ctx)`` that returns a SQL predicate on the correlated
person id (``ctx.person``) — usually a column test on the profile or an
``EXISTS`` over a workflow table. Predicates are combined by the tree
compiler into one set-based query; no filter ever loops over people.

Adding a filter type is adding one module here that calls :func:`register`;
:func:`load_all` imports every module of this package, so nothing else
changes. A filter on health-derived data sets ``health=True``: the compiler
then allows it only for segments of purpose ``marketing.personalized_health``
and adds the person's separate consent to its predicate (C4).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement

from pulsecrm.crm.ids import DAY_US


class Params(BaseModel):
    """Base of every filter's parameters: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


@dataclass(frozen=True)
class CompileContext:
    tenant_id: int
    now_us: int
    purpose: str
    # the person id of the row being tested (person_profile.person_id)
    person: ColumnElement[Any]

    def since(self, days: int) -> int:
        return self.now_us - days * DAY_US


Compiler = Callable[[Any, CompileContext], ColumnElement[bool]]


@dataclass(frozen=True)
class FilterType:
    name: str
    params: type[Params]
    compile: Compiler
    description: str
    # uses health-derived data: purpose marketing.personalized_health + separate consent
    health: bool = False
    # profiles the person (C4: dropped when the person switched personalisation off)
    profiling: bool = True


REGISTRY: dict[str, FilterType] = {}


def register(
    name: str,
    params: type[Params],
    *,
    description: str,
    health: bool = False,
    profiling: bool = True,
) -> Callable[[Compiler], Compiler]:
    """Decorator: ``@register("city", CityParams, description=...)`` over the compile function."""

    def wrap(compile_fn: Compiler) -> Compiler:
        if name in REGISTRY and REGISTRY[name].compile is not compile_fn:
            raise ValueError(f"segment filter {name!r} is registered twice")
        REGISTRY[name] = FilterType(name, params, compile_fn, description, health, profiling)
        return compile_fn

    return wrap


_loaded = False


def load_all() -> dict[str, FilterType]:
    """Import every filter module of this package (once) and return the registry."""
    global _loaded
    if not _loaded:
        for info in pkgutil.iter_modules(__path__):
            if not info.name.startswith("_"):
                importlib.import_module(f"{__name__}.{info.name}")
        _loaded = True
    return REGISTRY


def filter_type(name: str) -> FilterType | None:
    return load_all().get(name)
