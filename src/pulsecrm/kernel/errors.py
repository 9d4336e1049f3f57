"""Errors the kernel raises, each with a user-facing message in zh-CN and en.

Raised where the rule lives and rendered once at the edge (CLI, API), so the
wording is defined in one place.
"""

from __future__ import annotations


class KernelError(Exception):
    """Base class: ``message(locale)`` gives the text a user sees."""

    code = "kernel_error"
    zh = "内核错误"
    en = "kernel error"

    def __init__(self, detail: str = "", **context: object) -> None:
        self.detail = detail
        self.context = context
        super().__init__(self.message("en"))

    def message(self, locale: str = "zh-CN") -> str:
        head = self.en if locale.lower().startswith("en") else self.zh
        return f"{head}: {self.detail}" if self.detail else head


class AccessDenied(KernelError):
    code = "access_denied"
    zh = "访问被拒绝"
    en = "access denied"


class ConsentRequired(AccessDenied):
    code = "consent_required"
    zh = "缺少有效同意"
    en = "no current consent for this purpose"


class UnknownPurpose(KernelError):
    code = "unknown_purpose"
    zh = "未知的处理目的"
    en = "unknown purpose"


class UnknownField(KernelError):
    code = "unknown_field"
    zh = "未知字段"
    en = "unknown field"


class InvalidValue(KernelError):
    """A value fails its field's rule; ``field`` and ``rule`` name which."""

    code = "invalid_value"
    zh = "字段值无效"
    en = "invalid value"

    def __init__(self, field: str, rule_en: str, rule_zh: str) -> None:
        self.field, self.rule_en, self.rule_zh = field, rule_en, rule_zh
        super().__init__(rule_en, field=field)

    def message(self, locale: str = "zh-CN") -> str:
        if locale.lower().startswith("en"):
            return f"{self.field}: {self.rule_en}"
        return f"{self.field}：{self.rule_zh}"


class DecryptionFailed(KernelError):
    """Ciphertext did not authenticate: tampered, moved to another row, or shredded."""

    code = "decryption_failed"
    zh = "解密失败（数据被篡改、被移动或密钥已销毁）"
    en = "decryption failed (tampered, moved, or key destroyed)"


class KeyFileExposed(KernelError):
    code = "key_file_exposed"
    zh = "密钥文件权限过宽，拒绝启动"
    en = "key file is readable by others; refusing to start"


class KeyUnavailable(KernelError):
    code = "key_unavailable"
    zh = "密钥不可用"
    en = "key unavailable"


class AuditUnavailable(KernelError):
    """The audit entry could not be made durable, so no data is returned."""

    code = "audit_unavailable"
    zh = "审计日志写入失败，数据未返回"
    en = "audit entry could not be written; no data returned"
