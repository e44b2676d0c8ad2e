"""company_id resolution steps that SQL cannot do (enrichment.md §1).

The intermediate dbt layer applies the override layers and yields the distinct,
already-normalised customer names that are still unresolved. Here they get their
company_id — today the deterministic temporary id of step 5; the cache
(enterprise.enrichment_index) and the lookup service slot in before it — and the
result goes back to the warehouse as `<staging schema>.company_resolution`, which
dbt joins. The embedded PostgreSQL has no pgcrypto, so the HMAC is computed here.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_SALT = "default_dev_salt_change_in_prod"


def temporary_company_id(normalised_name: str, salt: str) -> str:
    """'IN' + Base32(HMAC-SHA1(salt, name)[:10]): 18 characters, A–Z and 2–7."""
    message = normalised_name or "__empty__"
    digest = hmac.new(salt.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return "IN" + base64.b32encode(digest[:10]).decode("ascii")


def alias_salt() -> str:
    salt = os.environ.get("WDH_ALIAS_SALT") or DEFAULT_SALT
    if salt == DEFAULT_SALT and os.environ.get("ENVIRONMENT", "").lower() in ("prod", "production"):
        log.warning("WDH_ALIAS_SALT is not set in a production environment; temporary ids use the dev salt")
    return salt


def resolve_company_ids(pg: Any, *, names_relation: str, target_schema: str) -> int:
    """Write `<target_schema>.company_resolution` for the distinct unresolved names of
    `names_relation`; return how many temporary ids were issued.

    `names_relation` is a dbt model with columns 客户名称 and _needs_company_id: dbt
    decides which rows need a company_id (macro needs_company_lookup), Python only
    computes it.
    """
    salt = alias_salt()
    with pg.cursor() as cur:
        cur.execute(f'select distinct "客户名称" from {names_relation} where _needs_company_id')
        names = [row[0] for row in cur.fetchall()]
        rows = [(name, temporary_company_id(name, salt), "temporary") for name in names]
        cur.execute(f'create schema if not exists "{target_schema}"')
        cur.execute(f'drop table if exists "{target_schema}".company_resolution')
        cur.execute(
            f'create table "{target_schema}".company_resolution '
            '("客户名称" text primary key, company_id text not null, source text not null)'
        )
        if rows:
            from psycopg2.extras import execute_values

            execute_values(
                cur, f'insert into "{target_schema}".company_resolution values %s', rows, page_size=5000
            )
    return len(rows)
