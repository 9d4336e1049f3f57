"""An append-only journal of crypto-shredded subjects, kept beside the keys.

Backups of the key store and of the database are taken at different times.
If an older key store is restored, keys of people shredded since that backup
would come back; replaying this journal (``pulsecrm keys replay-shreds``)
destroys them again. The journal is fsynced before a key is destroyed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path


class ShredJournal:
    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, tenant_id: int, subject_ids: Sequence[str], shredded_us: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            for subject_id in subject_ids:
                record = {"tenant_id": tenant_id, "subject_id": subject_id, "at_us": shredded_us}
                handle.write(json.dumps(record) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self) -> Iterator[tuple[int, str]]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    yield int(record["tenant_id"]), str(record["subject_id"])
