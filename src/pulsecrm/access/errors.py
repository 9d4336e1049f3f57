"""Authentication errors, worded so that none tells an attacker which usernames exist."""

from __future__ import annotations

from pulsecrm.kernel.errors import AccessDenied


class LoginRefused(AccessDenied):
    """Wrong username *or* password, unknown or inactive account: one message for all."""

    code = "login_refused"
    zh = "用户名或密码错误"
    en = "wrong username or password"
    http_status = 401


class LoginLocked(AccessDenied):
    """Too many failures for this name or address; shown whether or not the name exists."""

    code = "login_locked"
    zh = "登录失败次数过多，已暂时锁定，请稍后再试或联系管理员解锁"
    en = "too many failed attempts; locked for a while — try later or ask an administrator"
    http_status = 429


class SecondFactorRefused(AccessDenied):
    code = "mfa_refused"
    zh = "动态验证码或恢复码无效（或已使用）"
    en = "the code is invalid or has already been used"
    http_status = 401


class SessionRequired(AccessDenied):
    """No valid session: never logged in, logged out, idle too long or too old (H3)."""

    code = "session_required"
    zh = "请登录（会话已过期或已退出）"
    en = "please sign in (session expired or ended)"
    http_status = 401


class SecondFactorRequired(AccessDenied):
    """The role can reveal personal data and this session has not completed MFA (H2)."""

    code = "mfa_required"
    zh = "此角色需要完成两步验证"
    en = "this role needs a completed second factor"
    http_status = 401
