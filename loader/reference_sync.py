"""reference_sync (domains.md §6.3): read the authoritative copies of the reference tables
and stage them as text for dbt.

The copies come from a folder of CSV exports (`WDH_REFERENCE_CSV_DIR`) or the legacy
PostgreSQL (`WDH_LEGACY_*`), as config/reference_sync.yml maps them. What is kept and how
it is typed is dbt's (models `stg_reference_sync__*`, `int_reference_sync__*`); the write
is macro write_references, in one transaction. High-water marks of incremental tables are
kept in system.sync_state.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from loader.errors import WdhError
from loader.settings import setting
from loader.warehouse import Connection, connect

CONFIG = Path(__file__).resolve().parent.parent / "config" / "reference_sync.yml"
SCHEMA = "stg_reference_sync"
JOB = "reference_sync"


@dataclass
class Copy:
    """The rows of one table as the source has them (target column names), or None when
    the source has no such table."""

    name: str
    rows: list[dict[str, str | None]] | None
    where: str  # file or table it came from, for messages
    headers: list[str] = field(default_factory=list)  # a CSV file's header row
    incremental: bool = False  # only rows changed since the last sync were read
    high_water: Any = None  # the largest incremental value read


@dataclass
class Source:
    description: str
    copies: list[Copy] = field(default_factory=list)


def load_config() -> dict[str, Any]:
    return dict(yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["tables"])


def read_source(tables: dict[str, Any], since: dict[str, Any]) -> Source:
    """The copies of every configured table from the configured source."""
    folder = setting("WDH_REFERENCE_CSV_DIR")
    if folder is not None:
        return _read_csv(Path(folder.value), tables)
    return _read_legacy(_legacy_connection(), tables, since)


def _read_csv(folder: Path, tables: dict[str, Any]) -> Source:
    if not folder.is_dir():
        raise WdhError(
            f"WDH_REFERENCE_CSV_DIR names {folder}, which is not a folder",
            hint="point it at the folder of the CSV exports (年金计划.csv, 组合计划.csv, …)",
        )
    source = Source(f"CSV exports in {folder}")
    for name, table in tables.items():
        path = folder / table["file"]
        if not path.is_file():
            source.copies.append(Copy(name, None, str(path)))
            continue
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            rows = [{k.strip(): v for k, v in row.items() if k is not None} for row in reader]
            headers = [h.strip() for h in reader.fieldnames or []]
        source.copies.append(Copy(name, rows, str(path), headers=headers))
    return source


def _legacy_connection() -> Connection:
    """WDH_LEGACY_URL, or the WDH_LEGACY_* (else WDH_LEGACY_PG_*) parts; the spec's defaults."""
    url = setting("WDH_LEGACY_URL")
    if url is not None:
        return Connection.from_url(url.value, origin=url.origin)

    def part(key: str, default: str) -> str:
        found = setting(f"WDH_LEGACY_{key}") or setting(f"WDH_LEGACY_PG_{key}")
        return found.value if found else default

    return Connection(
        part("HOST", "localhost"),
        int(part("PORT", "5432")),
        part("USER", os.environ.get("USER", "postgres")),
        part("PASSWORD", ""),
        part("DATABASE", "legacy"),
        "the legacy PostgreSQL (WDH_LEGACY_*)",
    )


def _read_legacy(conn: Connection, tables: dict[str, Any], since: dict[str, Any]) -> Source:
    from loader.warehouse import describe_target

    source = Source(f"the legacy PostgreSQL {describe_target(conn)}")
    try:
        with connect(conn) as pg, pg.cursor() as cur:
            for name, table in tables.items():
                legacy = table.get("legacy")
                if legacy is None:
                    source.copies.append(Copy(name, None, "(no legacy table)"))
                    continue
                cur.execute("select to_regclass(%s)", (legacy["table"],))
                if cur.fetchone()[0] is None:
                    source.copies.append(Copy(name, None, legacy["table"]))
                    continue
                columns = ", ".join(f'"{c}"::text' for c in legacy["columns"])
                incremental = legacy.get("incremental")
                sql = f"select {columns}{f', {incremental}' if incremental else ''} from {legacy['table']}"
                if incremental and since.get(name) is not None:
                    cur.execute(f"{sql} where {incremental} >= %s", (since[name],))
                else:
                    cur.execute(sql)
                rows, high = [], None
                for row in cur.fetchall():
                    values = row[: len(legacy["columns"])]
                    rows.append(dict(zip(legacy["columns"].values(), values, strict=True)))
                    if incremental and row[-1] is not None and (high is None or row[-1] > high):
                        high = row[-1]
                source.copies.append(
                    Copy(name, rows, legacy["table"], incremental=bool(incremental), high_water=high)
                )
    except WdhError as exc:
        raise WdhError(
            exc.message,
            hint="set WDH_REFERENCE_CSV_DIR to a folder of CSV exports, or WDH_LEGACY_URL / WDH_LEGACY_* "
            "to the legacy database",
        ) from None
    return source


def stage(work: Connection, source: Source, columns: dict[str, list[str]]) -> None:
    """Every copy into stg_reference_sync.<name> as text (an absent one as an empty table),
    with the columns the dbt source declares; a CSV column the table does not have is an error."""
    with connect(work) as pg, pg.cursor() as cur:
        cur.execute(f"create schema if not exists {SCHEMA}")
        for copy in source.copies:
            wanted = columns[copy.name]
            unknown = [h for h in copy.headers if h and h not in wanted]
            if unknown:
                raise WdhError(
                    f"{copy.where}: column(s) {', '.join(unknown)} are not columns of this table",
                    hint=f"the header row must use the table's column names: {', '.join(wanted)}",
                )
            quoted = ", ".join(f'"{c}" text' for c in wanted)
            cur.execute(f'drop table if exists {SCHEMA}."{copy.name}"')
            cur.execute(f'create table {SCHEMA}."{copy.name}" ({quoted})')
            if copy.rows:
                buffer = io.StringIO()
                writer = csv.writer(buffer)
                for row in copy.rows:
                    writer.writerow([row.get(c) for c in wanted])
                buffer.seek(0)
                cur.copy_expert(f'copy {SCHEMA}."{copy.name}" from stdin with (format csv)', buffer)


def high_water_marks(target: Connection | None) -> dict[str, Any]:
    """Per table, where the last sync of an incremental table stopped (system.sync_state)."""
    if target is None:
        return {}
    with connect(target) as pg, pg.cursor() as cur:
        cur.execute("select to_regclass('system.sync_state')")
        if cur.fetchone()[0] is None:
            return {}
        cur.execute("select table_name, last_synced_at from system.sync_state where job_name = %s", (JOB,))
        return dict(cur.fetchall())


def record_sync(target: Connection, source: Source) -> None:
    """After the write: each synced table's high-water mark (its last value read, or now)."""
    with connect(target) as pg, pg.cursor() as cur:
        for copy in source.copies:
            if copy.rows is None or (copy.incremental and copy.high_water is None):
                continue  # not in the source, or nothing changed since the last sync
            cur.execute(
                "insert into system.sync_state (job_name, table_name, last_synced_at, updated_at) "
                "values (%s, %s, coalesce(%s, now()), now()) on conflict (job_name, table_name) do update "
                "set last_synced_at = coalesce(excluded.last_synced_at, sync_state.last_synced_at), "
                "updated_at = now()",
                (JOB, copy.name, copy.high_water),
            )
