"""Per-record personal data: many rows per person (consent evidence, notes, answers).

The person vault stores one row per person. Ledgers and interactions hold
many rows per person, each with its own personal data; their tables declare
those columns in the catalog (``stored_in``) and keep only the ciphertext this
module produces. The associated data binds tenant, person, table, column *and
record id*, so a value copied to another record does not decrypt. Sealing and
opening are checked against the policy like any vault call, and opening is
audited before the plaintext is returned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pulsecrm.catalog.loader import Catalog
from pulsecrm.catalog.model import FieldSpec
from pulsecrm.kernel._cipher import field_aad, seal, unseal
from pulsecrm.kernel._keystore import Keystore
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.audit_writer import AuditWriter
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied, DecryptionFailed, UnknownField, UnknownPurpose
from pulsecrm.kernel.masking import mask_value
from pulsecrm.kernel.policy import Access, Policy


@dataclass(frozen=True)
class SealedItem:
    subject_id: str
    field: str
    record_id: str
    blob: bytes | None


class RecordVault:
    def __init__(
        self,
        *,
        catalog: Catalog,
        policy: Policy,
        keystore: Keystore,
        audit_writer: Callable[[], AuditWriter],
    ) -> None:
        self._catalog = catalog
        self._policy = policy
        self._keystore = keystore
        self._audit = audit_writer

    def _spec(self, ctx: AccessContext, name: str) -> FieldSpec:
        if ctx.purpose not in self._catalog.purposes:
            raise UnknownPurpose(ctx.purpose)
        spec = self._catalog.fields.get(name)
        if spec is None or spec.stored_in is None or not spec.encrypted:
            raise UnknownField(name)
        return spec

    @staticmethod
    def _aad(ctx: AccessContext, subject_id: str, spec: FieldSpec, record_id: str) -> bytes:
        base = field_aad(ctx.tenant_id, subject_id, str(spec.table), str(spec.column))
        return base + b"|" + record_id.encode()

    def seal(
        self, ctx: AccessContext, subject_id: str, field_name: str, record_id: str, value: str
    ) -> bytes:
        """Ciphertext of ``value`` for one record; the caller stores it in its own table."""
        spec = self._spec(ctx, field_name)
        if self._policy.decide(ctx.role, field_name, ctx.purpose) is Access.DENY:
            raise AccessDenied(f"role {ctx.role} may not write {field_name} for {ctx.purpose}")
        keys = self._keystore.load_data_keys(ctx.tenant_id, [subject_id])
        aead = keys.get(subject_id)
        if aead is None:
            raise DecryptionFailed(f"no data key for {subject_id} (shredded?)")
        return seal(aead, value, self._aad(ctx, subject_id, spec, record_id))

    def open(
        self, ctx: AccessContext, items: Sequence[SealedItem], *, reveal: bool = False
    ) -> list[str | None]:
        """Plaintext (or mask) per item, in order; ``None`` where it cannot be read."""
        specs = {item.field: self._spec(ctx, item.field) for item in items}
        access = {name: self._policy.decide(ctx.role, name, ctx.purpose) for name in specs}
        denied = sorted(name for name, a in access.items() if a is Access.DENY)
        if denied or (reveal and any(a is not Access.REVEAL for a in access.values())):
            self._audit().record(
                ctx.tenant_id,
                [
                    AuditEvent(
                        ctx.actor,
                        ctx.role,
                        ctx.purpose,
                        Action.REVEAL if reveal else Action.READ,
                        Outcome.DENIED,
                        item.subject_id,
                        (item.field,),
                        {"record": item.record_id},
                    )
                    for item in items
                ],
            )
            raise AccessDenied(
                f"role {ctx.role} may not read {', '.join(denied or specs)} for {ctx.purpose}"
            )
        keys = self._keystore.load_data_keys(ctx.tenant_id, [i.subject_id for i in items])
        values: list[str | None] = []
        events: list[AuditEvent] = []
        for item in items:
            spec = specs[item.field]
            aead = keys.get(item.subject_id)
            value: str | None = None
            outcome = Outcome.ALLOWED
            if item.blob is not None and aead is not None:
                try:
                    value = unseal(
                        aead, item.blob, self._aad(ctx, item.subject_id, spec, item.record_id)
                    )
                except DecryptionFailed:
                    outcome = Outcome.FAILED
            elif item.blob is not None:
                outcome = Outcome.FAILED
            if value is not None and not reveal:
                value = mask_value(spec.mask, value)
            values.append(value)
            action = (
                Action.DECRYPT
                if outcome is Outcome.FAILED
                else (Action.REVEAL if reveal else Action.READ)
            )
            events.append(
                AuditEvent(
                    ctx.actor,
                    ctx.role,
                    ctx.purpose,
                    action,
                    outcome,
                    item.subject_id,
                    (item.field,),
                    {"record": item.record_id},
                )
            )
        self._audit().record(ctx.tenant_id, events)
        return values
