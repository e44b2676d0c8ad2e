from pathlib import Path

import pytest
from openpyxl import Workbook

from loader.config import load_config
from loader.errors import SourceError
from loader.workbook import normalise_headers, read_domain

PERF = load_config().domain("annuity_performance")
HEADER = [
    "月度",
    "业务类型",
    "计划类型",
    "计划代码",
    "客户名称",
    "期初资产规模",
    "期末资产规模",
    "投资收益",
    "当期收益率",
]


def _book(path: Path, rows: list[list[object]], title: str = "规模明细") -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def _read(path: Path):
    return read_domain([path], PERF, "202411", data_dir=path.parent)


def test_headers_are_normalised_aliased_and_deduplicated():
    raw = [
        " 客户名称",
        "期末\n资产规模",
        "期末　资产规模",
        "计划号",
        "流失（含待遇支付）",
        None,
        "机构",
        "机构",
    ]
    assert normalise_headers(raw, PERF.aliases) == [
        "客户名称",
        "期末资产规模",
        "期末资产规模_1",
        "计划代码",
        "流失_含待遇支付",
        "Unnamed_1",
        "机构名称",
        "机构名称_1",
    ]


def test_codes_keep_their_text_exactly(tmp_path):
    path = _book(
        tmp_path / "b.xlsx",
        [
            [*HEADER, "集团企业客户号"],
            [202411, "企年受托", "单一计划", "0234760738", "某公司", 1, 2, 3, 0.1, "C0012"],
        ],
    )
    row = _read(path).table.to_pylist()[0]
    assert row["计划代码"] == "0234760738" and row["集团企业客户号"] == "C0012"


def test_na_strings_become_null_and_text_is_trimmed(tmp_path):
    path = _book(
        tmp_path / "b.xlsx", [HEADER, [202411, " 企年受托 ", "NA", "n/a", "NULL", "nan", "#N/A", "-", "NONE"]]
    )
    row = _read(path).table.to_pylist()[0]
    assert row["业务类型"] == "企年受托"
    assert row["计划类型"] is None and row["计划代码"] is None and row["客户名称"] is None
    assert row["期初资产规模"] is None and row["期末资产规模"] is None
    assert row["投资收益"] == "-" and row["当期收益率"] == "NONE"  # not reader NA strings: left for §0.4


def test_blank_rows_are_dropped_and_lineage_keeps_excel_row_numbers(tmp_path):
    path = _book(
        tmp_path / "b.xlsx",
        [HEADER, [202411, "企年受托"] + [None] * 7, [None] * 9, [202411, "企年投资"] + [None] * 7],
    )
    read = _read(path)
    rows = read.table.to_pylist()
    assert [r["_source_row"] for r in rows] == [2, 4]
    assert {r["_source_sheet"] for r in rows} == {"规模明细"}
    assert {r["_source_file"] for r in rows} == {"b.xlsx"}
    assert {r["_period"] for r in rows} == {"202411"}
    assert len(rows[0]["_file_sha256"]) == 64


def test_missing_optional_columns_are_null_and_unknown_ones_ignored(tmp_path):
    path = _book(tmp_path / "b.xlsx", [[*HEADER, "新列"], [202411, "企年受托"] + [None] * 7 + ["x"]])
    read = _read(path)
    assert "新列" not in read.table.column_names
    assert read.table.to_pylist()[0]["子企业号"] is None
    assert read.sheets[0].ignored_columns == ["新列"]


def test_missing_required_column_names_file_sheet_row_and_column(tmp_path):
    path = _book(tmp_path / "b.xlsx", [[h for h in HEADER if h != "计划代码"], [202411] * 8])
    with pytest.raises(SourceError) as error:
        _read(path)
    message = str(error.value)
    assert "计划代码" in message and "file b.xlsx" in message and "sheet 规模明细" in message
    assert "row 1" in message and "column 计划代码" in message


def test_title_rows_above_the_header_are_skipped(tmp_path):
    path = _book(tmp_path / "b.xlsx", [["2024年11月规模明细"], [], HEADER, [202411, "企年受托"] + [None] * 7])
    read = _read(path)
    assert read.sheets[0].header_row == 3
    assert read.table.to_pylist()[0]["_source_row"] == 4


def test_missing_sheet_lists_the_sheets_present(tmp_path):
    path = _book(tmp_path / "b.xlsx", [HEADER], title="收入明细")
    with pytest.raises(SourceError, match="it has: 收入明细"):
        _read(path)


def test_corrupt_workbook_is_a_clear_error(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not a zip archive")
    with pytest.raises(SourceError, match=r"not a readable Excel workbook.*file broken\.xlsx"):
        _read(path)


def test_unreadable_file_names_it_and_says_what_to_do(tmp_path):
    import os
    import stat

    path = _book(tmp_path / "b.xlsx", [HEADER, [202411] * 9])
    _read(path)  # readable first: every module the reader needs is imported now
    path.chmod(0)
    path.touch()  # a new mtime: no cached reader
    dropped_privileges = False
    if os.geteuid() == 0:  # root reads anything: look at the file as an unprivileged user
        for parent in [tmp_path, *tmp_path.parents]:
            parent.chmod(parent.stat().st_mode | stat.S_IXOTH)
        os.setegid(65534)
        os.seteuid(65534)
        dropped_privileges = True
    try:
        with pytest.raises(SourceError, match=r"permission denied.*file b\.xlsx") as error:
            _read(path)
    finally:
        if dropped_privileges:
            os.seteuid(0)
            os.setegid(0)
    assert "read permission" in str(error.value)
