"""Send-rate limits: one bucket per provider and per campaign.

With a Redis queue the rate is shared by every worker (kept in Redis, see
:class:`pulsecrm.channels.rate.SharedRate`); otherwise it holds per worker
process, shared by its threads.
"""

from __future__ import annotations

import threading

from pulsecrm.channels import ChannelAdapter
from pulsecrm.channels.rate import SharedRate, TokenBucket
from pulsecrm.settings import Settings

_BUCKETS: dict[tuple[str, str], TokenBucket | SharedRate] = {}
_BUCKETS_LOCK = threading.Lock()


def _bucket(settings: Settings, key: str, rate: float) -> TokenBucket | SharedRate:
    """With a Redis queue the rate is shared by every worker (kept in Redis); otherwise
    it holds per worker process, shared by its threads."""
    url = settings.queue_url or ""
    shared = url.startswith(("redis://", "rediss://"))
    cache_key = (url if shared else "", key)
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(cache_key)
        if bucket is None or bucket.rate != rate:
            bucket = SharedRate(url, f"pulsecrm-rate:{key}", rate) if shared else TokenBucket(rate)
            _BUCKETS[cache_key] = bucket
        return bucket


def provider_bucket(settings: Settings, adapter: ChannelAdapter) -> TokenBucket | SharedRate:
    return _bucket(settings, f"provider:{adapter.provider}", float(adapter.rate_per_s))


def campaign_bucket(settings: Settings, campaign_id: str, rate: float) -> TokenBucket | SharedRate:
    return _bucket(settings, f"campaign:{campaign_id}", rate)
