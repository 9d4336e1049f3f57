"""Masks shown instead of a value the caller may not (or did not ask to) reveal."""

from __future__ import annotations

from collections.abc import Callable

from pulsecrm.catalog.model import Mask


def _mask_phone(value: str) -> str:
    digits = value[3:] if value.startswith("+86") else value.lstrip("+")
    if len(digits) < 7:
        return "*" * len(digits)
    return f"{digits[:3]}{'*' * (len(digits) - 7)}{digits[-4:]}"


def _mask_name(value: str) -> str:
    if not value:
        return value
    if value.isascii():
        return " ".join(part[:1] + "*" * (len(part) - 1) for part in value.split())
    return value[0] + "*" * max(1, len(value) - 1)


def _mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def _mask_id_number(value: str) -> str:
    return value[:3] + "*" * max(0, len(value) - 7) + value[-4:] if len(value) > 7 else "*" * 8


def _mask_token(value: str) -> str:
    return value[:4] + "…" if len(value) > 4 else "****"


def _mask_address(value: str) -> str:
    return value[:6] + "****" if len(value) > 6 else "****"


MASKS: dict[Mask, Callable[[str], str]] = {
    Mask.NAME: _mask_name,
    Mask.PHONE: _mask_phone,
    Mask.EMAIL: _mask_email,
    Mask.ID_NUMBER: _mask_id_number,
    Mask.TOKEN: _mask_token,
    Mask.ADDRESS: _mask_address,
    Mask.DATE: lambda value: value[:4] + "-**-**" if len(value) >= 4 else "****",
    Mask.REDACTED: lambda _value: "[已隐藏]",
    Mask.NONE: lambda value: value,
}


def mask_value(mask: Mask, value: str | None) -> str | None:
    return None if value is None else MASKS[mask](value)
