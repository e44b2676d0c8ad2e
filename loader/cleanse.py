"""`wdh cleanse` (cli-reference.md §4): the lookup service's raw payloads in
enterprise.base_info → enterprise.business_info and enterprise.biz_label (enrichment.md
§2.4–§2.5).

The rules are dbt models (models/marts/enterprise over the view stg_enterprise__base_info,
the rule families macros/enterprise); this module picks the models, counts what they would
write and runs them: set-based, one delete+insert per table by company_id. By default only
companies without cleansed rows are taken (`full_refresh` takes every company); `limit`
caps the companies per table (by company_id). A dry run compiles the models and counts
their rows in a read-only transaction: it writes nothing to `enterprise` (only the staging
view in `wdh_work`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from loader.errors import WdhError
from loader.warehouse import Connection, connect, wdh_home

TABLES = ("business_info", "biz_label")  # the model of each is named as its table
STAGING_MODEL = "stg_enterprise__base_info"
LOCK = "wdh:cleanse"
INSERTED = re.compile(r"INSERT 0 (\d+)$")  # dbt-postgres's message of an incremental model


def cleanse(
    conn: Connection, tables: list[str], *, dry_run: bool, full_refresh: bool, limit: int | None
) -> dict[str, dict[str, int]]:
    """Cleanse (or, with `dry_run`, count) each of `tables`. Returns per table `companies`
    (the companies taken) and `rows` (the rows written, or that would be written)."""
    from loader.transform import Dbt, DbtFailed
    from loader.warehouse import DomainLocked, advisory_lock

    unknown = sorted(set(tables) - set(TABLES))
    if unknown or not tables:
        raise WdhError(
            f"cannot cleanse {', '.join(unknown) or 'no table'}", hint=f"choose from {', '.join(TABLES)}"
        )
    if limit is not None and limit < 1:
        raise WdhError(f"the limit must be at least 1, not {limit}")
    if not _exists(conn, "enterprise.base_info"):
        raise WdhError(
            "there is no enterprise.base_info to cleanse",
            hint="the lookups of `wdh etl --execute` (with WDH_EQC_TOKEN) and `wdh eqc-refresh` fill it",
        )
    models = [table for table in TABLES if table in tables]
    # read by the models through env_var() (macros/enterprise/cleanse_scope.sql)
    variables = {"cleanse_full_refresh": str(full_refresh).lower(), "cleanse_limit": limit or ""}
    dbt = Dbt(conn, run_dir=wdh_home() / "dbt" / "cleanse")
    try:
        with advisory_lock(conn, LOCK, 0):
            if not dry_run:
                _migrate_if_needed(conn, dbt, variables)
            dbt.invoke("run", "--select", STAGING_MODEL, variables=variables)
            dbt.invoke(
                "compile",
                "--select",
                *models,
                "--exclude",
                "test_type:unit",
                "test_type:data",
                variables=variables,
            )
            counts = {model: _count(conn, _compiled_sql(dbt.target_path, model)) for model in models}
            to_write = [model for model in models if counts[model]["rows"]]
            if not dry_run and to_write:
                nodes = dbt.invoke(
                    "build", "--select", *to_write, "--exclude", "test_type:unit", variables=variables
                )
                for node in nodes:  # what the insert reported: exact, also if base_info changed meanwhile
                    if node.kind == "model" and (inserted := INSERTED.match(node.message)):
                        counts[node.name]["rows"] = int(inserted[1])
    except DomainLocked:
        raise WdhError(
            "another `wdh cleanse` is running on this database",
            hint="run it again when that one has finished",
        ) from None
    except DbtFailed as exc:
        tests_only = bool(exc.failures) and all(failure.kind == "test" for failure in exc.failures)
        raise WdhError(
            exc.message.replace("dbt ", "cleansing: dbt ", 1),
            hint=(
                "the rows were written; the failing data test says what to check"
                if tests_only
                else "a table whose model failed is unchanged"
            )
            + f"; the dbt log is {dbt.log_path / 'dbt.log'}",
        ) from None
    return counts


def _exists(conn: Connection, relation: str) -> bool:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute("select to_regclass(%s) is not null", (relation,))
        return bool(cur.fetchone()[0])


def _migrate_if_needed(conn: Connection, dbt: Any, variables: dict[str, Any]) -> None:
    """The cleansed tables are created by migrate_identity_tables (with `id`, defaults and
    the foreign key), never by dbt's incremental models: run it when one is missing."""
    from loader.identity import ensure_identity_tables

    ensure_identity_tables(
        conn, lambda: dbt.invoke("run-operation", "migrate_identity_tables", variables=variables)
    )


def _compiled_sql(target_path: Path, model: str) -> str:
    compiled = sorted((target_path / "compiled").rglob(f"models/marts/enterprise/{model}.sql"))
    if not compiled:
        raise WdhError(f"dbt compiled no SQL for {model}", hint=f"see the dbt log under {target_path.parent}")
    return compiled[0].read_text(encoding="utf-8")


def _count(conn: Connection, model_sql: str) -> dict[str, int]:
    """The companies and rows a model's compiled query returns, read-only."""
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute("set transaction read only")
        cur.execute(f"select count(distinct company_id), count(*) from ({model_sql}) as cleansed")
        companies, rows = cur.fetchone()
    return {"companies": int(companies), "rows": int(rows)}
