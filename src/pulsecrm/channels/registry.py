"""Channel name → adapter, by registration: adding a provider is adding a module and a line.

``adapter_for(channel, settings)`` returns one cached adapter per (channel,
settings) so the token cache, HTTP connection pool and rate bucket are shared
by a worker's threads. ``PULSECRM_SMS_PROVIDER`` picks the SMS provider;
``PULSECRM_CHANNEL_OVERRIDE=outbox`` (demo, benchmark) routes every channel to
the local outbox.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from pulsecrm.channels.base import ChannelAdapter
from pulsecrm.channels.email_smtp import SmtpAdapter
from pulsecrm.channels.outbox import OutboxAdapter
from pulsecrm.channels.sms_aliyun import AliyunSmsAdapter
from pulsecrm.channels.sms_tencent import TencentSmsAdapter
from pulsecrm.channels.wechat import WeChatTemplateAdapter
from pulsecrm.settings import Settings

Factory = Callable[[Settings], ChannelAdapter]

_FACTORIES: dict[str, Factory] = {}
_SMS: dict[str, Factory] = {
    "aliyun": AliyunSmsAdapter,
    "tencent": TencentSmsAdapter,
}
_CACHE: dict[tuple[str, int], ChannelAdapter] = {}
_LOCK = threading.Lock()


class UnknownChannel(ValueError):
    pass


def register(channel: str, factory: Factory) -> None:
    _FACTORIES[channel] = factory


def _sms(settings: Settings) -> ChannelAdapter:
    factory = _SMS.get(settings.sms_provider)
    if factory is None:
        raise UnknownChannel(f"sms_provider: unknown SMS provider {settings.sms_provider!r}")
    return factory(settings)


register("email", SmtpAdapter)
register("sms", _sms)
register("wechat", WeChatTemplateAdapter)
register("outbox", OutboxAdapter)


def adapter_for(channel: str, settings: Settings) -> ChannelAdapter:
    override = os.environ.get("PULSECRM_CHANNEL_OVERRIDE")
    name = override or channel
    key = (name, id(settings))
    with _LOCK:
        adapter = _CACHE.get(key)
        if adapter is None:
            factory = _FACTORIES.get(name)
            if factory is None:
                raise UnknownChannel(f"channel: no adapter registered for {name!r}")
            adapter = factory(settings)
            _CACHE[key] = adapter
        return adapter
