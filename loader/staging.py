"""Load what was read into the domain's staging schema with dlt (replace semantics).

One dlt pipeline per domain (`wdh_<domain>`: one load history), one staging schema
(dataset) per domain and period (`stg_<domain>_<YYYYMM>`); a re-run replaces that
period's staging table. Arrow goes in, so dlt writes CSV and loads through COPY. dlt's
settings are the project's `.dlt/config.toml`; a completed package keeps no rows.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loader.config import PROJECT_ROOT
from loader.errors import WdhError
from loader.faults import fault
from loader.warehouse import Connection

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

# The settings correctness depends on, also in code: .dlt/config.toml is found through
# DLT_PROJECT_DIR, which another dlt user in the environment may point elsewhere.
REQUIRED_DLT_SETTINGS = {
    "SCHEMA__NAMING": "direct",  # snake_case would turn every Chinese name into "x"
    "NORMALIZE__PARQUET_NORMALIZER__ADD_DLT_LOAD_ID": "true",
    "LOAD__DELETE_COMPLETED_JOBS": "true",
    "RUNTIME__INTERCEPT_SIGNALS": "false",  # a signal must reach loader/interrupts.py
}

IDENTIFIER_LIMIT = 63


@dataclass(frozen=True)
class StagingResult:
    schema: str
    table: str
    rows: int
    load_id: str  # dlt's load id, also in every staged row's _dlt_load_id
    dropped_pending: bool  # an earlier crashed run's package was dropped first


def check_identifiers(names: list[str]) -> None:
    too_long = [name for name in names if len(name.encode("utf-8")) > IDENTIFIER_LIMIT]
    if too_long:
        raise WdhError(
            f"identifier(s) longer than PostgreSQL's {IDENTIFIER_LIMIT} bytes: {', '.join(too_long)}",
            hint="shorten the column name with an alias in config/data_sources.yml",
        )


def workbook_source(table: pa.Table, table_name: str) -> Any:
    import dlt

    @dlt.source(name="workbook", max_table_nesting=0)
    def source() -> Any:
        @dlt.resource(name=table_name, write_disposition="replace")
        def rows() -> Any:
            yield table

        return rows

    return source()


def stage(
    table: pa.Table, *, domain: str, schema: str, table_name: str, conn: Connection, pipelines_dir: Path
) -> StagingResult:
    """Replace `schema.table_name` with `table`; drop a crashed run's pending package first."""
    os.environ.setdefault("DLT_PROJECT_DIR", str(PROJECT_ROOT))  # its .dlt/config.toml
    os.environ.update(REQUIRED_DLT_SETTINGS)
    check_identifiers([schema, table_name, *table.column_names])
    import dlt
    from dlt.destinations import postgres

    pipeline = dlt.pipeline(
        pipeline_name=f"wdh_{domain}",
        destination=postgres(credentials=conn.url()),
        dataset_name=schema,
        pipelines_dir=str(pipelines_dir),
    )
    _drop_table_without_load_ids(conn, schema, table_name)
    dropped = False
    if pipeline.has_pending_data:
        log.warning("dropping a pending load package left by an earlier crashed run of %s", schema)
        pipeline.drop_pending_packages()
        dropped = True
    try:
        pipeline.extract(workbook_source(table, table_name), loader_file_format="csv")
        pipeline.normalize()
        fault("mid_stage")
        info = pipeline.load()
    except Exception as exc:
        pipeline.drop_pending_packages()
        if _interrupted(exc):  # dlt defers Ctrl+C/SIGTERM and re-raises it wrapped in its own error
            raise KeyboardInterrupt from exc
        raise WdhError(
            f"staging load into {schema}.{table_name} failed: {_root_cause(exc)}",
            hint="the published tables are unchanged; fix the cause and run again",
        ) from exc
    return StagingResult(
        schema=schema,
        table=table_name,
        rows=table.num_rows,
        load_id=info.loads_ids[-1],
        dropped_pending=dropped,
    )


def _drop_table_without_load_ids(conn: Connection, schema: str, table: str) -> None:
    """A staging table written before rows carried `_dlt_load_id` cannot take the new NOT
    NULL column: drop it (its rows are replaced by this load anyway)."""
    from loader.warehouse import connect

    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "select count(*) filter (where column_name = '_dlt_load_id'), count(*) "
            "from information_schema.columns where table_schema = %s and table_name = %s",
            (schema, table),
        )
        with_load_id, columns = cur.fetchone()
        if columns and not with_load_id:
            cur.execute(f'drop table "{schema}"."{table}" cascade')


def _interrupted(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _root_cause(exc: BaseException) -> str:
    while exc.__cause__ is not None:
        exc = exc.__cause__
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def staging_schemas(conn: Connection, domains: list[str]) -> dict[str, list[str]]:
    """The per-period staging schemas of each domain, oldest period first."""
    from loader.warehouse import connect

    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute("select nspname from pg_namespace where nspname ~ '^stg_.+_[0-9]{6}$' order by 1")
        names = [row[0] for row in cur.fetchall()]
    return {d: [n for n in names if n.rsplit("_", 1)[0] == f"stg_{d}"] for d in domains}


def prune(conn: Connection, domains: list[str], keep: int, execute: bool) -> list[str]:
    """Drop each domain's staging schemas beyond its last `keep` periods (with --execute);
    returns the schemas dropped, or that would be. Published tables are not touched."""
    from loader.warehouse import connect

    doomed = [name for names in staging_schemas(conn, domains).values() for name in names[:-keep]]
    if execute and doomed:
        with connect(conn) as pg, pg.cursor() as cur:
            for name in doomed:
                cur.execute(f'drop schema "{name}" cascade')
    return doomed
