"""Refuse NUL characters at the door, for every route at once.

PostgreSQL cannot store a NUL in a text column, and SQLite silently keeps it,
so a ``%00`` in a query string or a ``\\u0000`` in a JSON body used to reach
the database and come back as a 503 on one backend and as stored garbage on
the other. No field of PulseCRM has a use for NUL, so the request is refused
(422 naming ``query``, ``path`` or ``body``, in the caller's language) before
any route runs. Bodies are checked only for JSON and form encodings; they are
buffered and replayed unchanged (signed webhooks see the same bytes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# an odd run of backslashes before u0000 is an escaped NUL; an even run is literal text
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000", re.IGNORECASE)
_CHECKED_TYPES = ("application/json", "application/x-www-form-urlencoded", "text/")


def _has_nul(raw: bytes, *, content_type: str) -> bool:
    """A raw NUL anywhere; an escaped one in JSON; a percent-encoded one in URL encoding."""
    if b"\x00" in raw:
        return True
    if "json" in content_type:
        return _JSON_NUL.search(raw) is not None
    if "urlencoded" in content_type:
        return b"%00" in raw
    return False


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return ""


class NulGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope.get("query_string", b""), content_type="urlencoded"):
            await self._refuse(scope, send, "query")
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("raw_path", b"").lower():
            await self._refuse(scope, send, "path")
            return
        content_type = _header(scope, b"content-type").lower()
        if not content_type.startswith(_CHECKED_TYPES):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if _has_nul(body, content_type=content_type):
            await self._refuse(scope, send, "body")
            return
        await self.app(scope, _replay([{"type": "http.request", "body": body}], receive), send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send, field: str) -> None:
        en = _header(scope, b"accept-language").strip().lower().startswith("en")
        message = (
            f"{field}: NUL characters are not allowed" if en else f"{field}：不允许包含 NUL 字符"
        )
        payload = json.dumps(
            {
                "error": {
                    "code": "invalid_request",
                    "field": field,
                    "rule": "no_nul_characters",
                    "message": message,
                }
            },
            ensure_ascii=False,
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 422,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """The buffered messages first, then the real channel (which reports the disconnect)."""
    queue = list(messages)

    async def replayed() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return replayed
