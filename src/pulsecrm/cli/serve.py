"""``pulsecrm serve``: the web console, patient pages and API of an existing installation.

One uvicorn process on ``--host``/``--port`` (loopback by default: put a TLS
proxy in front and set ``PULSECRM_BEHIND_TLS=true`` to serve a network).
``pulsecrm demo`` uses :func:`run` after seeding.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pulsecrm.cli.common import err_console, fail, handles_errors, settings

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def check_installed() -> None:
    """Refuse, with the fix, before starting a server over an empty home."""
    from pulsecrm.kernel.runtime import NotInitialised, build_kernel

    kernel = build_kernel(settings())
    try:
        kernel.tenant_id()
    except NotInitialised as exc:
        fail(exc.message(settings().locale))
    except Exception as exc:
        fail(f"cannot open the installation ({type(exc).__name__}): run `pulsecrm init` first")
    finally:
        kernel.close()


def _port_free(host: str, port: int) -> bool:
    import socket

    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def run(host: str, port: int) -> None:
    import uvicorn

    from pulsecrm.web.app import create_web_app

    if not _port_free(host, port):
        fail(f"{host}:{port} is in use or not available: choose another with --port")

    app = create_web_app(settings())
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)


@handles_errors
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = DEFAULT_PORT,
) -> None:
    """Serve the staff console, patient pages and /api/v1 of this installation."""
    check_installed()
    err_console.print(
        f"PulseCRM console: http://{host}:{port}/staff/  ·  patient pages: "
        f"http://{host}:{port}/p/  ·  API: http://{host}:{port}/api/v1/docs  (Ctrl-C stops)",
        highlight=False,
    )
    run(host, port)
