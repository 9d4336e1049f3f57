"""AES-256-GCM sealing of one field value under one person's data key.

Private to the kernel. The associated data binds tenant, person, table and
field, so a ciphertext copied into another row or column does not
authenticate — the swap is detected, not silently decrypted.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from pulsecrm.kernel.errors import DecryptionFailed

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12


def field_aad(tenant_id: int, subject_id: str, table: str, column: str) -> bytes:
    return f"pulsecrm/field/v1|{tenant_id}|{subject_id}|{table}|{column}".encode()


def seal(aead: AESGCM, plaintext: str, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + aead.encrypt(nonce, plaintext.encode("utf-8"), aad)


def unseal(aead: AESGCM, blob: bytes, aad: bytes) -> str:
    if blob[:1] != FORMAT_V1 or len(blob) < 1 + NONCE_BYTES + 16:
        raise DecryptionFailed("unknown ciphertext format")
    try:
        plain = aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag:
        raise DecryptionFailed() from None
    return plain.decode("utf-8")
