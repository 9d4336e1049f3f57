"""Master-key rotation, retirement and crypto-shredding (E2, F5)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from pulsecrm.cli.main import app
from pulsecrm.kernel.runtime import build_kernel
from tests.helpers import audit_rows, ctx, import_synthetic

runner = CliRunner()


def _cli(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.req("E2")
def test_rotate_then_retire_old_master_key_keeps_everyone_readable(kernel, installed) -> None:  # type: ignore[no-untyped-def]
    _, people = import_synthetic(kernel, 300)
    subjects = [r["subject"] for r in audit_rows(kernel, action="create")]
    kernel.close()
    code, out = _cli("keys", "retire", "1")
    assert code == 2 and "rotate" in out  # refused while keys are wrapped under v1
    code, out = _cli("keys", "rotate", "--batch", "70")
    assert code == 0, out
    code, out = _cli("keys", "status", "--json")
    status = json.loads(out)
    assert status["active_version"] == 2
    assert {v["version"]: v["wrapped_keys"] for v in status["versions"]}[1] == 0
    code, out = _cli("keys", "retire", "1")
    assert code == 0, out
    assert not (Path(installed.key_dir) / "kek-v1.key").exists()
    fresh = build_kernel(installed)
    try:
        views = fresh.vault.read(ctx(fresh), subjects, ["phone"], reveal=True)
        assert sorted(v.values["phone"] for v in views) == sorted(
            "+86" + p["phone"] for p in people
        )
        assert not any(v.failed for v in views)
    finally:
        fresh.close()


@pytest.mark.req("E2")
def test_rotation_resumes_after_interruption(kernel) -> None:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 50)
    keystore = kernel.keystore
    target = keystore.provider.create_version()
    assert keystore.rewrap_batch(target, 20) == 20 + 2  # 20 data keys + the tenant secrets
    assert keystore.stale_count(target) == 30
    while keystore.rewrap_batch(target, 20):
        pass
    assert keystore.stale_count(target) == 0


@pytest.mark.req("E2", "F5")
def test_pre_shred_copy_of_the_database_cannot_be_read_for_the_shredded_person(
    kernel, installed, backend, db_url, tmp_path, request
) -> None:  # type: ignore[no-untyped-def]
    _, people = import_synthetic(kernel, 5)
    victim, survivor = [r["subject"] for r in audit_rows(kernel, action="create")][:2]
    kernel.close()
    # Take the copy before shredding.
    if backend == "sqlite":
        source = Path(db_url.removeprefix("sqlite:///"))
        copy = tmp_path / "before-shred.db"
        shutil.copy(source, copy)
        for suffix in ("-wal", "-shm"):
            if Path(str(source) + suffix).exists():
                shutil.copy(str(source) + suffix, str(copy) + suffix)
        copy_url = f"sqlite:///{copy}"
    else:
        admin = request.getfixturevalue("pg_admin")
        name = db_url.rsplit("/", 1)[1]
        copy_name = name + "_copy"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{copy_name}" TEMPLATE "{name}"'))
        request.addfinalizer(
            lambda: admin.connect().execute(
                text(f'DROP DATABASE IF EXISTS "{copy_name}" WITH (FORCE)')
            )
        )
        copy_url = db_url.rsplit("/", 1)[0] + "/" + copy_name
    live = build_kernel(installed)
    try:
        officer = ctx(live, "privacy_officer", "compliance.dsr")
        with live.engine.begin() as conn:
            assert live.vault.shred(conn, officer, [victim]) == 1
        [gone] = live.vault.read(officer, [victim], ["phone", "gender", "city"], reveal=True)
        assert gone.values == {}  # identity and pseudonymous profile are both erased
    finally:
        live.close()
    old = build_kernel(installed.model_copy(update={"database_url": copy_url}))
    try:
        officer = ctx(old, "privacy_officer", "compliance.dsr", actor="test.officer2")
        views = {
            v.subject_id: v
            for v in old.vault.read(officer, [victim, survivor], ["name", "phone"], reveal=True)
        }
        assert views[victim].failed == {"name": "key destroyed", "phone": "key destroyed"}
        assert views[victim].values == {}
        assert views[survivor].values["phone"].startswith("+86")
    finally:
        old.close()
    assert all(p["phone"] not in str(views[victim]) for p in people)


@pytest.mark.req("F5")
def test_restored_key_store_backup_is_shredded_again_by_replay(kernel, installed) -> None:  # type: ignore[no-untyped-def]
    import_synthetic(kernel, 3)
    victim = audit_rows(kernel, action="create")[0]["subject"]
    keystore_file = Path(installed.key_dir) / "keystore.db"
    backup = keystore_file.with_suffix(".bak")
    kernel.keystore.engine.dispose()
    shutil.copy(keystore_file, backup)
    officer = ctx(kernel, "privacy_officer", "compliance.dsr")
    with kernel.engine.begin() as conn:
        kernel.vault.shred(conn, officer, [victim])
    kernel.close()
    shutil.copy(backup, keystore_file)  # an old backup of the key store is restored
    restored = build_kernel(installed)
    assert restored.keystore.has_key(restored.tenant_id(), victim)
    restored.close()
    code, out = _cli("keys", "replay-shreds")
    assert code == 0, out
    after = build_kernel(installed)
    try:
        assert not after.keystore.has_key(after.tenant_id(), victim)
    finally:
        after.close()


def test_key_file_readable_by_others_refuses_to_start(installed) -> None:  # type: ignore[no-untyped-def]
    key_file = Path(installed.key_dir) / "kek-v1.key"
    key_file.chmod(0o644)
    code, out = _cli("people", "find", "--phone", "13812345678", "--purpose", "service.appointment")
    assert code == 2 and "refusing to start" in out


def test_retiring_an_unknown_or_active_version_is_refused_with_a_reason(installed) -> None:  # type: ignore[no-untyped-def]
    code, out = _cli("keys", "retire", "99")
    assert code == 2 and "no master key version 99" in out
    code, out = _cli("keys", "retire", "1")
    assert code == 2 and "still wraps" in out
