"""What every CLI command shares: settings, opening the kernel, acting as an account, errors.

Errors are rendered once here, in the user's language, with no stack trace.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console

from pulsecrm.kernel.accounts import find_account, local_operator
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import KernelError
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.settings import Settings
from pulsecrm.store.engine import read_connection
from pulsecrm.wiring import build_app_kernel

err_console = Console(stderr=True)
P = ParamSpec("P")
R = TypeVar("R")


def settings() -> Settings:
    return Settings()


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


def handles_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn kernel and validation errors into a one-line message and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except KernelError as exc:
            fail(exc.message(settings().locale))
        except (ValueError, OSError) as exc:
            fail(str(exc))

    return wrapper


@contextmanager
def kernel_session() -> Iterator[Kernel]:
    kernel = build_app_kernel(settings())
    try:
        yield kernel
    finally:
        kernel.close()


def acting_context(
    kernel: Kernel, user: str | None, purpose: str, channel: str | None = None
) -> AccessContext:
    """The context of the named account, or of the local operator created by ``init``."""
    tenant_id = kernel.tenant_id()
    with read_connection(kernel.engine) as conn:
        account = find_account(conn, user) if user else local_operator(conn, tenant_id)
    if account is None:
        fail(f"unknown or inactive user {user!r}" if user else "no local operator; run init")
    return AccessContext(
        actor=account.username,
        role=account.role,
        tenant_id=account.tenant_id,
        purpose=purpose,
        channel=channel,
        locale=kernel.settings.locale,
    )


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=None) + "\n")
