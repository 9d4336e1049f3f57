"""The GB/T 37964-2019 de-identification process record.

GB/T 37964 describes de-identification as a process — define the goal,
identify identifiers and quasi-identifiers, choose and apply methods, verify
the result, approve, and keep monitoring — and expects evidence of each step.
Every pipeline run produces a :class:`ProcessRecord` holding exactly that
evidence. It is a plain JSON-serialisable dataclass so the kernel can later
write it as an audited artefact without knowing anything about pandas.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

STANDARD = "GB/T 37964-2019"


@dataclass(frozen=True)
class ColumnMethod:
    """How one column was processed (step 3, 选择和实施去标识化方法)."""

    column: str
    role: str
    level: int | None
    method: str
    release_form: str
    params: dict[str, Any] = field(default_factory=dict)
    hipaa_identifier: str | None = None


@dataclass(frozen=True)
class Verification:
    """The re-check of the released data (step 4, 验证).

    ``k_achieved`` is the smallest equivalence class over the quasi-identifiers
    among released rows, measured on the output — not taken from the engine's
    claim — so the record proves what was shipped.
    """

    verified: bool
    k_required: int | None
    k_achieved: int | None
    privacy_models: list[str]
    suppressed_rows: int
    risk: dict[str, float]
    metrics: dict[str, float]
    identifier_scan: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Approval:
    """Who approved the release and when (step 5, 审批)."""

    approver: str | None
    approved_at: str | None

    @property
    def status(self) -> str:
        """``approved`` once an approver and a time are recorded, else ``pending``."""
        return "approved" if self.approver and self.approved_at else "pending"


@dataclass(frozen=True)
class ProcessRecord:
    """The evidence of one de-identification run, step by step."""

    standard: str
    created_at: str
    goal: str
    recipient: str | None
    profile: str
    identifiers: list[str]
    quasi_identifiers: list[str]
    sensitive: list[str]
    insensitive: list[str]
    methods: list[ColumnMethod]
    verification: Verification
    approval: Approval
    monitoring: str
    rows_in: int
    rows_out: int
    config_sha256: str | None = None
    dp_releases: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with the approval status spelled out."""
        data = asdict(self)
        data["approval"]["status"] = self.approval.status
        return data


def process_record(
    *,
    goal: str,
    recipient: str | None,
    profile: str,
    methods: list[ColumnMethod],
    verification: Verification,
    approval: Approval,
    monitoring: str,
    rows_in: int,
    rows_out: int,
    config_sha256: str | None = None,
    dp_releases: list[dict[str, Any]] | None = None,
    now: datetime | None = None,
) -> ProcessRecord:
    """Assemble the record of one run; roles are derived from ``methods``.

    This is the single place that builds the artefact, so when the kernel
    starts storing it as an audited record the call site is this function.
    """
    by_role: dict[str, list[str]] = {}
    for method in methods:
        by_role.setdefault(method.role, []).append(method.column)
    return ProcessRecord(
        standard=STANDARD,
        created_at=(now or datetime.now(UTC)).isoformat(timespec="seconds"),
        goal=goal,
        recipient=recipient,
        profile=profile,
        identifiers=by_role.get("identifying", []),
        quasi_identifiers=by_role.get("quasi", []),
        sensitive=by_role.get("sensitive", []),
        insensitive=by_role.get("insensitive", []),
        methods=methods,
        verification=verification,
        approval=approval,
        monitoring=monitoring,
        rows_in=rows_in,
        rows_out=rows_out,
        config_sha256=config_sha256,
        dp_releases=list(dp_releases or []),
    )
