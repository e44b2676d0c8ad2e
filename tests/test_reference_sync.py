"""reference_sync (domains.md §6.3, enrichment.md §4.5): authoritative copies from CSV
exports and from a legacy PostgreSQL into the reference tables — upserted, product lines
replaced, temporary-id plans excluded with what hangs on them, a plan that writes nothing."""

# ruff: noqa: E501 — the exports are tables of Chinese text, one row per line

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from loader.warehouse import connect
from tests.helpers import catalog_snapshot, cli_env, query, run_cli

pytestmark = pytest.mark.integration
SYNC = ["etl", "--domains", "reference_sync"]


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


def write_csv(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture
def exports(tmp_path) -> Path:
    folder = tmp_path / "exports"
    write_csv(folder, "年金计划.csv", [
        {"年金计划号": "P1", "计划全称": "甲计划", "计划类型": "单一计划", "company_id": "600000001", "组合数": "2", "备注": ""},
        {"年金计划号": "P2", "计划全称": "乙计划", "计划类型": "单一计划", "company_id": "IN7TEMPORARY00000", "组合数": "", "备注": ""},
        {"年金计划号": "P3", "计划全称": "丙计划", "计划类型": "集合计划", "company_id": "", "组合数": "", "备注": ""},
    ])  # fmt: skip
    write_csv(folder, "组合计划.csv", [
        {"组合代码": "F1", "年金计划号": "P1", "组合名称": "组合一", "运作开始日": "2020-01-05", "是否存款组合": "0"},
        {"组合代码": "F2", "年金计划号": "P2", "组合名称": "组合二", "运作开始日": "", "是否存款组合": ""},
    ])  # fmt: skip
    write_csv(folder, "产品线.csv", [
        {"产品线": "企年投资", "产品线代码": "PL201", "NO_产品线": "1"},
        {"产品线": "企年受托", "产品线代码": "PL202", "NO_产品线": "2"},
    ])  # fmt: skip
    write_csv(folder, "客户明细.csv", [
        {"company_id": "600000001", "客户名称": "甲公司", "关键年金计划": "P1", "关联计划数": "1", "tags": '["2401新建"]'},
        {"company_id": "600000002", "客户名称": "乙公司", "关键年金计划": "P2", "关联计划数": "1", "tags": ""},
        {"company_id": "IN7TEMPORARY00000", "客户名称": "丙公司", "关键年金计划": "P3", "关联计划数": "", "tags": ""},
    ])  # fmt: skip
    return folder


def test_csv_exports_are_upserted_and_temporary_plans_excluded(database, env, exports):
    csv_env = {**env, "WDH_REFERENCE_CSV_DIR": str(exports)}
    first = run_cli(*SYNC, "--execute", env=csv_env)
    assert first.returncode == 0, first.stdout + first.stderr
    with connect(database) as pg, pg.cursor() as cur:  # rows kept by hand since
        cur.execute(
            'update mapping."年金计划" set "计划简称" = \'甲\', "备注" = \'手工\' where "年金计划号" = \'P1\''
        )
        cur.execute('update mapping."年金计划" set "计划全称" = \'旧名\' where "年金计划号" = \'P3\'')
        cur.execute('insert into mapping."产品线" ("产品线代码", "产品线") values (\'PL999\', \'废弃\')')
    before = catalog_snapshot(database)
    plan = run_cli(*SYNC, env=csv_env)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert catalog_snapshot(database) == before
    assert 'would add mapping."年金计划" 0 of 2' in plan.stdout
    result = run_cli(*SYNC, "--execute", env=csv_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "组织架构.csv" in result.stdout  # a table the exports lack is left as it is, and said so
    plans = query(
        database,
        'select "年金计划号", "计划简称", "计划全称", company_id, "组合数", "备注" from mapping."年金计划" order by 1',
    )
    assert plans == [("P1", "甲", "甲计划", "600000001", 2, "手工"), ("P3", None, "丙计划", None, None, None)]
    portfolios = query(
        database,
        'select "组合代码", "年金计划号", "运作开始日"::text, "是否存款组合" from mapping."组合计划"',
    )
    assert portfolios == [("F1", "P1", "2020-01-05", 0)]
    assert query(database, 'select "产品线代码" from mapping."产品线" order by 1') == [("PL201",), ("PL202",)]
    customers = query(database, 'select company_id, "客户名称", tags from customer."客户明细" order by 1')
    assert customers == [("600000001", "甲公司", ["2401新建"])]
    synced = query(
        database, "select table_name from system.sync_state where job_name = 'reference_sync' order by 1"
    )
    assert synced == [("customers",), ("plans",), ("portfolios",), ("product_lines",)]


def test_a_csv_column_the_table_lacks_is_an_error_naming_it(env, tmp_path):
    write_csv(tmp_path, "年金计划.csv", [{"年金计划号": "P1", "计划名": "甲计划"}])
    result = run_cli(*SYNC, "--execute", env={**env, "WDH_REFERENCE_CSV_DIR": str(tmp_path)})
    assert result.returncode == 1
    assert "年金计划.csv: column(s) 计划名 are not columns of this table" in result.stdout


def test_a_legacy_database_is_synced_incrementally(server, database, env):
    legacy = f"wdh_test_legacy_{database.dbname[-8:]}"
    with connect(server, autocommit=True) as pg, pg.cursor() as cur:
        cur.execute(f'drop database if exists "{legacy}" with (force)')
        cur.execute(f'create database "{legacy}"')
    legacy_db = server.with_database(legacy)
    try:
        with connect(legacy_db) as pg, pg.cursor() as cur:
            cur.execute("create schema enterprise")
            cur.execute(
                "create table enterprise.annuity_plan (plan_code text, plan_name text, plan_type text, customer_name text)"
            )
            cur.execute(
                "insert into enterprise.annuity_plan values ('L1', '遗留计划', '单一计划', '遗留公司')"
            )
            cur.execute(
                "create table enterprise.organization (org_code text, org_name text, updated_at timestamptz)"
            )
            cur.execute(
                "insert into enterprise.organization values ('G01', '北京', '2026-01-01'), ('G02', '上海', '2026-01-01'), ('G03', '广州', '2025-12-01')"
            )
        legacy_env = {**env, "WDH_LEGACY_URL": legacy_db.url()}
        first = run_cli(*SYNC, "--execute", env=legacy_env)
        assert first.returncode == 0, first.stdout + first.stderr
        assert query(
            database,
            'select "年金计划号", "计划全称", "客户名称" from mapping."年金计划" where "年金计划号" = \'L1\'',
        ) == [("L1", "遗留计划", "遗留公司")]
        assert query(database, 'select "机构代码", "机构" from mapping."组织架构" where "机构代码" in (\'G01\', \'G02\') order by 1') == [
            ("G01", "北京"), ("G02", "上海")
        ]  # fmt: skip
        with connect(legacy_db) as pg, pg.cursor() as cur:
            cur.execute(
                "update enterprise.organization set org_name = '北京分公司', updated_at = '2026-02-01' where org_code = 'G01'"
            )
        second = run_cli(*SYNC, "--execute", env=legacy_env)
        assert second.returncode == 0, second.stdout + second.stderr
        # rows changed at or after the last mark (2026-01-01, inclusive as the spec says): not G03
        assert 'mapping."组织架构" 0 of 2' in second.stdout
        assert query(database, 'select "机构" from mapping."组织架构" where "机构代码" = \'G01\'') == [
            ("北京分公司",)
        ]
        (mark,) = query(
            database, "select last_synced_at::date::text from system.sync_state where table_name = 'branches'"
        )[0]
        assert mark == "2026-02-01"
    finally:
        with connect(server, autocommit=True) as pg, pg.cursor() as cur:
            cur.execute(f'drop database if exists "{legacy}" with (force)')
