"""A published table never shrinks: dbt run directly with --full-refresh keeps every
month, and the migration step creates `id` and the indexes once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from loader.sample import SCALE_HEADERS
from tests.helpers import GOOD_ROW, PROJECT, cli_env, generate, month_with, query, run_etl

pytestmark = pytest.mark.integration
PERF = "business.规模明细"


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


@pytest.fixture(scope="module")
def two_months(env, workdir) -> Path:
    for period in ("202411", "202412"):
        generate(workdir / "data", period, rows=60)
        result = run_etl(env, workdir / "data", "--execute", period=period)
        assert result.returncode == 0, result.stdout + result.stderr
    return workdir / "data"


def _months(database) -> list[str]:
    rows = query(database, f"select distinct to_char(\"月度\", 'YYYYMM') from {PERF} order by 1")
    return [month for (month,) in rows]


def test_dbt_full_refresh_keeps_every_published_month(database, workdir, two_months):
    assert _months(database) == ["202411", "202412"]
    dbt_env = {
        **cli_env(database, workdir),
        **database.dbt_env(),
        "WDH_PERIOD": "202412",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--full-refresh",
            "--select",
            "+scale_detail",
            "--exclude",
            "test_type:unit",
            "--project-dir",
            str(PROJECT / "dbt_project"),
            "--profiles-dir",
            str(PROJECT / "dbt_project"),
            "--target-path",
            str(workdir / "dbt-target"),
            "--log-path",
            str(workdir / "dbt-logs"),
        ],
        capture_output=True,
        text=True,
        env=dbt_env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert _months(database) == ["202411", "202412"]


def test_id_and_indexes_are_created_once(database, env, two_months):
    [(identity,)] = query(
        database,
        "select is_identity from information_schema.columns "
        "where table_schema = 'business' and table_name = '规模明细' and column_name = 'id'",
    )
    assert identity == "YES"
    count_indexes = "select count(*) from pg_indexes where schemaname = 'business' and tablename = '规模明细'"
    [(before,)] = query(database, count_indexes)
    assert before == 10  # the primary key and the nine indexes of the model's config
    result = run_etl(env, two_months, "--execute", period="202412")
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(database, count_indexes) == [(before,)]


def test_a_corrected_workbook_replaces_the_whole_month_whatever_its_days(database, env, tmp_path):
    """月度 keeps its day (spec §0.3); the publish replaces the month, not the exact date,
    so rows of a date the corrected workbook no longer has do not linger."""
    scope = (
        "\"业务类型\" = '企年受托' and \"计划类型\" = '单一计划' "
        "and date_trunc('month', \"月度\") = '2024-11-01'"
    )
    dated = [SCALE_HEADERS, ["20241115", *GOOD_ROW[1:]], ["20241115", *GOOD_ROW[1:]]]
    month_with(tmp_path / "first", {"规模明细": dated})
    assert run_etl(env, tmp_path / "first", "--execute").returncode == 0
    assert query(database, f"select count(*) from {PERF} where {scope}") == [(2,)]
    corrected = [SCALE_HEADERS, GOOD_ROW]  # 月度 202411: the first of the month
    month_with(tmp_path / "corrected", {"规模明细": corrected})
    assert run_etl(env, tmp_path / "corrected", "--execute").returncode == 0
    rows = query(database, f'select "月度"::text from {PERF} where {scope}')
    assert rows == [("2024-11-01",)]
