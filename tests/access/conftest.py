"""Access fixtures: the CRM kernel (consent hook wired) and helpers to make staff with passwords."""

from __future__ import annotations

import pytest

from pulsecrm.access.config import AuthConfig
from pulsecrm.kernel.accounts import create_account
from pulsecrm.kernel.runtime import Kernel
from tests.crm.conftest import app, clinic  # noqa: F401  (re-exported fixtures)

PASSWORD = "correct horse battery"


def make_user(kernel: Kernel, username: str, role: str, password: str = PASSWORD) -> int:
    with kernel.engine.begin() as conn:
        account = create_account(
            conn,
            kernel.catalog,
            tenant_id=kernel.tenant_id(),
            username=username,
            display_name=username,
            role=role,
            password=password,
        )
    return account.id


@pytest.fixture
def config() -> AuthConfig:
    return AuthConfig(
        idle_timeout_minutes=15,
        login_max_failures=5,
        login_ip_max_failures=50,
        lockout_minutes=15,
    )
