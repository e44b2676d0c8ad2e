"""Helpers the tests share: the CLI as a subprocess, sample months, catalog snapshots, checksums."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from loader.warehouse import Connection, connect

PROJECT = Path(__file__).resolve().parent.parent


def cli_env(database: Connection, workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WDH_", "DBT_"))}
    env.update({"WDH_DATABASE_URL": database.url(), "WDH_HOME": str(workdir / ".wdh"), **extra})
    return env


def run_cli(*args: str, env: dict[str, str], check: bool = False) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "loader", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=600,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"wdh {' '.join(args)} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
        )
    return result


def generate(data_dir: Path, period: str, rows: int = 120) -> dict[str, Any]:
    from loader.sample import generate_month

    generate_month(data_dir, period, rows=rows)
    return json.loads((data_dir / f"sample_manifest_{period}.json").read_text(encoding="utf-8"))


def query(database: Connection, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def empty_identity_tables(database: Connection) -> None:
    """The company-id cache, the lookup queue and base_info without rows."""
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute(
            "truncate enterprise.enrichment_index, enterprise.enrichment_requests, "
            "enterprise.base_info cascade"
        )


def catalog_snapshot(database: Connection) -> dict[str, int]:
    """Every user table with its row count, plus every schema: what plan-only must not change."""
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute(
            "select table_schema, table_name, table_type from information_schema.tables "
            "where table_schema not in ('pg_catalog', 'information_schema') order by 1, 2"
        )
        tables = cur.fetchall()
        snapshot = {}
        for schema, table, kind in tables:
            if kind == "BASE TABLE":
                cur.execute(f'select count(*) from "{schema}"."{table}"')
                snapshot[f"{schema}.{table}"] = cur.fetchone()[0]
            else:
                snapshot[f"{schema}.{table}"] = -1
        cur.execute("select nspname from pg_namespace where nspname not like 'pg_%' order by 1")
        for (schema,) in cur.fetchall():
            snapshot[f"schema {schema}"] = 0
        return snapshot


def table_checksum(
    database: Connection, table: str, exclude: tuple[str, ...] = ("id", "created_at", "updated_at", "_run_id")
) -> str:
    """md5 over the sorted rows of `table` without the per-run columns."""
    schema, name = table.split(".")
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
            "order by ordinal_position",
            (schema, name),
        )
        columns = [c for (c,) in cur.fetchall() if c not in exclude]
        row = "row(" + ", ".join(f'"{c}"' for c in columns) + ")::text"
        cur.execute(
            f"select md5(coalesce(string_agg(r, E'\\n' order by r), '')) "
            f'from (select {row} as r from "{schema}"."{name}") as rows'
        )
        return str(cur.fetchone()[0])


def summary_rows(stdout: str) -> dict[str, list[str]]:
    """Summary table rows by domain: domain, target, files, read, published, dropped, rejected,
    [replaces (plans)], seconds, status."""
    rows = {}
    for line in stdout.splitlines():
        cells = [cell.strip() for cell in line.split("│") if cell.strip()]
        if len(cells) in (9, 10) and cells[0] != "domain":
            rows[cells[0]] = cells
    return rows


def check_planted_rows(database: Connection, table: str, checks: list[dict[str, Any]]) -> int:
    """Assert every planted published row has the spec's values; return how many were checked."""
    checked = 0
    for check in checks:
        if check["outcome"] != "published" or not check["expect"]:
            continue
        expect = check["expect"]
        columns = ", ".join(f'"{c}"::text' for c in expect)
        where, params = "_source_row = %s", [check["row"]]
        if "sheet" in check:
            where, params = where + " and _source_sheet = %s", [*params, check["sheet"]]
        rows = query(database, f"select {columns} from {table} where {where}", tuple(params))
        assert len(rows) == 1, f"{table}: planted row {check} not published once"
        assert dict(zip(expect, rows[0], strict=True)) == expect, f"{table}: row {check['row']}"
        checked += 1
    return checked


def run_etl(
    env: dict[str, str],
    data_dir: Path,
    *args: str,
    domains: str = "annuity_performance",
    period: str = "202411",
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """`wdh etl --domains D --period P --data-dir DIR ARGS…` as a subprocess."""
    argv = ["etl", "--domains", domains, "--period", period, "--data-dir", str(data_dir), *args]
    return run_cli(*argv, env={**env, **(extra_env or {})})


# A 规模明细 row that publishes (in the order of loader.sample.SCALE_HEADERS).
GOOD_ROW = [
    202411,
    "企年受托",
    "单一计划",
    "S0001",
    "某公司企业年金计划",
    None,
    None,
    None,
    "某公司",
    1,
    2,
    0,
    0,
    0,
    0,
    0,
    0.05,
    "G01",
    "北京",
    None,
    None,
    None,
    None,
    None,
    None,
    None,
]


def month_with(
    root: Path,
    sheets: dict[str, list[list[Any]]],
    name: str = "24年11月年金规模收入数据.xlsx",
    period: str = "202411",
) -> Path:
    """A data root whose annuity folder of `period` holds one workbook with these sheets."""
    folder = root / "real_data" / period / "收集数据" / "数据采集" / "V1"
    folder.mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(row)
    workbook.save(folder / name)
    return folder / name
