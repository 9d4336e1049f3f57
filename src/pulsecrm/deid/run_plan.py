"""Turn a validated config and the input table into a checked plan of work.

This is the "fail before any work" step: everything that needs the data —
unknown or undeclared columns, hierarchies that do not cover a value, k
larger than the table, GB/T 39725 level gates, Safe Harbor operator choices,
DP query columns — is checked here, and each failure is a
:class:`~pulsecrm.deid.config.ConfigError` naming the config file, the key
path and the rule. Nothing is transformed or written until a plan exists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NoReturn

import pandas as pd

from pulsecrm.deid.config import AttributeRole, ColumnSpec, ConfigError, DeidConfig, HierarchySpec
from pulsecrm.deid.hierarchy import (
    Hierarchy,
    HierarchyError,
    china_region_hierarchy,
    date_hierarchy,
    interval_hierarchy,
    masking_hierarchy,
)
from pulsecrm.deid.operators import Operator, OperatorContext, OperatorError, ReleaseForm
from pulsecrm.deid.operators import build_operator as _build_operator
from pulsecrm.deid.operators.base import as_text
from pulsecrm.deid.privacy_models import (
    DistinctLDiversity,
    EntropyLDiversity,
    EqualDistanceTCloseness,
    HierarchicalDistanceTCloseness,
    KAnonymity,
    PrivacyModel,
    RecursiveCLDiversity,
)
from pulsecrm.deid.profiles.level_gates import GatedColumn, gate_violations
from pulsecrm.deid.profiles.process_record import ColumnMethod
from pulsecrm.deid.profiles.safe_harbor import (
    SafeHarborError,
    SafeHarborIdentifier,
    check_operator,
    default_operator,
    resolve_identifier,
)

_IDENTIFYING_FORMS = frozenset(
    {ReleaseForm.REMOVED, ReleaseForm.SUPPRESSED, ReleaseForm.PSEUDONYMISED}
)
# Safe Harbor categories that survive as (coarsened) values and so may be quasi-identifiers.
_SAFE_HARBOR_QI = frozenset(
    {SafeHarborIdentifier.ZIP, SafeHarborIdentifier.DATES, SafeHarborIdentifier.AGE}
)
_BUILDERS: dict[str, Callable[..., Hierarchy]] = {
    "interval": interval_hierarchy,
    "date": date_hierarchy,
    "masking": masking_hierarchy,
    "china_region": china_region_hierarchy,
}


@dataclass
class ColumnPlan:
    """What will happen to one column."""

    name: str
    spec: ColumnSpec
    operator: Operator | None
    hierarchy: Hierarchy | None = None
    hipaa: SafeHarborIdentifier | None = None

    @property
    def role(self) -> AttributeRole:
        """The column's declared role."""
        return self.spec.role

    @property
    def release_form(self) -> ReleaseForm:
        """What leaves: the operator's form, else generalised (QI) or original."""
        if self.operator is not None:
            form = self.operator.effective_release_form()
            if self.role is AttributeRole.QUASI and form is ReleaseForm.ORIGINAL:
                return ReleaseForm.GENERALISED
            return form
        return ReleaseForm.GENERALISED if self.role is AttributeRole.QUASI else ReleaseForm.ORIGINAL

    @property
    def method(self) -> str:
        """Human-readable method, for messages and the process record."""
        steps = [self.operator.name] if self.operator is not None else []
        if self.role is AttributeRole.QUASI and self.hierarchy is not None:
            steps.append(f"engine generalisation over hierarchy {self.hierarchy.name!r}")
        return " then ".join(steps) or "kept"

    def method_record(self, *, level_chosen: int | None = None) -> ColumnMethod:
        """This column's entry of the GB/T 37964 process record."""
        params = self.operator.describe()["params"] if self.operator is not None else {}
        if level_chosen is not None:
            params = {**params, "generalisation_level": level_chosen}
        return ColumnMethod(
            column=self.name,
            role=self.role.value,
            level=self.spec.level,
            method=self.method,
            release_form=self.release_form.value,
            params=params,
            hipaa_identifier=self.hipaa.value if self.hipaa is not None else None,
        )


@dataclass
class RunPlan:
    """A config checked against its data, ready to execute."""

    config: DeidConfig
    columns: list[ColumnPlan]
    undeclared_dropped: list[str] = field(default_factory=list)
    recipient_key: bytes | None = None

    @property
    def quasi_identifiers(self) -> dict[str, Hierarchy]:
        """QI columns and their hierarchies, in config order."""
        return {
            c.name: c.hierarchy
            for c in self.columns
            if c.role is AttributeRole.QUASI and c.hierarchy is not None
        }

    @property
    def sensitive(self) -> list[str]:
        """Sensitive columns, in config order."""
        return [c.name for c in self.columns if c.role is AttributeRole.SENSITIVE]

    def column(self, name: str) -> ColumnPlan:
        """The plan of column ``name``."""
        return next(c for c in self.columns if c.name == name)

    def privacy_models(self) -> list[PrivacyModel]:
        """The engine's model objects for ``config.privacy``."""
        privacy = self.config.privacy
        models: list[PrivacyModel] = []
        if privacy.k is not None:
            models.append(KAnonymity(privacy.k))
        for spec in privacy.l_diversity:
            if spec.variant == "distinct":
                models.append(DistinctLDiversity(spec.attribute, int(spec.l)))
            elif spec.variant == "entropy":
                models.append(EntropyLDiversity(spec.attribute, spec.l))
            else:
                assert spec.c is not None
                models.append(RecursiveCLDiversity(spec.attribute, spec.c, int(spec.l)))
        for t_spec in privacy.t_closeness:
            if t_spec.distance == "equal":
                models.append(EqualDistanceTCloseness(t_spec.attribute, t_spec.t))
            else:
                hierarchy = self.column(t_spec.attribute).hierarchy
                assert hierarchy is not None
                models.append(HierarchicalDistanceTCloseness(t_spec.attribute, t_spec.t, hierarchy))
        return models


def plan_run(config: DeidConfig, frame: pd.DataFrame) -> RunPlan:
    """Check ``config`` against ``frame`` and return the plan, or raise ``ConfigError``."""
    fail = _Failer(config)
    declared = list(config.columns)
    missing = [name for name in declared if name not in frame.columns]
    if missing:
        fail(
            f"column(s) {', '.join(map(repr, missing))} not in the input "
            f"(input has: {', '.join(map(str, frame.columns))})",
            f"columns.{missing[0]}",
        )
    undeclared = [str(c) for c in frame.columns if c not in config.columns]
    if undeclared and config.undeclared_columns == "error":
        fail(
            f"input column(s) {', '.join(map(repr, undeclared))} have no entry; declare them "
            "or set undeclared_columns: drop",
            "columns",
        )
    recipient_key = config.recipient_key()
    plans = [_plan_column(config, name, spec, frame, fail) for name, spec in config.columns.items()]
    _check_roles_and_gates(plans, fail)
    plan = RunPlan(config, plans, undeclared, recipient_key)
    _check_hierarchies(plan, frame, fail)
    _check_models(plan, frame, fail)
    _check_dp(config, frame, fail)
    return plan


class _Failer:
    """Raises ``ConfigError`` bound to the config's file."""

    def __init__(self, config: DeidConfig) -> None:
        self._file = config.source

    def __call__(self, rule: str, key_path: str) -> NoReturn:
        raise ConfigError(rule, file=self._file, key_path=key_path)


def _plan_column(
    config: DeidConfig,
    name: str,
    spec: ColumnSpec,
    frame: pd.DataFrame,
    fail: _Failer,
) -> ColumnPlan:
    key = f"columns.{name}"
    hipaa: SafeHarborIdentifier | None = None
    if config.profile == "safe_harbor":
        try:
            hipaa = resolve_identifier(name, spec.hipaa)
        except SafeHarborError as exc:
            fail(str(exc), f"{key}.hipaa")
    hierarchy = (
        _build_hierarchy(config, name, spec.hierarchy, frame, fail) if spec.hierarchy else None
    )
    operator: Operator | None = None
    try:
        if spec.operator is not None:
            params = dict(spec.params)
            if spec.operator == "generalize":
                params["hierarchy"] = hierarchy
            operator = _build_operator(spec.operator, params, column=name)
        elif hipaa is not None:
            operator = default_operator(hipaa, column=name)
        elif spec.role is AttributeRole.IDENTIFYING:
            # The safe default: an identifying column nobody said how to release is removed.
            operator = _build_operator("redact", {}, column=name)
    except OperatorError as exc:
        fail(str(exc), f"{key}.operator")
    if hipaa is not None and operator is not None:
        try:
            check_operator(hipaa, operator, column=name)
        except SafeHarborError as exc:
            fail(str(exc), f"{key}.operator")
        if spec.role is AttributeRole.QUASI and hipaa not in _SAFE_HARBOR_QI:
            fail(
                f"column {name!r} is a Safe Harbor identifier ({hipaa.value}) and is removed, "
                "so it cannot be a quasi-identifier",
                f"{key}.role",
            )
    person_column = getattr(operator, "person_column", None)
    if person_column is not None and person_column not in frame.columns:
        fail(
            f"column {name!r}: person_column {person_column!r} is not in the input",
            f"{key}.params.person_column",
        )
    return ColumnPlan(name, spec, operator, hierarchy, hipaa)


def _build_hierarchy(
    config: DeidConfig,
    name: str,
    spec: HierarchySpec,
    frame: pd.DataFrame,
    fail: _Failer,
) -> Hierarchy:
    key = f"columns.{name}.hierarchy"
    try:
        if spec.file is not None:
            path = config.resolve_path(spec.file)
            if not path.is_file():
                fail(f"hierarchy file {str(path)!r} does not exist", f"{key}.file")
            return Hierarchy.from_arx_csv(path, name=name, sep=spec.sep)
        assert spec.builder is not None
        values = as_text(frame[name]).dropna().unique().tolist() if name in frame.columns else []
        return _BUILDERS[spec.builder](name, values, **spec.params)
    except TypeError as exc:
        fail(f"builder {spec.builder!r}: {exc}", f"{key}.params")
    except (HierarchyError, OSError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        fail(str(exc), key)


def _check_roles_and_gates(plans: list[ColumnPlan], fail: _Failer) -> None:
    for plan in plans:
        if plan.role is AttributeRole.IDENTIFYING and plan.release_form not in _IDENTIFYING_FORMS:
            fail(
                f"column {plan.name!r} is identifying and must be removed, suppressed or "
                f"pseudonymised, but {plan.method!r} releases it {plan.release_form.value}",
                f"columns.{plan.name}.operator",
            )
    gated = [GatedColumn(p.name, p.spec.level, p.release_form, p.method) for p in plans]
    problems = gate_violations(gated)
    if problems:
        first = next(p for p in gated if p.level in (4, 5) and any(p.name in m for m in problems))
        fail("; ".join(problems), f"columns.{first.name}.level")


def engine_input(plan: ColumnPlan, values: pd.Series, context: OperatorContext) -> pd.Series:
    """The values the engine generalises: after the column's own operator, as text.

    Nulls become the empty string, so a hierarchy must list ``""`` to cover them
    — an empty cell is a value an attacker can see too.
    """
    if plan.operator is not None:
        applied = plan.operator.apply(plan.name, values, context)
        if applied.values is not None:
            values = applied.values
    return as_text(values).fillna("")


def _check_hierarchies(plan: RunPlan, frame: pd.DataFrame, fail: _Failer) -> None:
    context = OperatorContext(frame=frame, recipient_key=plan.recipient_key)
    for column in plan.columns:
        if column.hierarchy is None or column.role not in (
            AttributeRole.QUASI,
            AttributeRole.SENSITIVE,
        ):
            continue
        try:
            values = engine_input(column, frame[column.name], context)
        except OperatorError as exc:
            fail(str(exc), f"columns.{column.name}.operator")
        missing = column.hierarchy.missing_values(values.unique())
        if missing:
            shown = ", ".join(repr(v) for v in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            fail(
                f"hierarchy of column {column.name!r} has no entry for {shown}{more}",
                f"columns.{column.name}.hierarchy",
            )


def _check_models(plan: RunPlan, frame: pd.DataFrame, fail: _Failer) -> None:
    k = plan.config.privacy.k
    if k is not None and k > len(frame):
        fail(f"k={k} is larger than the input ({len(frame)} rows)", "privacy.k")
    try:
        plan.privacy_models()
    except ValueError as exc:
        fail(str(exc), "privacy")


def _check_dp(config: DeidConfig, frame: pd.DataFrame, fail: _Failer) -> None:
    if config.dp is None:
        return
    for i, query in enumerate(config.dp.queries):
        key = f"dp.queries[{i}]"
        if query.column is not None and query.column not in frame.columns:
            fail(f"DP query {query.name!r}: column {query.column!r} is not in the input", key)
        for where_column in query.where or {}:
            if where_column not in frame.columns:
                fail(
                    f"DP query {query.name!r}: where-column {where_column!r} is not in the input",
                    f"{key}.where",
                )
