"""Load what was read into the domain's staging schema with dlt (replace semantics).

One staging schema per domain and period (`stg_<domain>_<YYYYMM>`); a re-run replaces
that period's staging table. Arrow goes in, so dlt writes CSV and loads through COPY.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from loader.errors import WdhError
from loader.faults import fault
from loader.warehouse import Connection, wdh_home

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

IDENTIFIER_LIMIT = 63

# dlt reads its settings from the environment; these are the project's choices.
DLT_SETTINGS = {
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    # the default snake_case convention turns every Chinese name into "x"; keep names as they are
    "SCHEMA__NAMING": "direct",
    # gzip dominates load time for large sheets (~14 s vs ~3 s for 300k rows)
    "DATA_WRITER__DISABLE_COMPRESSION": "true",
    "NORMALIZE__WORKERS": "1",
    "LOAD__WORKERS": "2",
}


@dataclass(frozen=True)
class StagingResult:
    schema: str
    table: str
    rows: int
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


def stage(table: pa.Table, *, schema: str, table_name: str, conn: Connection) -> StagingResult:
    """Replace `schema.table_name` with `table`; drop a crashed run's pending package first."""
    for key, value in DLT_SETTINGS.items():
        os.environ.setdefault(key, value)
    check_identifiers([schema, table_name, *table.column_names])
    import dlt
    from dlt.destinations import postgres

    pipeline = dlt.pipeline(
        pipeline_name=f"wdh_{schema}",
        destination=postgres(credentials=conn.url()),
        dataset_name=schema,
        pipelines_dir=str(wdh_home() / "dlt"),
    )
    dropped = False
    if pipeline.has_pending_data:
        log.warning("dropping a pending load package left by an earlier crashed run of %s", schema)
        pipeline.drop_pending_packages()
        dropped = True
    try:
        pipeline.extract(workbook_source(table, table_name), loader_file_format="csv")
        pipeline.normalize()
        fault("mid_stage")
        pipeline.load()
    except Exception as exc:
        pipeline.drop_pending_packages()
        if _interrupted(exc):  # dlt defers Ctrl+C/SIGTERM and re-raises it wrapped in its own error
            raise KeyboardInterrupt from exc
        raise WdhError(
            f"staging load into {schema}.{table_name} failed: {_root_cause(exc)}",
            hint="the published tables are unchanged; fix the cause and run again",
        ) from exc
    return StagingResult(schema=schema, table=table_name, rows=table.num_rows, dropped_pending=dropped)


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
