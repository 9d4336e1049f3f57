"""The local outbox: the demo's provider, a JSON-lines file under ``PULSECRM_HOME/outbox/``.

One line per message (``<channel>.jsonl``), appended with a single
``write`` on an ``O_APPEND`` descriptor so concurrent workers never
interleave lines. The address is written *masked*: the outbox is a local
file outside the kernel's audit, so it holds the message and who it was
for (person-free message id), never a usable phone number or e-mail.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

from pulsecrm.channels.base import OutboundMessage, ProviderResult
from pulsecrm.settings import Settings


def mask_address(address: str) -> str:
    if "@" in address:
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    if len(address) > 7:
        return f"{address[:-8]}****{address[-4:]}"
    return "****"


class OutboxAdapter:
    provider = "outbox"
    idempotent = False

    def __init__(self, settings: Settings, channel: str = "outbox") -> None:
        self.channel = channel
        self.directory = settings.home / "outbox"
        self.rate_per_s = settings.outbox_rate_per_s
        self._fds: dict[str, int] = {}
        self._lock = threading.Lock()

    def path(self, channel: str) -> Path:
        return self.directory / f"{channel}.jsonl"

    def _fd(self, channel: str) -> int:
        with self._lock:
            fd = self._fds.get(channel)
            if fd is None:
                self.directory.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path(channel), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._fds[channel] = fd
            return fd

    def send(self, message: OutboundMessage) -> ProviderResult:
        line = json.dumps(
            {
                "message_id": message.message_id,
                "tenant_id": message.tenant_id,
                "channel": message.channel,
                "to": mask_address(message.to),
                "subject": message.subject,
                "text": message.text,
                "headers": message.headers,
                "at_us": time.time_ns() // 1000,
            },
            ensure_ascii=False,
        )
        os.write(self._fd(message.channel), (line + "\n").encode())
        return ProviderResult(self.provider, message.message_id, delivered=True)

    def close(self) -> None:
        with self._lock:
            for fd in self._fds.values():
                os.close(fd)
            self._fds.clear()
