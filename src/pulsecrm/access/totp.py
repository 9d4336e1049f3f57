"""TOTP second factor (RFC 6238) and single-use recovery codes.

* The shared secret is never stored in clear: it is sealed with AES-GCM under
  the tenant's ``mfa_seal`` secret, which the kernel key store keeps wrapped by
  the master key (so a database copy alone yields no usable secrets); the
  associated data binds tenant and account, so a sealed secret copied to
  another account does not open.
* A code is accepted within ±1 time step (clock drift) and only for a step
  later than the last accepted one, so a code seen once — shoulder-surfed or
  replayed from a log — never works again.
* Recovery codes (10 by default) are shown once and stored as Argon2id hashes;
  each works once.
"""

from __future__ import annotations

import os
import secrets
import time
import uuid
from dataclasses import dataclass

import pyotp
import segno
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, delete, insert, select, update

from pulsecrm.access.tables import mfa_recovery_code, mfa_totp
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.errors import DecryptionFailed
from pulsecrm.kernel.runtime import Kernel

STEP_SECONDS = 30
WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_hasher = PasswordHasher()


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_svg_data_uri: str


def _key(kernel: Kernel, tenant_id: int) -> AESGCM:
    secret = kernel.keystore.tenant_secret(tenant_id, "mfa_seal", lambda: os.urandom(32))
    return AESGCM(secret[:32])


def _aad(tenant_id: int, account_id: int) -> bytes:
    return f"pulsecrm/mfa-totp/v1|{tenant_id}|{account_id}".encode()


def _seal(kernel: Kernel, tenant_id: int, account_id: int, secret: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + _key(kernel, tenant_id).encrypt(
        nonce, secret.encode(), _aad(tenant_id, account_id)
    )


def _open(kernel: Kernel, tenant_id: int, account_id: int, blob: bytes) -> str:
    try:
        plain = _key(kernel, tenant_id).decrypt(blob[:12], blob[12:], _aad(tenant_id, account_id))
    except InvalidTag:
        raise DecryptionFailed("TOTP secret") from None
    return plain.decode()


def status(conn: Connection, *, account_id: int) -> str:
    """``none``, ``pending`` (enrolment started, not confirmed) or ``active``."""
    row = conn.execute(
        select(mfa_totp.c.confirmed_us).where(mfa_totp.c.account_id == account_id)
    ).first()
    if row is None:
        return "none"
    return "pending" if row.confirmed_us is None else "active"


def begin_enrolment(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    account_id: int,
    username: str,
    issuer: str,
) -> Enrolment:
    """A fresh secret for an account without an active second factor (replaces a pending one)."""
    if status(conn, account_id=account_id) == "active":
        raise ValueError("second factor already active; an administrator must reset it")
    secret = pyotp.random_base32()
    conn.execute(delete(mfa_totp).where(mfa_totp.c.account_id == account_id))
    conn.execute(
        insert(mfa_totp).values(
            account_id=account_id,
            tenant_id=tenant_id,
            secret_sealed=_seal(kernel, tenant_id, account_id, secret),
            created_us=now_us(),
            confirmed_us=None,
            last_step=0,
        )
    )
    return enrolment_for(secret, username, issuer)


def enrolment_for(secret: str, username: str, issuer: str) -> Enrolment:
    uri = pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=issuer)
    # A data: URI (CSP allows ``img-src data:``), so the page needs no inline SVG or style.
    svg = segno.make(uri, error="m").svg_data_uri(scale=5, dark="#111", light="#fff")
    return Enrolment(secret, uri, svg)


def pending_enrolment(
    conn: Connection, kernel: Kernel, *, tenant_id: int, account_id: int, username: str, issuer: str
) -> Enrolment | None:
    """The enrolment started but not yet confirmed (to show the QR again after a typo)."""
    row = conn.execute(select(mfa_totp).where(mfa_totp.c.account_id == account_id)).first()
    if row is None or row.confirmed_us is not None:
        return None
    return enrolment_for(_open(kernel, tenant_id, account_id, row.secret_sealed), username, issuer)


def verify_code(
    conn: Connection,
    kernel: Kernel,
    *,
    tenant_id: int,
    account_id: int,
    code: str,
    at: float | None = None,
    confirm: bool = False,
) -> bool:
    """Accept ``code`` once: ±1 step, and only for a step after the last accepted one.

    ``confirm`` accepts a pending enrolment (and activates it); otherwise only an
    active factor is checked.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return False
    row = conn.execute(select(mfa_totp).where(mfa_totp.c.account_id == account_id)).first()
    if row is None or (row.confirmed_us is None) != confirm:
        return False
    totp = pyotp.TOTP(_open(kernel, tenant_id, account_id, row.secret_sealed))
    current = int((time.time() if at is None else at) // STEP_SECONDS)
    accepted = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if step > row.last_step and pyotp.utils.strings_equal(totp.generate_otp(step), code):
            accepted = step
            break
    if accepted is None:
        return False
    # Compare-and-set on ``last_step`` so two concurrent submissions of one code
    # cannot both succeed.
    values: dict[str, int] = {"last_step": accepted}
    if confirm:
        values["confirmed_us"] = now_us()
    result = conn.execute(
        update(mfa_totp)
        .where(mfa_totp.c.account_id == account_id, mfa_totp.c.last_step == row.last_step)
        .values(**values)
    )
    return bool(result.rowcount)


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def issue_recovery_codes(
    conn: Connection, *, tenant_id: int, account_id: int, count: int = 10
) -> list[str]:
    """New codes (shown once); any earlier codes of the account stop working."""
    conn.execute(delete(mfa_recovery_code).where(mfa_recovery_code.c.account_id == account_id))
    codes = [_new_recovery_code() for _ in range(count)]
    now = now_us()
    conn.execute(
        insert(mfa_recovery_code),
        [
            {
                "id": uuid.uuid4().hex,
                "tenant_id": tenant_id,
                "account_id": account_id,
                "code_hash": _hasher.hash(code),
                "created_us": now,
                "used_us": None,
            }
            for code in codes
        ],
    )
    return codes


def use_recovery_code(conn: Connection, *, account_id: int, code: str) -> bool:
    """Spend one unused recovery code; ``True`` if ``code`` was one."""
    code = code.strip().lower()
    if len(code) != 11:
        return False
    rows = conn.execute(
        select(mfa_recovery_code.c.id, mfa_recovery_code.c.code_hash).where(
            mfa_recovery_code.c.account_id == account_id, mfa_recovery_code.c.used_us.is_(None)
        )
    ).all()
    for row in rows:
        try:
            _hasher.verify(row.code_hash, code)
        except VerificationError:
            continue
        spent = conn.execute(
            update(mfa_recovery_code)
            .where(mfa_recovery_code.c.id == row.id, mfa_recovery_code.c.used_us.is_(None))
            .values(used_us=now_us())
        )
        return bool(spent.rowcount)
    return False


def remaining_recovery_codes(conn: Connection, *, account_id: int) -> int:
    return len(
        conn.execute(
            select(mfa_recovery_code.c.id).where(
                mfa_recovery_code.c.account_id == account_id,
                mfa_recovery_code.c.used_us.is_(None),
            )
        ).all()
    )


def reset(conn: Connection, *, account_id: int) -> None:
    """Remove the factor and its recovery codes (the user enrols again at next login)."""
    conn.execute(delete(mfa_recovery_code).where(mfa_recovery_code.c.account_id == account_id))
    conn.execute(delete(mfa_totp).where(mfa_totp.c.account_id == account_id))
