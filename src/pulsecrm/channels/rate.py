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


class SharedRate:
    """``rate`` sends per second across every worker sharing one Redis.

    A per-process :class:`TokenBucket` lets N worker processes send N times
    the provider's rate; with a Redis queue the limit is kept in Redis
    instead — a counter per calendar second and key, raised atomically by
    Dramatiq's rate-limiter backend (WATCH/MULTI) only while it stays within
    ``rate`` — so the provider sees at most ``rate`` per second whatever the
    number of workers. To spare a Redis round trip per message a worker
    reserves small blocks (a twentieth of the rate, at most 100); tokens left
    when the second turns are dropped, never carried over.
    """

    def __init__(self, url: str, key: str, rate: float) -> None:
        from dramatiq.rate_limits.backends import RedisBackend

        self.rate = rate
        self.key = key
        self.limit = max(1, int(rate))
        self.block = max(1, min(100, self.limit // 20))
        self._backend = RedisBackend(url=url)
        self._lock = threading.Lock()
        self._second = -1
        self._left = 0

    def _reserve(self, second: int) -> bool:
        slot = f"{self.key}@{second}"
        for amount in (self.block, 1) if self.block > 1 else (1,):
            if self._backend.incr_and_sum(slot, lambda: [slot], amount, self.limit, 2000):
                self._second, self._left = second, amount
                return True
        return False

    def acquire(self, tokens: float = 1.0) -> float:
        if self.rate <= 0:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                second = int(time.time())
                if self._second == second and self._left > 0:
                    self._left -= 1
                    return waited
                if self._reserve(second):
                    self._left -= 1
                    return waited
            pause = 1.0 - (time.time() % 1.0) + 0.005
            time.sleep(pause)
            waited += pause
