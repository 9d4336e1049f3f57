"""The YAML config of a de-identification run, validated with pydantic.

A config says, per column, its role (identifying / quasi / sensitive /
insensitive), the operator and its parameters, the hierarchy for
quasi-identifiers, its GB/T 39725 level and optionally its HIPAA identifier
category; then the privacy models, the profile, the recipient whose key
drives pseudonyms, the approval and the DP aggregates. See ``docs/deid.md``.

Everything that can be checked without the data is checked here, and every
failure is a :class:`ConfigError` naming the file, the key path and the rule.
Keys are never accepted inline: the recipient names an environment variable
or a key file, so a config can be committed and reviewed.
"""

from __future__ import annotations

import enum
import os
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

MIN_KEY_BYTES = 16


class ConfigError(ValueError):
    """A config is invalid; the message names the file, the key path and the rule."""

    def __init__(self, rule: str, *, file: Path | str | None = None, key_path: str = "") -> None:
        self.file = str(file) if file is not None else None
        self.key_path = key_path
        self.rule = rule
        where = ": ".join(part for part in (self.file, key_path) if part)
        super().__init__(f"{where}: {rule}" if where else rule)


class AttributeRole(enum.StrEnum):
    """What a column is, which decides how it is protected."""

    IDENTIFYING = "identifying"  # removed or pseudonymised by an operator
    QUASI = "quasi"  # generalised by the anonymisation engine
    SENSITIVE = "sensitive"  # kept, protected by l-diversity / t-closeness
    INSENSITIVE = "insensitive"  # kept as is (or through an operator)


_ROLE_ALIASES = {
    "quasi_identifying": "quasi",
    "quasi-identifying": "quasi",
    "quasi_identifier": "quasi",
    "qi": "quasi",
    "direct": "identifying",
    "identifier": "identifying",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HierarchySpec(_Strict):
    """An ARX CSV file (relative to the config) or a named builder with parameters."""

    file: str | None = None
    sep: str = ";"
    builder: Literal["interval", "date", "masking", "china_region"] | None = None
    params: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> HierarchySpec:
        if (self.file is None) == (self.builder is None):
            raise ValueError("give exactly one of 'file' (ARX CSV) or 'builder'")
        return self


class ColumnSpec(_Strict):
    """How one column is released."""

    role: AttributeRole
    operator: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    hierarchy: HierarchySpec | None = None
    level: int | None = Field(default=None, ge=1, le=5)
    hipaa: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _role_alias(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("role"), str):
            role = data["role"].strip().lower()
            data = {**data, "role": _ROLE_ALIASES.get(role, role)}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ColumnSpec:
        if self.role is AttributeRole.QUASI and self.hierarchy is None:
            raise ValueError("a quasi-identifier needs a 'hierarchy' for the engine to generalise")
        if self.operator == "generalize" and self.hierarchy is None:
            raise ValueError("operator 'generalize' needs a 'hierarchy'")
        if self.operator is None and self.params:
            raise ValueError("'params' given without an 'operator'")
        return self


class LDiversitySpec(_Strict):
    """One l-diversity requirement on a sensitive column."""

    attribute: str
    l: float = Field(gt=0)  # noqa: E741 (the literature's name)
    variant: Literal["distinct", "entropy", "recursive"] = "distinct"
    c: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _c_for_recursive(self) -> LDiversitySpec:
        if self.variant == "recursive" and self.c is None:
            raise ValueError("recursive (c,l)-diversity needs 'c'")
        if self.variant != "entropy" and not float(self.l).is_integer():
            raise ValueError(f"{self.variant} l-diversity needs an integer l, got {self.l}")
        return self


class TClosenessSpec(_Strict):
    """One t-closeness requirement on a sensitive column."""

    attribute: str
    t: float = Field(ge=0, le=1)
    distance: Literal["equal", "hierarchical"] = "equal"


class PrivacySpec(_Strict):
    """The privacy models the engine must meet over the quasi-identifiers."""

    k: int | None = Field(default=None, ge=1)
    l_diversity: list[LDiversitySpec] = Field(default_factory=list)
    t_closeness: list[TClosenessSpec] = Field(default_factory=list)
    suppression_limit: float = Field(default=0.0, ge=0, le=1)
    algorithm: Literal["optimal", "mondrian"] = "optimal"
    metric: Literal["loss", "discernibility", "aecs", "entropy"] = "loss"

    @property
    def has_models(self) -> bool:
        """Whether any model is configured (else the engine is not needed)."""
        return self.k is not None or bool(self.l_diversity) or bool(self.t_closeness)


class RecipientSpec(_Strict):
    """Who receives the extract; their secret keys pseudonyms and date shifts."""

    name: str = Field(min_length=1)
    key_env: str | None = None
    key_file: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_inline_key(cls, data: Any) -> Any:
        if isinstance(data, dict) and {"key", "secret"} & set(data):
            raise ValueError(
                "inline keys are not allowed; name an environment variable ('key_env') "
                "or a key file ('key_file')"
            )
        return data

    @model_validator(mode="after")
    def _one_source(self) -> RecipientSpec:
        if (self.key_env is None) == (self.key_file is None):
            raise ValueError("give exactly one of 'key_env' or 'key_file'")
        return self


class TableFormat(_Strict):
    """How a table is read or written; ``format`` unset = by file extension."""

    format: Literal["csv", "parquet"] | None = None
    sep: str = ","
    encoding: str = "utf-8"


class ApprovalSpec(_Strict):
    """The approval step of GB/T 37964 (who signed the release off, when)."""

    approver: str | None = None
    approved_at: datetime | None = None


class DPQuerySpec(_Strict):
    """One differentially private aggregate of the input."""

    name: str = Field(min_length=1)
    kind: Literal["count", "sum", "mean"]
    column: str | None = None
    bounds: tuple[float, float] | None = None
    epsilon: float | None = Field(default=None, gt=0)
    where: dict[str, str | int | float] | None = None

    @model_validator(mode="after")
    def _needs(self) -> DPQuerySpec:
        if self.kind in ("sum", "mean") and (self.column is None or self.bounds is None):
            raise ValueError(f"a {self.kind} needs 'column' and 'bounds' (clamping range)")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            raise ValueError(f"bounds must be [low, high] with low < high, got {self.bounds}")
        return self


class DPSpec(_Strict):
    """The DP aggregates of a report and the ε they may spend together."""

    epsilon: float = Field(gt=0)
    queries: list[DPQuerySpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits_budget(self) -> DPSpec:
        fixed = sum(q.epsilon for q in self.queries if q.epsilon is not None)
        if fixed > self.epsilon + 1e-9:
            raise ValueError(
                f"the queries ask for epsilon={fixed:g} in total but the budget is {self.epsilon:g}"
            )
        names = [q.name for q in self.queries]
        if len(set(names)) != len(names):
            raise ValueError("query names must be unique")
        if fixed >= self.epsilon - 1e-9 and any(q.epsilon is None for q in self.queries):
            raise ValueError("no epsilon left for the queries that do not set one")
        return self

    def epsilons(self) -> list[float]:
        """Each query's ε: its own, or an even share of what the others leave."""
        fixed = sum(q.epsilon for q in self.queries if q.epsilon is not None)
        open_queries = sum(1 for q in self.queries if q.epsilon is None)
        share = (self.epsilon - fixed) / open_queries if open_queries else 0.0
        return [q.epsilon if q.epsilon is not None else share for q in self.queries]


class DeidConfig(_Strict):
    """A whole de-identification run."""

    version: Literal[1] = 1
    goal: str = Field(min_length=1)
    profile: Literal["none", "safe_harbor"] = "none"
    input: TableFormat = Field(default_factory=TableFormat)
    output: TableFormat = Field(default_factory=TableFormat)
    undeclared_columns: Literal["error", "drop"] = "error"
    columns: dict[str, ColumnSpec] = Field(min_length=1)
    privacy: PrivacySpec = Field(default_factory=PrivacySpec)
    recipient: RecipientSpec | None = None
    approval: ApprovalSpec = Field(default_factory=ApprovalSpec)
    monitoring: str = "re-assess re-identification risk before each new release"
    dp: DPSpec | None = None

    _source: Path | None = PrivateAttr(default=None)
    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)

    @model_validator(mode="after")
    def _cross_checks(self) -> DeidConfig:
        roles = {name: spec.role for name, spec in self.columns.items()}
        protected = [
            *(
                (f"privacy.l_diversity[{i}]", m.attribute)
                for i, m in enumerate(self.privacy.l_diversity)
            ),
            *(
                (f"privacy.t_closeness[{i}]", m.attribute)
                for i, m in enumerate(self.privacy.t_closeness)
            ),
        ]
        for key, attribute in protected:
            if roles.get(attribute) is not AttributeRole.SENSITIVE:
                raise ValueError(
                    f"{key}: attribute {attribute!r} must be a column with role 'sensitive'"
                )
        for i, spec in enumerate(self.privacy.t_closeness):
            if spec.distance == "hierarchical" and self.columns[spec.attribute].hierarchy is None:
                raise ValueError(
                    f"privacy.t_closeness[{i}]: hierarchical distance needs a 'hierarchy' "
                    f"on column {spec.attribute!r}"
                )
        has_qi = AttributeRole.QUASI in roles.values()
        if self.privacy.has_models and not has_qi:
            raise ValueError("privacy: models are configured but no column has role 'quasi'")
        if has_qi and not self.privacy.has_models:
            raise ValueError(
                "privacy: quasi-identifiers are declared but no privacy model (k, l, t)"
            )
        keyed = [n for n, s in self.columns.items() if s.operator in ("pseudonym", "date_shift")]
        if keyed and self.recipient is None:
            raise ValueError(
                f"columns {', '.join(map(repr, keyed))} use keyed operators; add a 'recipient' "
                "with key_env or key_file"
            )
        return self

    @property
    def source(self) -> Path | None:
        """The YAML file this config came from, if any."""
        return self._source

    @property
    def base_dir(self) -> Path:
        """Directory relative paths (hierarchies, key files) are resolved against."""
        return self._base_dir

    def resolve_path(self, relative: str) -> Path:
        """``relative`` resolved against the config's directory."""
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self._base_dir / path

    def recipient_key(self) -> bytes | None:
        """The recipient's secret, read from the environment or the key file."""
        recipient = self.recipient
        if recipient is None:
            return None
        if recipient.key_env is not None:
            value = os.environ.get(recipient.key_env)
            if not value:
                raise ConfigError(
                    f"environment variable {recipient.key_env!r} holding the key of recipient "
                    f"{recipient.name!r} is not set",
                    file=self._source,
                    key_path="recipient.key_env",
                )
            key = value.encode()
            where = "recipient.key_env"
        else:
            assert recipient.key_file is not None
            path = self.resolve_path(recipient.key_file)
            try:
                key = path.read_bytes().strip()
            except OSError as exc:
                raise ConfigError(
                    f"cannot read key file {str(path)!r}: {exc.strerror}",
                    file=self._source,
                    key_path="recipient.key_file",
                ) from None
            where = "recipient.key_file"
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the key of recipient {recipient.name!r} is shorter than {MIN_KEY_BYTES} bytes",
                file=self._source,
                key_path=where,
            )
        return key


def _key_path(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts.append(f"[{item}]")
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def config_from_mapping(
    data: Any, *, source: Path | str | None = None, base_dir: Path | str | None = None
) -> DeidConfig:
    """Validate an already-parsed config (a dict from YAML, JSON or Python)."""
    src = Path(source) if source is not None else None
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping at the top level", file=src)
    try:
        config = DeidConfig.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        located = [
            (_key_path(tuple(error["loc"])), str(error["msg"]).removeprefix("Value error, "))
            for error in errors
        ]
        if len(located) == 1:
            key_path, rule = located[0]
            raise ConfigError(rule, file=src, key_path=key_path) from None
        rule = "; ".join(f"{path or '(top level)'}: {msg}" for path, msg in located)
        raise ConfigError(rule, file=src) from None
    config._source = src
    config._base_dir = (
        Path(base_dir) if base_dir is not None else (src.parent if src else Path.cwd())
    )
    return config


def load_config(path: Path | str) -> DeidConfig:
    """Read and validate a YAML config; relative paths in it resolve against its folder."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read config: {exc.strerror}", file=file) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"invalid YAML: {problem}", file=file, key_path=where) from None
    return config_from_mapping(data, source=file, base_dir=file.resolve().parent)
