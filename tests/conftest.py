"""Fixtures shared by every test package."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from scripts.shared_dir import find_shared

REPO_ROOT = Path(__file__).resolve().parents[1]


def _find_shared() -> Path:
    found = find_shared(REPO_ROOT)
    if found is None:
        raise RuntimeError("cannot find ../shared (set PULSECRM_SHARED_DIR)")
    return found


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The read-only ``shared/`` folder beside the repository (data sets, test vectors)."""
    return _find_shared()


# -- database backends --------------------------------------------------------------
# Every database test runs on SQLite and PostgreSQL. Locally, PostgreSQL may be
# absent and its tests skip; in CI (CI=true) a missing PostgreSQL is a failure.

import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402

BACKENDS = [
    b for b in os.environ.get("PULSECRM_TEST_BACKENDS", "sqlite,postgresql").split(",") if b
]
PG_ADMIN_URL = os.environ.get(
    "PULSECRM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_url(database: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + database


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[object]:
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # pragma: no cover - depends on the machine
        engine.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI and is not reachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def pg_template(pg_admin: object, worker_id: str) -> Iterator[str]:
    """A migrated database per xdist worker, cloned for each test (fast, isolated)."""
    from pulsecrm.store.engine import make_engine
    from pulsecrm.store.migrate import upgrade

    name = f"pulsecrm_tpl_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = pg_admin
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'pulsecrm.db'}"
        return
    template = request.getfixturevalue("pg_template")
    admin = request.getfixturevalue("pg_admin")
    name = f"pulsecrm_t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def settings(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """Settings for a fresh installation; also exported to the environment for CLI tests."""
    from pulsecrm.settings import Settings

    home = tmp_path / "home"
    monkeypatch.setenv("PULSECRM_HOME", str(home))
    monkeypatch.setenv("PULSECRM_DATABASE_URL", db_url)
    monkeypatch.setenv("PULSECRM_LOCALE", "en")
    return Settings(home=home, database_url=db_url, locale="en")


@pytest.fixture
def installed(settings: object) -> object:
    from pulsecrm.kernel.installation import initialise

    initialise(settings)  # type: ignore[arg-type]
    return settings


@pytest.fixture
def kernel(installed: object) -> Iterator[object]:
    from pulsecrm.kernel.runtime import build_kernel

    k = build_kernel(installed)  # type: ignore[arg-type]
    yield k
    k.close()
