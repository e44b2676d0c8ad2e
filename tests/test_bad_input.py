"""Bad input: every case ends in a clear error that names file, sheet, row and column and
says what to do — or in rejected rows with their reason — and never changes what was
published before."""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from loader.sample import SCALE_HEADERS
from tests.helpers import (
    GOOD_ROW,
    cli_env,
    generate,
    month_with,
    query,
    run_cli,
    run_etl,
    summary_rows,
    table_checksum,
)

pytestmark = pytest.mark.integration
PERIOD = "202411"
PERF = "business.规模明细"


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


@pytest.fixture(scope="module")
def published(database, env, workdir) -> str:
    """A month published before every bad-input case; its checksum must never change."""
    generate(workdir / "good", PERIOD, rows=60)
    result = run_etl(env, workdir / "good", "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    return table_checksum(database, PERF)


def load(env, root: Path, *extra: str):
    return run_etl(env, root, "--execute", *extra)


def assert_unchanged(database, published: str) -> None:
    assert table_checksum(database, PERF) == published


def test_truncated_workbook(database, env, tmp_path, published):
    path = month_with(tmp_path, {"规模明细": [SCALE_HEADERS, GOOD_ROW]})
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    result = load(env, tmp_path)
    assert result.returncode == 1
    assert (
        "not a readable Excel workbook" in result.stdout
        and f"file {path.relative_to(tmp_path)}" in result.stdout
    )
    assert "→" in result.stdout  # says what to do
    assert_unchanged(database, published)


def test_workbook_without_the_sheet(database, env, tmp_path, published):
    month_with(tmp_path, {"规模明细2": [SCALE_HEADERS, GOOD_ROW]})
    result = load(env, tmp_path)
    assert result.returncode == 1
    assert "none of the expected sheet(s) 规模明细 (it has: 规模明细2)" in result.stdout
    assert "--sheet" in result.stdout
    assert_unchanged(database, published)


def test_required_column_missing_or_renamed(database, env, tmp_path, published):
    headers = [("期末规模" if h == "期末\n资产规模" else h) for h in SCALE_HEADERS]
    month_with(tmp_path, {"规模明细": [headers, GOOD_ROW]})
    result = load(env, tmp_path)
    assert result.returncode == 1
    assert "required column(s) 期末资产规模 not found" in result.stdout
    assert "sheet 规模明细, row 1, column 期末资产规模" in result.stdout and "aliases" in result.stdout
    assert_unchanged(database, published)


def test_unknown_optional_header_is_ignored_and_reported(env, tmp_path, published):
    headers = [("子企业名" if h == "子企业名称" else h) for h in SCALE_HEADERS]
    month_with(tmp_path, {"规模明细": [headers, GOOD_ROW]})
    result = run_cli(
        "etl", "--domains", "annuity_performance", "--period", PERIOD, "--data-dir", str(tmp_path), env=env
    )
    assert result.returncode == 0
    assert "ignored columns 子企业名" in result.stdout


@pytest.mark.parametrize("rows", [[], [SCALE_HEADERS], [SCALE_HEADERS, [None] * len(SCALE_HEADERS)]])
def test_empty_sheet(database, env, tmp_path, published, rows):
    month_with(tmp_path, {"规模明细": rows})
    result = load(env, tmp_path)
    assert result.returncode == 1
    assert re.search(r"sheet is empty|no data rows|required column", result.stdout)
    assert_unchanged(database, published)


def test_no_folder_for_the_period(database, env, tmp_path, published):
    result = load(env, tmp_path)
    assert result.returncode == 1
    assert f"no folder for domain annuity_performance and period {PERIOD}" in result.stdout
    assert_unchanged(database, published)


def test_two_matching_files(database, env, tmp_path, published):
    month_with(tmp_path, {"规模明细": [SCALE_HEADERS, GOOD_ROW]}, name="a规模收入数据.xlsx")
    month_with(tmp_path, {"规模明细": [SCALE_HEADERS, GOOD_ROW]}, name="b规模收入数据.xlsx")
    result = load(env, tmp_path)
    assert result.returncode == 1
    assert (
        "ambiguous" in result.stdout
        and "a规模收入数据.xlsx" in result.stdout
        and "b规模收入数据.xlsx" in result.stdout
    )
    assert "--file-selection" in result.stdout
    assert_unchanged(database, published)


def test_garbage_numbers_and_dates_are_rejected_with_their_reason(database, env, tmp_path, published):
    rows = [SCALE_HEADERS, GOOD_ROW, list(GOOD_ROW), list(GOOD_ROW)]
    rows[2][10] = "一百万"  # 期末资产规模
    rows[3][0] = "上个月"  # 月度
    month_with(tmp_path, {"规模明细": rows})
    result = load(env, tmp_path)
    assert result.returncode == 0, result.stdout
    assert summary_rows(result.stdout)["annuity_performance"][4:7] == ["1", "1", "1"]
    run_id = result.stdout.split("· run ")[1].split()[0]
    rejects = run_cli("rejects", run_id, env=env, check=True).stdout
    assert "row 3 · 期末资产规模: not a number ('一百万')" in rejects
    assert "row 4: 月度 is not a recognised date" in rejects
    csv_path = tmp_path / "rejects.csv"
    run_cli("rejects", run_id, "--csv", str(csv_path), env=env, check=True)
    assert "一百万" in csv_path.read_text(encoding="utf-8-sig")


def test_very_long_strings_are_rejected(database, env, tmp_path, published):
    rows = [SCALE_HEADERS, GOOD_ROW, list(GOOD_ROW)]
    rows[2][8] = "长" * 300  # 客户名称
    month_with(tmp_path, {"规模明细": rows})
    result = load(env, tmp_path)
    assert result.returncode == 0, result.stdout
    [(reason,)] = query(
        database,
        "select reason from wdh_meta.rejects where kind = 'rejected' and column_name = "
        "'客户名称' order by run_id desc limit 1",
    )
    assert reason == "longer than 255 characters"


def test_formula_cells_are_read_as_their_computed_value(database, env, tmp_path, published):
    rows = [SCALE_HEADERS, list(GOOD_ROW)]
    rows[1][10] = "=1+1"
    rows[1][3] = "S9901"
    path = month_with(tmp_path, {"规模明细": rows})
    _add_cached_values(path, "2")
    result = load(env, tmp_path)
    assert result.returncode == 0, result.stdout
    assert query(database, f'select "期末资产规模" from {PERF} where "计划代码" = \'S9901\'') == [(2,)]


def test_title_and_merged_rows_above_the_header(database, env, tmp_path, published):
    workbook_rows = [["2024年11月 规模明细（汇总）"], [], SCALE_HEADERS, list(GOOD_ROW)]
    workbook_rows[3][3] = "S9902"
    path = month_with(tmp_path, {"规模明细": workbook_rows})
    from openpyxl import load_workbook

    book = load_workbook(path)
    book["规模明细"].merge_cells("A1:W1")
    book.save(path)
    result = load(env, tmp_path)
    assert result.returncode == 0, result.stdout
    assert query(database, f"select _source_row from {PERF} where \"计划代码\" = 'S9902'") == [(4,)]


def test_sql_in_headers_and_sheet_names_is_data(database, env, tmp_path, published):
    evil = '"; drop table business.规模明细; --'
    rows = [[*SCALE_HEADERS, evil], [*GOOD_ROW, evil]]
    rows[1][3] = "S9903"
    month_with(tmp_path, {evil[:31]: rows})
    result = load(env, tmp_path, "--sheet", evil[:31])
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(database, f"select _source_sheet from {PERF} where \"计划代码\" = 'S9903'") == [(evil[:31],)]
    assert query(database, "select to_regclass('business.\"规模明细\"') is not null") == [(True,)]


def _add_cached_values(path: Path, value: str) -> None:
    """openpyxl writes formulas without a cached value; give them one, as Excel would."""
    patched = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet"):
                text = data.decode("utf-8")
                text = re.sub(r"<f>([^<]*)</f>(<v\s*/>|<v></v>)?", rf"<f>\1</f><v>{value}</v>", text)
                data = text.encode("utf-8")
            target.writestr(item, data)
    shutil.move(patched, path)


def test_rows_of_another_month_fail_the_gate_in_words(database, env, tmp_path, published):
    before = table_checksum(database, PERF)  # earlier cases may have published good rows
    other_month = [202410, *GOOD_ROW[1:]]
    rows = [SCALE_HEADERS, GOOD_ROW, other_month, GOOD_ROW, other_month, other_month, GOOD_ROW]
    workbook = month_with(tmp_path, {"规模明细": rows})
    result = load(env, tmp_path)
    assert result.returncode == 1
    where = f"real_data/{PERIOD}/收集数据/数据采集/V1/{workbook.name} · 规模明细"
    assert (
        f"3 rows of 规模明细 have 月度 2024-10-01, but --period is {PERIOD} (rows 3, 5, 6 of {where})"
        in result.stdout
    )
    assert "→ correct the workbook, or run the month of those rows with its own --period" in result.stdout
    assert table_checksum(database, PERF) == before


def test_every_blocking_test_explains_itself_the_same_way(env, tmp_path, published):
    """The sandbox gate (more than half the rows failed) speaks through the same mechanism."""
    workbook = tmp_path / "受托业绩.xlsx"
    book = Workbook()
    sheet = book.active
    sheet.append(["年", "月", "计划代码", "公司代码", "收益率", "净值", "规模"])
    sheet.append(["2024年", "11月", "P0290", "C01", "5.5%", 1.2, 1000])
    for _ in range(3):
        sheet.append(["2024年", "11月", "P0290", "C01", "abc", 1.2, 1000])
    book.save(workbook)
    result = run_cli(
        "etl", "--domains", "sandbox_trustee_performance", "--file", str(workbook), "--execute", env=env
    )
    assert result.returncode == 1
    assert (
        "3 rows of Sheet were dropped or rejected: more than 50% of the sheet (rows 3, 4, 5 of"
        in result.stdout
    )
    assert "→ check that the right workbook was delivered" in result.stdout
