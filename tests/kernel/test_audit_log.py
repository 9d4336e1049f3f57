"""The audit log is append-only and any tampering behind the system's back is found (H6)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from pulsecrm.cli.main import app
from pulsecrm.kernel.audit_log import write_checkpoint
from pulsecrm.store.append_only import create_statements, drop_statements
from tests.helpers import audit_rows, ctx, import_synthetic

runner = CliRunner()


def _verify(*extra: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["audit", "verify", "--json", *extra])
    return result.exit_code, json.loads(result.output)


def _populate(kernel) -> int:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 40)
    consultant = ctx(kernel)
    subjects = [r["subject"] for r in audit_rows(kernel, action="create")]
    for subject in subjects[:30]:
        kernel.vault.read(consultant, [subject], ["phone"], reveal=True)
    tenant_id = kernel.tenant_id()
    with kernel.engine.begin() as conn:
        write_checkpoint(conn, tenant_id)
    return len(audit_rows(kernel))


def _tamper(kernel, *statements: str, params: dict[str, object] | None = None) -> None:  # type: ignore[no-untyped-def]
    """Someone with database access drops the triggers and edits the log."""
    dialect = kernel.engine.dialect.name
    with kernel.engine.begin() as conn:
        for statement in drop_statements(dialect, "audit_entry"):
            conn.execute(text(statement))
        for statement in statements:
            conn.execute(text(statement), params or {})
        for statement in create_statements(dialect, "audit_entry"):
            conn.execute(text(statement))


@pytest.mark.req("H6")
def test_update_and_delete_are_refused_by_the_database(kernel) -> None:  # type: ignore[no-untyped-def]
    _populate(kernel)
    for statement in (
        "UPDATE audit_entry SET actor = 'someone.else' WHERE seq = 3",
        "DELETE FROM audit_entry WHERE seq = 3",
        "DELETE FROM audit_checkpoint",
    ):
        with pytest.raises(DBAPIError, match="append-only"), kernel.engine.begin() as conn:
            conn.execute(text(statement))


@pytest.mark.req("H6")
def test_intact_log_verifies_with_its_entry_count(kernel) -> None:  # type: ignore[no-untyped-def]
    count = _populate(kernel)
    kernel.close()
    code, report = _verify()
    assert code == 0 and report["ok"] and report["entries"] == count
    assert report["checkpoints"] >= 1


@pytest.mark.req("H6")
@pytest.mark.parametrize(
    ("statements", "first_bad"),
    [
        (["UPDATE audit_entry SET actor = 'intruder' WHERE seq = 17"], 17),
        (["UPDATE audit_entry SET outcome = 'denied' WHERE seq = 5"], 5),
        (["DELETE FROM audit_entry WHERE seq = 23"], 23),
        # swap two entries' content (everything but their positions)
        (
            [
                "UPDATE audit_entry SET seq = -1 WHERE seq = 11",
                "UPDATE audit_entry SET seq = 11 WHERE seq = 12",
                "UPDATE audit_entry SET seq = 12 WHERE seq = -1",
            ],
            11,
        ),
        # insert: shift later entries up and put a forged one in the gap
        (
            [
                "UPDATE audit_entry SET seq = seq + 1000000 WHERE seq >= 30",
                "UPDATE audit_entry SET seq = seq - 999999 WHERE seq >= 1000000",
                "INSERT INTO audit_entry (tenant_id, seq, ts_us, actor, role, purpose, action, "
                "outcome, subject, fields, detail, leaf_hash) SELECT tenant_id, 30, ts_us, actor, "
                "role, purpose, action, outcome, subject, fields, detail, leaf_hash "
                "FROM audit_entry WHERE seq = 29",
            ],
            30,
        ),
    ],
    ids=["changed-actor", "changed-outcome", "deleted", "swapped", "inserted"],
)
def test_verify_names_the_first_bad_entry(kernel, statements, first_bad) -> None:  # type: ignore[no-untyped-def]
    _populate(kernel)
    _tamper(kernel, *statements)
    kernel.close()
    code, report = _verify()
    assert code == 1 and not report["ok"]
    assert report["first_bad_entry"] == first_bad, report["problems"]


@pytest.mark.req("H6")
def test_entry_appended_behind_the_systems_back_is_not_covered(kernel) -> None:  # type: ignore[no-untyped-def]
    count = _populate(kernel)
    _tamper(
        kernel,
        "INSERT INTO audit_entry (tenant_id, seq, ts_us, actor, role, purpose, action, "
        "outcome, subject, fields, detail, leaf_hash) SELECT tenant_id, seq + 1, ts_us, actor, "
        "role, purpose, action, outcome, subject, fields, detail, leaf_hash "
        f"FROM audit_entry WHERE seq = {count}",
    )
    kernel.close()
    code, report = _verify()
    assert code == 1 and report["first_bad_entry"] == count + 1


@pytest.mark.req("H6")
def test_rewritten_leaf_hashes_are_still_caught_by_the_signed_root(kernel) -> None:  # type: ignore[no-untyped-def]
    """A careful intruder recomputes the stored leaf hash too; the signed root disagrees."""
    from pulsecrm.kernel.audit_records import canonical_bytes
    from pulsecrm.kernel.merkle import leaf_hash

    _populate(kernel)
    row = audit_rows(kernel, seq=9)[0]
    row["actor"] = "intruder"
    forged = leaf_hash(
        canonical_bytes(
            **{
                k: row[k]
                for k in (
                    "tenant_id",
                    "seq",
                    "ts_us",
                    "actor",
                    "role",
                    "purpose",
                    "action",
                    "outcome",
                    "subject",
                    "fields",
                    "detail",
                )
            }
        )
    )
    _tamper(
        kernel,
        "UPDATE audit_entry SET actor = 'intruder', leaf_hash = :h WHERE seq = 9",
        params={"h": forged},
    )
    kernel.close()
    code, report = _verify()
    assert code == 1
    assert report["first_bad_entry"] is not None and report["first_bad_entry"] <= 9


@pytest.mark.req("H6")
def test_forged_checkpoint_signature_fails(kernel) -> None:  # type: ignore[no-untyped-def]
    _populate(kernel)
    with kernel.engine.begin() as conn:
        conn.execute(text("UPDATE audit_head SET signature = :s"), {"s": bytes(64)})
    kernel.close()
    code, report = _verify()
    assert code == 1 and any("signature" in p for p in report["problems"])  # type: ignore[union-attr]


@pytest.mark.req("H6")
def test_export_verifies_offline_and_catches_edits(kernel, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    count = _populate(kernel)
    kernel.close()
    export = tmp_path / "audit.jsonl"
    result = runner.invoke(app, ["audit", "export", str(export)])
    assert result.exit_code == 0, result.output
    key = runner.invoke(app, ["audit", "public-key"]).output.strip()
    code, report = _verify("--export", str(export), "--public-key", key)
    assert code == 0 and report["entries"] >= count
    # A different pinned key refuses the file's signatures.
    other = base64.b64encode(bytes(range(32))).decode()
    code, report = _verify("--export", str(export), "--public-key", other)
    assert code == 1
    lines = export.read_text(encoding="utf-8").splitlines()
    entry = json.loads(lines[5])
    entry["purpose"] = "compliance.audit"
    lines[5] = json.dumps(entry, ensure_ascii=False)
    export.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, report = _verify("--export", str(export), "--public-key", key)
    assert code == 1 and report["first_bad_entry"] == entry["seq"]


@given(
    st.integers(min_value=1, max_value=10**6),
    st.integers(min_value=1, max_value=2**53),
    st.text(),
    st.one_of(st.none(), st.text()),
    st.text(),
)
def test_canonical_bytes_are_exactly_compact_json(
    tenant: int, seq: int, actor: str, subject: str | None, detail: str
) -> None:
    from pulsecrm.kernel.audit_records import canonical_bytes

    fields = dict(
        tenant_id=tenant,
        seq=seq,
        ts_us=seq * 7,
        actor=actor,
        role="consultant",
        purpose="service.appointment",
        action="read",
        outcome="allowed",
        subject=subject,
        fields="name,phone",
        detail=detail,
    )
    expected = json.dumps([1, *fields.values()], ensure_ascii=False, separators=(",", ":"))
    assert canonical_bytes(**fields) == expected.encode("utf-8")
