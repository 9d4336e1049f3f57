"""The broker: ``redis://`` → Redis, ``amqp://`` → RabbitMQ, unset → in-process (embedded).

Dramatiq rather than Celery: actors are plain functions with a small,
typed API; at-least-once delivery with acknowledgement after the job is the
default on both Redis and RabbitMQ; retries with backoff and delays are
built in middleware; and ``StubBroker`` + ``Worker`` run the very same
actors in-process, which is the embedded default and what tests use for the
queue-less path. Celery's prefork pool, result backend and beat are more
than sending needs. See ``docs/sending.md``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from dramatiq import Broker
from dramatiq.brokers.stub import StubBroker

from pulsecrm.settings import Settings


class QueueUnavailable(RuntimeError):
    """The configured broker cannot be reached (message names the URL without secrets)."""


def _safe(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or "?"
    return f"{parts.scheme}://{host}:{parts.port or ''}{parts.path}"


def build_broker(settings: Settings, *, namespace: str = "pulsecrm") -> Broker:
    url = settings.queue_url
    if not url:
        return StubBroker()
    scheme = urlsplit(url).scheme
    if scheme in ("redis", "rediss"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, namespace=namespace)
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    raise QueueUnavailable(
        f"PULSECRM_QUEUE_URL: unsupported scheme {scheme!r}; use redis://, amqp:// or leave unset"
    )


def is_in_process(broker: Broker) -> bool:
    return isinstance(broker, StubBroker)


def check_broker(broker: Broker, settings: Settings) -> None:
    """Fail fast, with the broker's address, when the queue is down."""
    if is_in_process(broker):
        return
    url = settings.queue_url or ""
    try:
        client = getattr(broker, "client", None)
        if client is not None:
            client.ping()
        else:
            _ = broker.connection  # type: ignore[attr-defined]  # RabbitMQ connects on access
    except Exception as exc:
        raise QueueUnavailable(
            f"queue broker at {_safe(url)} is not reachable ({type(exc).__name__}); "
            "start it or unset PULSECRM_QUEUE_URL for the in-process queue"
        ) from None
