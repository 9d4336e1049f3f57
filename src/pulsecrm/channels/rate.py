"""A thread-safe token bucket: the per-provider send rate of one worker process."""

from __future__ import annotations

import threading
import time


class TokenBucket:
    """``rate`` tokens per second, bursts up to ``burst``; ``rate <= 0`` means unlimited.

    ``acquire`` blocks until a token is free, so a worker never exceeds the
    provider's rate; throttling errors from the provider are still retried.
    """

    def __init__(self, rate: float, burst: float | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate)
        self._tokens = self.burst
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self, tokens: float = 1.0) -> float:
        """Take ``tokens``; returns the seconds waited."""
        if self.rate <= 0:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = time.monotonic()
                self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
                self._last = now
                if self._tokens >= tokens:
                    self._tokens -= tokens
                    return waited
                pause = (tokens - self._tokens) / self.rate
            time.sleep(pause)
            waited += pause
