"""One de-identification run: config + table in, released table + evidence out.

The steps follow GB/T 37964's process and each is a function call here:

1. **plan** — check the config against the data (:mod:`.run_plan`); nothing
   has been transformed if this fails;
2. **process** — operators release identifying/insensitive columns; the
   anonymisation engine generalises the quasi-identifiers until the privacy
   models hold; suppressed records are removed from the release;
3. **verify** — k is re-measured on the released rows, the engine's own
   re-check is recorded, and under Safe Harbor every released cell is
   scanned for identifier-shaped text;
4. **DP aggregates** — computed on the *input* (noise, not generalisation,
   protects them) within the report's ε budget;
5. **record** — the GB/T 37964 process record and the JSON summary.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pulsecrm.deid.config import AttributeRole, ConfigError, DeidConfig, load_config
from pulsecrm.deid.operators import OperatorContext
from pulsecrm.deid.profiles.process_record import (
    Approval,
    ProcessRecord,
    Verification,
    process_record,
)
from pulsecrm.deid.profiles.safe_harbor import find_identifier_patterns
from pulsecrm.deid.run_plan import RunPlan, engine_input, plan_run
from pulsecrm.deid.table_files import read_table, write_table

if TYPE_CHECKING:  # OpenDP loads in ~0.5 s; runs without DP aggregates never import it
    from pulsecrm.deid.dp import DPRelease, PrivacyBudget

StatusCallback = Callable[[str], None]


@dataclass
class EngineOutcome:
    """What the pipeline keeps of the engine's result."""

    suppressed: np.ndarray
    levels: dict[str, int] | None
    metrics: dict[str, float]
    risk: dict[str, float]
    verified: bool


@dataclass
class DeidOutcome:
    """Everything a run produced; ``summary`` is what ``--json`` prints."""

    data: pd.DataFrame
    summary: dict[str, Any]
    record: ProcessRecord
    class_sizes: np.ndarray
    dp_releases: list[DPRelease] = field(default_factory=list)


def _quiet(_: str) -> None:
    return None


def deidentify_frame(
    frame: pd.DataFrame,
    config: DeidConfig,
    *,
    status: StatusCallback = _quiet,
    population: Any = None,
) -> DeidOutcome:
    """Run ``config`` over ``frame`` and return the release and its evidence."""
    status("checking the config against the data")
    plan = plan_run(config, frame)
    rows_in = len(frame)

    status("applying column operators")
    released, dropped = _apply_operators(plan, frame)

    engine = None
    if plan.quasi_identifiers:
        status(
            f"anonymising {len(plan.quasi_identifiers)} quasi-identifier(s) "
            f"({config.privacy.algorithm}, k={config.privacy.k})"
        )
        engine, released = _anonymise(plan, released, population)

    status("verifying the release")
    qi_columns = list(plan.quasi_identifiers)
    sizes = equivalence_class_sizes(released, qi_columns)
    findings = _scan_safe_harbor(plan, released)

    budget, dp_releases = _dp_aggregates(plan, frame, status)

    k_required = config.privacy.k
    k_achieved = int(sizes.min()) if len(sizes) and qi_columns else None
    verified = (engine.verified if engine is not None else True) and (
        k_required is None or (k_achieved is not None and k_achieved >= k_required)
    )
    suppressed = int(engine.suppressed.sum()) if engine is not None else 0
    verification = Verification(
        verified=verified,
        k_required=k_required,
        k_achieved=k_achieved,
        privacy_models=[_model_label(m) for m in plan.privacy_models()],
        suppressed_rows=suppressed,
        risk=engine.risk if engine is not None else {},
        metrics=engine.metrics if engine is not None else {},
        identifier_scan=[f"{f.column}: {f.pattern} ({f.rows} rows)" for f in findings],
    )
    levels = engine.levels if engine is not None else None
    record = process_record(
        goal=config.goal,
        recipient=config.recipient.name if config.recipient else None,
        profile=config.profile,
        methods=[c.method_record(level_chosen=(levels or {}).get(c.name)) for c in plan.columns],
        verification=verification,
        approval=Approval(
            approver=config.approval.approver,
            approved_at=config.approval.approved_at.isoformat()
            if config.approval.approved_at
            else None,
        ),
        monitoring=config.monitoring,
        rows_in=rows_in,
        rows_out=len(released),
        config_sha256=_config_digest(config),
        dp_releases=[r.to_dict() for r in dp_releases],
    )
    summary: dict[str, Any] = {
        "rows_in": rows_in,
        "rows_out": len(released),
        "suppressed": suppressed,
        "dropped_by_operators": dropped,
        "k": k_achieved,
        "k_required": k_required,
        "levels": levels,
        "algorithm": config.privacy.algorithm if qi_columns else None,
        "metrics": verification.metrics,
        "risk": verification.risk,
        "verified": verified,
        "profile": config.profile,
        "recipient": record.recipient,
        "columns_out": [str(c) for c in released.columns],
        "equivalence_classes": len(sizes),
        "dp": _dp_summary(budget, dp_releases),
        "process_record": record.to_dict(),
    }
    return DeidOutcome(released.reset_index(drop=True), summary, record, sizes, dp_releases)


def equivalence_class_sizes(frame: pd.DataFrame, quasi_identifiers: list[str]) -> np.ndarray:
    """Sizes of the groups of rows sharing all quasi-identifier values (sorted)."""
    if not quasi_identifiers or frame.empty:
        return np.array([len(frame)] if len(frame) else [], dtype=np.int64)
    sizes = frame.groupby(quasi_identifiers, dropna=False, sort=False).size().to_numpy()
    return np.sort(sizes.astype(np.int64))


def _apply_operators(plan: RunPlan, frame: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    context = OperatorContext(
        frame=frame,
        recipient_key=plan.recipient_key,
        recipient_name=plan.config.recipient.name if plan.config.recipient else None,
    )
    columns: dict[str, pd.Series] = {}
    drop = np.zeros(len(frame), dtype=bool)
    for column in plan.columns:
        values = frame[column.name]
        if column.role in (AttributeRole.QUASI, AttributeRole.SENSITIVE):
            columns[column.name] = engine_input(column, values, context)
            continue
        if column.operator is None:
            columns[column.name] = values
            continue
        applied = column.operator.apply(column.name, values, context)
        if applied.drop_rows is not None:
            drop |= applied.drop_rows
        if applied.values is not None:
            columns[column.name] = applied.values
    released = pd.DataFrame(columns, index=frame.index)
    return released.loc[~drop], int(drop.sum())


def _anonymise(
    plan: RunPlan, released: pd.DataFrame, population: Any
) -> tuple[EngineOutcome, pd.DataFrame]:
    # Imported when needed: operators, profiles and DP work without the core engine.
    engine = importlib.import_module("pulsecrm.deid.engine")

    privacy = plan.config.privacy
    spec = engine.AnonymizationSpec(
        quasi_identifiers=plan.quasi_identifiers,
        models=plan.privacy_models(),
        suppression_limit=privacy.suppression_limit,
        algorithm=privacy.algorithm,
        metric=privacy.metric,
        sensitive=plan.sensitive,
    )
    try:
        result = engine.anonymize(released.reset_index(drop=True), spec, population=population)
    except engine.DeidConfigError as exc:
        # The engine's own pre-search checks (e.g. fewer distinct values than l).
        raise ConfigError(str(exc), file=plan.config.source, key_path="privacy") from None
    suppressed = np.asarray(result.suppressed, dtype=bool)
    data = result.data
    if len(data) == len(released) and len(suppressed) == len(data):
        # Suppressed records leave nothing: their sensitive values would still be released.
        data = data.loc[~suppressed]
    qi_names = list(plan.quasi_identifiers)
    levels = dict(zip(qi_names, result.levels, strict=True)) if result.levels is not None else None
    outcome = EngineOutcome(
        suppressed=suppressed,
        levels={k: int(v) for k, v in levels.items()} if levels is not None else None,
        metrics={k: float(v) for k, v in result.metrics.items()},
        risk={k: float(v) for k, v in result.risk.items()},
        verified=bool(result.verified),
    )
    return outcome, data


def _scan_safe_harbor(plan: RunPlan, released: pd.DataFrame) -> list[Any]:
    """Under Safe Harbor, refuse a release that still holds identifier-shaped text."""
    if plan.config.profile != "safe_harbor":
        return []
    findings = find_identifier_patterns(released)
    if findings:
        described = "; ".join(
            f"column {f.column!r} holds {f.rows} {f.pattern}-shaped value(s) (e.g. {f.example})"
            for f in findings
        )
        raise ConfigError(
            f"Safe Harbor check failed — {described}; declare these columns identifying "
            "or give them the matching 'hipaa' category",
            file=plan.config.source,
            key_path=f"columns.{findings[0].column}",
        )
    return findings


def _dp_aggregates(
    plan: RunPlan, frame: pd.DataFrame, status: StatusCallback
) -> tuple[PrivacyBudget | None, list[DPRelease]]:
    dp_spec = plan.config.dp
    if dp_spec is None:
        return None, []
    status(f"computing {len(dp_spec.queries)} DP aggregate(s), epsilon={dp_spec.epsilon:g}")
    from pulsecrm.deid.dp import DPAggregator, PrivacyBudget

    budget = PrivacyBudget(dp_spec.epsilon)
    aggregator = DPAggregator(frame, budget)
    for query, epsilon in zip(dp_spec.queries, dp_spec.epsilons(), strict=True):
        where = dict(query.where) if query.where else None
        if query.kind == "count":
            aggregator.count(query.name, epsilon=epsilon, where=where)
        else:
            assert query.column is not None and query.bounds is not None
            run = aggregator.sum if query.kind == "sum" else aggregator.mean
            run(query.name, column=query.column, bounds=query.bounds, epsilon=epsilon, where=where)
    return budget, aggregator.releases


def _dp_summary(budget: PrivacyBudget | None, releases: list[DPRelease]) -> dict[str, Any] | None:
    if budget is None:
        return None
    from pulsecrm.deid.dp import ACCOUNTING

    return {
        "accounting": ACCOUNTING,
        "epsilon_budget": budget.epsilon,
        "epsilon_spent": budget.spent,
        "releases": [r.to_dict() for r in releases],
    }


def _model_label(model: Any) -> str:
    params = {k: v for k, v in vars(model).items() if not k.startswith("_") and k != "hierarchy"}
    inner = ", ".join(f"{k}={v}" for k, v in params.items())
    return f"{model.name}({inner})"


def _config_digest(config: DeidConfig) -> str:
    """SHA-256 of the validated config, so a record can be matched to its config."""
    canonical = json.dumps(config.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class RunFiles:
    """Where a file-based run reads and writes."""

    config: Path
    input: Path
    output: Path
    input_format: str | None = None
    output_format: str | None = None


def run_files(
    files: RunFiles, *, status: StatusCallback = _quiet
) -> tuple[DeidConfig, DeidOutcome]:
    """Load the config, read the input, de-identify and write the output table.

    The report and the summary file are written by the caller (the CLI),
    which decides their paths; this function stops at the released table so
    no file appears when the run fails.
    """
    status(f"loading config {files.config}")
    config = load_config(files.config)
    status(f"reading {files.input}")
    frame = read_table(
        files.input,
        fmt=files.input_format or config.input.format,
        sep=config.input.sep,
        encoding=config.input.encoding,
    )
    outcome = deidentify_frame(frame, config, status=status)
    status(f"writing {files.output}")
    write_table(
        outcome.data,
        files.output,
        fmt=files.output_format or config.output.format,
        sep=config.output.sep,
        encoding=config.output.encoding,
    )
    return config, outcome
