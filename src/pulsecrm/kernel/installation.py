"""``pulsecrm init``: home, keys, schema, default tenant and local operator — idempotent."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select

from pulsecrm.kernel._key_provider import LocalKeyFileProvider
from pulsecrm.kernel.accounts import create_account, local_operator
from pulsecrm.kernel.audit_log import init_head
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel, build_kernel
from pulsecrm.kernel.tables import tenant
from pulsecrm.settings import Settings
from pulsecrm.store.migrate import upgrade

OPERATOR_ROLE = "consultant"


@dataclass(frozen=True)
class InitReport:
    home: str
    database: str
    tenant_id: int
    operator: str
    created: bool


def initialise(
    settings: Settings,
    *,
    tenant_slug: str | None = None,
    tenant_name: str = "默认诊所",
    operator: str = "local.operator",
) -> InitReport:
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.key_provider == "local":
        LocalKeyFileProvider.create(settings.key_dir)
    kernel = build_kernel(settings)
    try:
        kernel.keystore.create_schema()
        upgrade(kernel.engine)
        tenant_id, created = ensure_tenant(kernel, tenant_slug or settings.tenant, tenant_name)
        with kernel.engine.begin() as conn:
            account = local_operator(conn, tenant_id)
            if account is None:
                account = create_account(
                    conn,
                    kernel.catalog,
                    tenant_id=tenant_id,
                    username=operator,
                    display_name="本机操作员 / local operator",
                    role=OPERATOR_ROLE,
                    password=None,
                    is_local_operator=True,
                )
        kernel.indexer_for(tenant_id)
        return InitReport(
            str(settings.home),
            kernel.engine.url.render_as_string(),
            tenant_id,
            account.username,
            created,
        )
    finally:
        kernel.close()


def ensure_tenant(kernel: Kernel, slug: str, name: str) -> tuple[int, bool]:
    with kernel.engine.begin() as conn:
        found = conn.execute(select(tenant.c.id).where(tenant.c.slug == slug)).scalar()
        if found is not None:
            return int(found), False
        tenant_id = int(
            conn.execute(
                insert(tenant)
                .values(slug=slug, name=name, created_us=now_us())
                .returning(tenant.c.id)
            ).scalar_one()
        )
        init_head(conn, tenant_id, kernel.signer_for(tenant_id))
    return tenant_id, True
