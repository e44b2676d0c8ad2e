"""End to end on a real PostgreSQL: generated month → `wdh etl` → business.规模明细."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import catalog_snapshot, cli_env, generate, query, run_etl, table_checksum

pytestmark = pytest.mark.integration
PERIOD = "202411"
TABLE = "business.规模明细"


@pytest.fixture(scope="module")
def month(workdir: Path) -> dict[str, Any]:
    return generate(workdir / "data", PERIOD)


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


@pytest.fixture(scope="module")
def first_run(month, env, workdir):
    """The first --execute run of the month; later tests build on its result."""
    result = run_etl(env, workdir / "data", "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _etl(env, workdir, *extra: str, period: str = PERIOD):
    return run_etl(env, workdir / "data", *extra, period=period)


def test_plan_only_leaves_database_unchanged(database, env, workdir, month):
    before = catalog_snapshot(database)
    result = _etl(env, workdir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "planned" in result.stdout and f"{month['annuity_performance']['written']}" in result.stdout
    assert catalog_snapshot(database) == before


def test_execute_publishes_rows_read_minus_drops_and_rejects(database, month, first_run):
    expected = month["annuity_performance"]
    [(count,)] = query(database, f"select count(*) from {TABLE}")
    assert count == expected["written"] - expected["dropped"] - expected["rejected"]
    summary = next(
        line for line in first_run.stdout.splitlines() if "annuity_performance" in line and "│" in line
    )
    cells = [cell.strip() for cell in summary.split("│") if cell.strip()]
    assert cells[3:7] == [
        str(expected["written"]),
        str(count),
        str(expected["dropped"]),
        str(expected["rejected"]),
    ]
    assert cells[-1] == "ok"


def test_planted_rows_have_the_values_the_spec_gives(database, month, first_run):
    for check in month["annuity_performance"]["checks"]:
        if check["outcome"] != "published":
            continue
        expect = check["expect"]
        columns = ", ".join(f'"{c}"::text' for c in expect)
        rows = query(database, f"select {columns} from {TABLE} where _source_row = %s", (check["row"],))
        assert len(rows) == 1, f"row {check['row']} not published"
        actual = dict(zip(expect, rows[0], strict=True))
        assert actual == expect, f"Excel row {check['row']}"


def test_dropped_and_rejected_rows_are_not_published(database, month, first_run):
    for check in month["annuity_performance"]["checks"]:
        if check["outcome"] == "published":
            continue
        rows = query(database, f"select 1 from {TABLE} where _source_row = %s", (check["row"],))
        assert rows == [], f"Excel row {check['row']} should be {check['outcome']}"


def test_rejected_rows_carry_their_column_and_reason(database, month, first_run):
    rejected = {
        check["row"]: check["expect"]["_reject_column"]
        for check in month["annuity_performance"]["checks"]
        if check["outcome"] == "rejected"
    }
    rows = query(
        database,
        "select _source_row, _reject_column, _reject_reason from "
        "wdh_work.int_scale_detail_company_resolved where _reject_reason is not null",
    )
    assert {row: column for row, column, _ in rows} == rejected
    assert all(reason for _, _, reason in rows)


def test_duplicate_detail_rows_are_all_kept(database, first_run):
    [(duplicates,)] = query(
        database,
        f"""
        select count(*) from (
            select 1 from {TABLE}
            group by "计划代码", "组合代码", company_id, "期末资产规模", "客户名称" having count(*) > 1
        ) as groups""",
    )
    assert duplicates >= 1


def test_contract_types_hold(database, first_run):
    types = dict(
        query(
            database,
            """
        select column_name, data_type || coalesce('(' || numeric_precision || ',' || numeric_scale || ')', '')
        from information_schema.columns where table_schema = 'business' and table_name = '规模明细'""",
        )
    )
    assert types["月度"] == "date"
    assert types["期末资产规模"] == "numeric(18,4)"
    assert types["当期收益率"] == "numeric(10,6)"
    assert types["id"].startswith("integer")


def test_rerun_same_period_is_idempotent(database, env, workdir, first_run):
    before = table_checksum(database, TABLE)
    [(count_before,)] = query(database, f"select count(*) from {TABLE}")
    result = _etl(env, workdir, "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    assert table_checksum(database, TABLE) == before
    assert query(database, f"select count(*) from {TABLE}") == [(count_before,)]


def test_rows_of_another_month_fail_the_gate_and_publish_nothing(database, env, workdir, first_run):
    """A workbook for 202411 delivered in the 202412 folder: the gate stops it."""
    data = workdir / "data" / "real_data"
    shutil.copytree(data / PERIOD, data / "202412", dirs_exist_ok=True)
    before = table_checksum(database, TABLE)
    result = _etl(env, workdir, "--execute", period="202412")
    assert result.returncode == 1
    assert "of 规模明细 have 月度 2024-11-01, but --period is 202412 (rows 2, 3, " in result.stdout
    assert table_checksum(database, TABLE) == before


def test_amounts_are_exact_decimals(database, first_run):
    [(value,)] = query(database, f'select "期末资产规模" from {TABLE} where "期末资产规模" = 1234.56')
    assert value == Decimal("1234.5600")
