"""The vault: the only door to personal data.

``read``, ``find_by``, ``write``, ``match`` and ``shred`` each take an
:class:`AccessContext` naming actor, role, tenant and purpose. In one call the
vault checks the role's grant for every field, the field's declared purposes
and (where the purpose rests on consent) the person's current consent;
decrypts only what is allowed; masks what the caller did not ask, or may not,
reveal; and records the audit entries. A read returns data only after its
audit entries are durable (see ``audit_writer``); a write's audit entries
commit in the caller's transaction together with the write.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import cast

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Connection, Engine, delete, insert, select

from pulsecrm.catalog.loader import Catalog
from pulsecrm.catalog.model import FieldSpec
from pulsecrm.kernel._blind_index import BlindIndexer
from pulsecrm.kernel._cipher import field_aad, seal, unseal
from pulsecrm.kernel._field_store import (
    erase_personal_values,
    is_per_person,
    load_rows,
    store_rows,
)
from pulsecrm.kernel._keystore import Keystore
from pulsecrm.kernel.audit_log import AuditSigner, append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.audit_writer import AuditWriter
from pulsecrm.kernel.consent_hook import ConsentHook
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied, DecryptionFailed, UnknownField, UnknownPurpose
from pulsecrm.kernel.masking import mask_value
from pulsecrm.kernel.normalisers import NORMALISERS
from pulsecrm.kernel.policy import Access, Policy
from pulsecrm.kernel.shred_journal import ShredJournal
from pulsecrm.kernel.tables import blind_index, shredded_subject
from pulsecrm.kernel.vault_records import PersonView, events_for
from pulsecrm.store.base import Base
from pulsecrm.store.bulk import bulk_insert
from pulsecrm.store.engine import read_connection


class Vault:
    def __init__(
        self,
        *,
        engine: Engine,
        catalog: Catalog,
        policy: Policy,
        keystore: Keystore,
        indexer_for: Callable[[int], BlindIndexer],
        signer_for: Callable[[int], AuditSigner],
        audit_writer: AuditWriter,
        consent: ConsentHook,
        shred_journal: ShredJournal,
    ) -> None:
        self._engine = engine
        self._catalog = catalog
        self._policy = policy
        self._keystore = keystore
        self._indexer_for = indexer_for
        self._signer_for = signer_for
        self._audit = audit_writer
        self.consent = consent
        self._journal = shred_journal

    # -- checks -------------------------------------------------------------
    def _specs(self, fields: Iterable[str]) -> list[FieldSpec]:
        specs = []
        for name in fields:
            spec = self._catalog.fields.get(name)
            if spec is None or spec.stored_in is None:
                raise UnknownField(name)
            specs.append(spec)
        return specs

    def _check_purpose(self, ctx: AccessContext) -> None:
        if ctx.purpose not in self._catalog.purposes:
            raise UnknownPurpose(ctx.purpose)

    def _deny(
        self,
        ctx: AccessContext,
        subjects: Sequence[str | None],
        fields: Sequence[str],
        action: Action,
        reason: str,
    ) -> AccessDenied:
        events = [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                action,
                Outcome.DENIED,
                subject,
                tuple(fields),
                {"reason": reason},
            )
            for subject in (subjects or [None])
        ]
        self._audit.record(ctx.tenant_id, events)
        return AccessDenied(reason)

    # -- reading --------------------------------------------------------------
    def read(
        self,
        ctx: AccessContext,
        subject_ids: Sequence[str],
        fields: Sequence[str],
        *,
        reveal: bool = False,
    ) -> list[PersonView]:
        """Read ``fields`` of ``subject_ids`` for ``ctx.purpose``; audited before returning."""
        try:
            self._check_purpose(ctx)
        except UnknownPurpose:
            raise self._deny(ctx, subject_ids, fields, Action.READ, "unknown purpose") from None
        specs = self._specs(fields)
        views, events = self._read_views(ctx, list(dict.fromkeys(subject_ids)), specs, reveal)
        self._audit.record(ctx.tenant_id, events)
        return views

    def _read_views(
        self, ctx: AccessContext, subject_ids: list[str], specs: list[FieldSpec], reveal: bool
    ) -> tuple[list[PersonView], list[AuditEvent]]:
        action = Action.REVEAL if reveal else Action.READ
        access = {s.name: self._policy.decide(ctx.role, s.name, ctx.purpose) for s in specs}
        allowed = [s for s in specs if access[s.name] is not Access.DENY]
        if not allowed:
            raise self._deny(
                ctx,
                subject_ids,
                [s.name for s in specs],
                action,
                f"role {ctx.role} has no grant for {ctx.purpose}",
            )
        if reveal and not any(access[s.name] is Access.REVEAL for s in allowed):
            raise self._deny(
                ctx,
                subject_ids,
                [s.name for s in specs],
                action,
                f"role {ctx.role} may not reveal for {ctx.purpose}",
            )
        with read_connection(self._engine) as conn, conn.begin():
            permitted = self._consented(conn, ctx, subject_ids)
            rows = load_rows(
                conn, ctx.tenant_id, [s for s in subject_ids if s in permitted], allowed
            )
        keys = self._keystore.load_data_keys(
            ctx.tenant_id, [s for s in rows if any(spec.encrypted for spec in allowed)]
        )
        views, events = [], []
        for subject_id in subject_ids:
            view = PersonView(subject_id)
            view.denied = {s.name: "policy" for s in specs if access[s.name] is Access.DENY}
            if subject_id not in permitted:
                view.denied.update({s.name: "consent" for s in allowed})
            elif subject_id not in rows:
                view.denied.update({s.name: "not found" for s in allowed})
            else:
                self._fill(
                    ctx, view, rows[subject_id], keys.get(subject_id), allowed, access, reveal
                )
            views.append(view)
            events.extend(events_for(ctx, view, action))
        return views, events

    def _consented(self, conn: Connection, ctx: AccessContext, subject_ids: list[str]) -> set[str]:
        if not self._catalog.purpose(ctx.purpose).needs_consent:
            return set(subject_ids)
        return self.consent.permitted(conn, ctx.tenant_id, subject_ids, ctx.purpose, ctx.channel)

    def _fill(
        self,
        ctx: AccessContext,
        view: PersonView,
        row: dict[str, object],
        aead: AESGCM | None,
        specs: list[FieldSpec],
        access: dict[str, Access],
        reveal: bool,
    ) -> None:
        for spec in specs:
            raw = row.get(spec.name)
            if raw is None:
                view.values[spec.name] = None
                continue
            if spec.encrypted:
                if aead is None:
                    view.failed[spec.name] = "key destroyed"
                    continue
                aad = field_aad(ctx.tenant_id, view.subject_id, str(spec.table), str(spec.column))
                try:
                    plain = unseal(aead, bytes(cast(bytes, raw)), aad)
                except DecryptionFailed:
                    view.failed[spec.name] = "ciphertext does not authenticate"
                    continue
            else:
                plain = str(raw)
            if reveal and access[spec.name] is Access.REVEAL:
                view.values[spec.name] = plain
                view.revealed.add(spec.name)
            else:
                view.values[spec.name] = mask_value(spec.mask, plain)

    # -- search ------------------------------------------------------------------
    def find_by(
        self,
        ctx: AccessContext,
        field_name: str,
        value: str,
        fields: Sequence[str] | None = None,
        *,
        reveal: bool = False,
    ) -> list[PersonView]:
        """Find people whose ``field_name`` equals ``value`` (any spelling), then read them."""
        try:
            self._check_purpose(ctx)
        except UnknownPurpose:
            raise self._deny(ctx, [], [field_name], Action.SEARCH, "unknown purpose") from None
        spec = self._specs([field_name])[0]
        if spec.searchable is None:
            raise UnknownField(f"{field_name} is not searchable")
        if self._policy.decide(ctx.role, field_name, ctx.purpose) is Access.DENY:
            raise self._deny(
                ctx,
                [],
                [field_name],
                Action.SEARCH,
                f"role {ctx.role} may not use {field_name} for {ctx.purpose}",
            )
        normalised = NORMALISERS[spec.searchable](value)
        with read_connection(self._engine) as conn, conn.begin():
            matches = self._confirmed_matches(conn, ctx.tenant_id, spec, [normalised])
        found = sorted(matches.get(normalised, set()))
        self._indexer_for(ctx.tenant_id).forget()
        wanted = list(
            fields
            or [
                f
                for f in self._policy.fields_for(ctx.role, ctx.purpose)
                if is_per_person(self._catalog.fields[f].table)
            ]
        )
        search_event = AuditEvent(
            ctx.actor,
            ctx.role,
            ctx.purpose,
            Action.SEARCH,
            Outcome.ALLOWED,
            None,
            (field_name,),
            {"matches": len(found)},
        )
        if not found:
            self._audit.record(ctx.tenant_id, [search_event])
            return []
        views, events = self._read_views(ctx, found, self._specs(wanted), reveal)
        self._audit.record(ctx.tenant_id, [search_event, *events])
        return views

    def _confirmed_matches(
        self, conn: Connection, tenant_id: int, spec: FieldSpec, normalised_values: Sequence[str]
    ) -> dict[str, set[str]]:
        """Blind-index candidates, confirmed by decrypting: truncated tokens collide on purpose."""
        indexer = self._indexer_for(tenant_id)
        by_token: dict[int, list[str]] = {}
        for value in normalised_values:
            by_token.setdefault(indexer.token(spec.name, value), []).append(value)
        candidates: dict[str, set[int]] = {}
        tokens = list(by_token)
        for start in range(0, len(tokens), 900):
            rows = conn.execute(
                select(blind_index.c.subject_id, blind_index.c.token).where(
                    blind_index.c.tenant_id == tenant_id,
                    blind_index.c.field == spec.name,
                    blind_index.c.token.in_(tokens[start : start + 900]),
                )
            )
            for subject_id, token in rows:
                candidates.setdefault(subject_id, set()).add(token)
        if not candidates:
            return {}
        rows_by_subject = load_rows(conn, tenant_id, list(candidates), [spec])
        keys = self._keystore.load_data_keys(tenant_id, list(rows_by_subject))
        matches: dict[str, set[str]] = {}
        for subject_id, row in rows_by_subject.items():
            aead, blob = keys.get(subject_id), row.get(spec.name)
            if aead is None or blob is None:
                continue
            aad = field_aad(tenant_id, subject_id, str(spec.table), str(spec.column))
            try:
                plain = unseal(aead, bytes(cast(bytes, blob)), aad)
            except DecryptionFailed:
                continue
            normal = NORMALISERS[str(spec.searchable)](plain)
            for token in candidates[subject_id]:
                if normal in by_token[token]:
                    matches.setdefault(normal, set()).add(subject_id)
        return matches

    def match(
        self,
        conn: Connection,
        ctx: AccessContext,
        field_name: str,
        normalised_values: Sequence[str],
    ) -> dict[str, set[str]]:
        """Dedupe lookup inside a write transaction: normalised value → existing subjects.

        Returns identifiers only, never values, so it is audited as part of
        the write that uses it rather than as a read.
        """
        spec = self._specs([field_name])[0]
        if self._policy.decide(ctx.role, field_name, ctx.purpose) is Access.DENY:
            raise AccessDenied(f"role {ctx.role} may not use {field_name} for {ctx.purpose}")
        return self._confirmed_matches(conn, ctx.tenant_id, spec, normalised_values)

    # -- writing -----------------------------------------------------------------
    def write(
        self,
        conn: Connection,
        ctx: AccessContext,
        records: Mapping[str, Mapping[str, object]],
        *,
        new_subjects: Iterable[str] = (),
    ) -> None:
        """Encrypt, index and store ``records`` (subject → field → value) in ``conn``'s transaction.

        Subjects in ``new_subjects`` get a fresh data key (committed to the key
        store first) and new rows; the others are updated field by field.
        """
        self._check_purpose(ctx)
        names = {name for values in records.values() for name in values}
        specs = {s.name: s for s in self._specs(sorted(names))}
        refused = [n for n in specs if self._policy.decide(ctx.role, n, ctx.purpose) is Access.DENY]
        if refused:
            events = [
                AuditEvent(
                    ctx.actor,
                    ctx.role,
                    ctx.purpose,
                    Action.WRITE,
                    Outcome.DENIED,
                    None,
                    tuple(sorted(refused)),
                    {"reason": "no grant"},
                )
            ]
            append_events(conn, ctx.tenant_id, events, self._signer_for(ctx.tenant_id))
            raise AccessDenied(
                f"role {ctx.role} may not write {', '.join(refused)} for {ctx.purpose}"
            )
        new = set(new_subjects)
        keys = self._keystore.create_data_keys(ctx.tenant_id, [s for s in records if s in new])
        existing = [s for s in records if s not in new]
        if existing:
            keys.update(self._keystore.load_data_keys(ctx.tenant_id, existing))
        indexer = self._indexer_for(ctx.tenant_id)
        table_rows: dict[str, dict[str, dict[str, object]]] = {}
        index_rows: list[dict[str, object]] = []
        reindexed: list[tuple[str, str]] = []
        events = []
        for subject_id, values in records.items():
            aead = keys.get(subject_id)
            for name, value in values.items():
                spec = specs[name]
                row = table_rows.setdefault(str(spec.table), {}).setdefault(subject_id, {})
                if value is None:
                    row[str(spec.column)] = None
                    continue
                text = str(value)
                if spec.searchable:
                    text = NORMALISERS[spec.searchable](text)
                    index_rows.append(
                        {
                            "tenant_id": ctx.tenant_id,
                            "field": name,
                            "token": indexer.token(name, text),
                            "subject_id": subject_id,
                        }
                    )
                    if subject_id not in new:
                        reindexed.append((subject_id, name))
                if spec.encrypted:
                    if aead is None:
                        raise DecryptionFailed(f"no data key for {subject_id} (shredded)")
                    aad = field_aad(ctx.tenant_id, subject_id, str(spec.table), str(spec.column))
                    row[str(spec.column)] = seal(aead, text, aad)
                else:
                    row[str(spec.column)] = int(text) if spec.name == "birth_year" else text
            events.append(
                AuditEvent(
                    ctx.actor,
                    ctx.role,
                    ctx.purpose,
                    Action.CREATE if subject_id in new else Action.WRITE,
                    Outcome.ALLOWED,
                    subject_id,
                    tuple(sorted(values)),
                )
            )
        for table_name, by_subject in table_rows.items():
            store_rows(conn, Base.metadata.tables[table_name], ctx.tenant_id, by_subject, new)
        for subject_id, name in reindexed:
            conn.execute(
                delete(blind_index).where(
                    blind_index.c.tenant_id == ctx.tenant_id,
                    blind_index.c.field == name,
                    blind_index.c.subject_id == subject_id,
                )
            )
        if index_rows:
            bulk_insert(
                conn,
                blind_index,
                ("tenant_id", "field", "token", "subject_id"),
                [(r["tenant_id"], r["field"], r["token"], r["subject_id"]) for r in index_rows],
            )
        append_events(conn, ctx.tenant_id, events, self._signer_for(ctx.tenant_id))
        indexer.forget()

    # -- erasure -------------------------------------------------------------------
    def shred(self, conn: Connection, ctx: AccessContext, subject_ids: Sequence[str]) -> int:
        """Crypto-shred: destroy each subject's data key, then erase their stored values.

        The journal entry is written (and fsynced) before the key is destroyed,
        so a restore of an older key store can replay it (``keys replay-shreds``).
        """
        self._check_purpose(ctx)
        if (
            ctx.purpose != "compliance.dsr"
            or self._policy.decide(ctx.role, "name", ctx.purpose) is not Access.REVEAL
        ):
            events = [
                AuditEvent(ctx.actor, ctx.role, ctx.purpose, Action.SHRED, Outcome.DENIED, s, ())
                for s in subject_ids
            ]
            self._audit.record(ctx.tenant_id, events)
            raise AccessDenied("erasure needs purpose compliance.dsr and a privacy-officer grant")
        ids = list(dict.fromkeys(subject_ids))
        now = time.time_ns() // 1000
        self._journal.append(ctx.tenant_id, ids, now)
        destroyed = self._keystore.shred(ctx.tenant_id, ids)
        conn.execute(
            insert(shredded_subject),
            [{"tenant_id": ctx.tenant_id, "subject_id": s, "shredded_us": now} for s in ids],
        )
        conn.execute(
            delete(blind_index).where(
                blind_index.c.tenant_id == ctx.tenant_id, blind_index.c.subject_id.in_(ids)
            )
        )
        erase_personal_values(conn, self._catalog, ctx.tenant_id, ids)
        append_events(
            conn,
            ctx.tenant_id,
            [
                AuditEvent(ctx.actor, ctx.role, ctx.purpose, Action.SHRED, Outcome.ALLOWED, s, ())
                for s in ids
            ],
            self._signer_for(ctx.tenant_id),
        )
        return destroyed
