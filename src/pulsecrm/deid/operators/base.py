"""The operator contract and the registry that names every operator.

An operator turns one column into its released form. Operators are looked up
by name from the YAML config, so adding one means writing a class in its own
module and decorating it with :func:`register_operator` — nothing else in the
pipeline changes (the same shape as Mautic's campaign actions).

Each operator also declares its *release form*: what is left of the original
value after it ran. The GB/T 39725 level gates and the HIPAA Safe Harbor
profile reason about release forms, never about operator names, so a new
operator is judged correctly as soon as it states what it leaves behind.
"""

from __future__ import annotations

import dataclasses
import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import numpy as np
import pandas as pd


class ReleaseForm(enum.StrEnum):
    """What of the original value survives in the output, from least to most."""

    REMOVED = "removed"
    SUPPRESSED = "suppressed"
    PSEUDONYMISED = "pseudonymised"
    GENERALISED = "generalised"
    TRANSFORMED = "transformed"
    ORIGINAL = "original"


class OperatorError(ValueError):
    """A column could not be processed, or an operator was configured wrongly.

    The message always names the column and the rule so the CLI can print it
    as-is, without a stack trace.
    """


@dataclass(frozen=True)
class OperatorContext:
    """What an operator may need beyond its own column.

    ``recipient_key`` is the secret of the recipient of this extract: keyed
    operators (pseudonyms, date shifts) derive from it so two recipients'
    extracts cannot be joined. ``frame`` is the whole input, for operators that
    read a second column (the person id of a date shift).
    """

    frame: pd.DataFrame
    recipient_key: bytes | None = None
    recipient_name: str | None = None


@dataclass(frozen=True)
class Applied:
    """An operator's output: the new column (``None`` = drop it) and rows to drop."""

    values: pd.Series | None
    drop_rows: np.ndarray | None = None


class Operator(ABC):
    """One way of releasing a column. Subclasses are dataclasses of their params."""

    name: ClassVar[str]
    release_form: ClassVar[ReleaseForm]
    needs_recipient_key: ClassVar[bool] = False

    def effective_release_form(self) -> ReleaseForm:
        """The release form of this configured instance (partial operators override it)."""
        return self.release_form

    @abstractmethod
    def apply(self, column: str, values: pd.Series, context: OperatorContext) -> Applied:
        """Return the released form of ``values`` (the column named ``column``)."""

    def describe(self) -> dict[str, Any]:
        """The operator and its parameters, safe to write into a process record.

        Parameters holding objects (hierarchies) are reduced to their names;
        keys never live on operators, so nothing secret can leak from here.
        """
        params: dict[str, Any] = {}
        if dataclasses.is_dataclass(self):
            for f in dataclasses.fields(self):
                value = getattr(self, f.name)
                if isinstance(value, str | int | float | bool | type(None)):
                    params[f.name] = value
                elif isinstance(value, list | tuple):
                    params[f.name] = list(value)
                else:
                    params[f.name] = getattr(value, "name", type(value).__name__)
        return {"operator": self.name, "params": params}


OperatorT = TypeVar("OperatorT", bound=type[Operator])

_REGISTRY: dict[str, type[Operator]] = {}


def register_operator(cls: OperatorT) -> OperatorT:
    """Class decorator: make ``cls`` available under ``cls.name`` in configs."""
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise RuntimeError(f"operator name {cls.name!r} registered twice")
    _REGISTRY[cls.name] = cls
    return cls


def operator_names() -> list[str]:
    """Every registered operator name, sorted (for error messages and docs)."""
    return sorted(_REGISTRY)


def operator_class(name: str) -> type[Operator]:
    """The operator class registered under ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise OperatorError(
            f"unknown operator {name!r}; known operators: {', '.join(operator_names())}"
        ) from None


def build_operator(name: str, params: Mapping[str, Any], *, column: str) -> Operator:
    """Instantiate operator ``name`` with ``params`` for ``column``.

    Wrong or missing parameters become an :class:`OperatorError` naming the
    column, the operator and the accepted parameters.
    """
    cls = operator_class(name)
    accepted: list[str] = (
        [f.name for f in dataclasses.fields(cls)] if dataclasses.is_dataclass(cls) else []
    )
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise OperatorError(
            f"column {column!r}: operator {name!r} has no parameter(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(accepted) or '(none)'}"
        )
    try:
        return cls(**params)
    except (TypeError, ValueError) as exc:
        raise OperatorError(f"column {column!r}: operator {name!r}: {exc}") from exc


def map_unique(values: pd.Series, func: Callable[[Any], Any]) -> pd.Series:
    """Apply a per-value ``func`` once per distinct non-null value.

    Keyed hashes cannot be vectorised, but real columns repeat a lot (person
    ids in a visit table), so computing each distinct value once and
    scattering the results back with numpy indexing keeps the cost at
    O(distinct) HMACs. Nulls stay null.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    mapped = np.array([func(u) for u in uniques] + [None], dtype=object)
    out = mapped[np.where(codes < 0, len(uniques), codes)]
    return pd.Series(out, index=values.index, name=values.name, dtype=object)


def as_text(values: pd.Series) -> pd.Series:
    """``values`` as strings (nulls kept), with integral floats printed without ``.0``.

    CSV readers turn an integer column with a gap into floats; printing
    ``39.0`` for an age would leak the reader's dtype into the release.
    """
    if pd.api.types.is_float_dtype(values):
        non_null = values.dropna()
        if len(non_null) and bool((non_null == np.floor(non_null)).all()):
            values = values.astype("Int64")
    return values.astype("string").astype(object).where(values.notna(), None)
