import os
import unicodedata
from pathlib import Path

import pytest

from loader.config import load_config
from loader.discovery import discover
from loader.errors import WdhError

PERF = load_config().domain("annuity_performance")
NAME = "【for年金机构经营分析】24年11月年金规模收入数据 1211.xlsx"


def _touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def _base(root: Path) -> Path:
    return root / "real_data" / "202411" / "收集数据" / "数据采集"


def test_highest_version_folder_with_a_match_wins(tmp_path):
    _touch(_base(tmp_path) / "V1" / NAME)
    wanted = _touch(_base(tmp_path) / "V2" / NAME)
    _touch(_base(tmp_path) / "V3" / "其他说明.docx")
    found = discover(PERF, tmp_path, "202411")
    assert found.version == "V2" and found.files == (wanted,)


def test_version_numbers_compare_as_numbers(tmp_path):
    _touch(_base(tmp_path) / "V9" / NAME)
    wanted = _touch(_base(tmp_path) / "V10" / NAME)
    assert discover(PERF, tmp_path, "202411").files == (wanted,)


def test_folders_that_only_look_like_versions_are_ignored(tmp_path):
    _touch(_base(tmp_path) / "v5" / NAME)
    _touch(_base(tmp_path) / "V5_old" / NAME)
    wanted = _touch(_base(tmp_path) / NAME)
    found = discover(PERF, tmp_path, "202411")
    assert found.version == "base" and found.files == (wanted,)


def test_lock_files_mail_and_replies_are_excluded(tmp_path):
    wanted = _touch(_base(tmp_path) / "V2" / NAME)
    _touch(_base(tmp_path) / "V2" / f"~${NAME}")
    _touch(_base(tmp_path) / "V2" / "说明.eml")
    _touch(_base(tmp_path) / "V2" / "回复：规模收入数据核对.xlsx")
    assert discover(PERF, tmp_path, "202411").files == (wanted,)


def test_decomposed_unicode_file_names_match(tmp_path):
    decomposed = unicodedata.normalize("NFD", "Ｖ规模收入数据.xlsx")
    wanted = _touch(_base(tmp_path) / decomposed)
    assert discover(PERF, tmp_path, "202411").files == (wanted,)


def test_two_matching_files_are_ambiguous_and_listed(tmp_path):
    _touch(_base(tmp_path) / "V2" / NAME)
    _touch(_base(tmp_path) / "V2" / NAME.replace("1211", "1210"))
    with pytest.raises(WdhError, match="ambiguous") as error:
        discover(PERF, tmp_path, "202411")
    assert "1210" in str(error.value) and "1211" in str(error.value)


def test_newest_selection_takes_the_latest_file(tmp_path):
    old = _touch(_base(tmp_path) / "V2" / NAME.replace("1211", "1210"))
    new = _touch(_base(tmp_path) / "V2" / NAME)
    os.utime(old, (1_000_000, 1_000_000))
    assert discover(PERF, tmp_path, "202411", file_selection="newest").files == (new,)
    assert discover(PERF, tmp_path, "202411", file_selection="oldest").files == (old,)
    assert discover(PERF, tmp_path, "202411", file_selection="first").files == (old,)


def test_no_match_says_where_and_which_patterns(tmp_path):
    _touch(_base(tmp_path) / "V1" / "【for年金分战区经营分析】24年11月年金终稿数据1209采集.xlsx")
    with pytest.raises(WdhError) as error:
        discover(PERF, tmp_path, "202411")
    message = str(error.value)
    assert str(_base(tmp_path)) in message and "*规模收入数据*.xlsx" in message


def test_missing_period_folder_is_a_clear_error(tmp_path):
    with pytest.raises(WdhError, match="no folder for domain annuity_performance and period 202411"):
        discover(PERF, tmp_path, "202411")


@pytest.mark.parametrize("period", ["202413", "2024-11", "24011", "", None])
def test_period_must_be_yyyymm(tmp_path, period):
    with pytest.raises(WdhError):
        discover(PERF, tmp_path, period)


def test_recursive_pattern_finds_nested_files(tmp_path):
    sandbox = load_config().domain("sandbox_trustee_performance")
    root = tmp_path / "real_data" / "202411" / "收集数据" / "业务收集"
    wanted = _touch(root / "每月业务收集-11月" / "11月受托业绩.xlsx")
    assert discover(sandbox, tmp_path, None).files == (wanted,)


def test_dangling_symlink_that_matches_is_named_with_the_reason(tmp_path):
    link = _base(tmp_path) / "V2" / NAME
    link.parent.mkdir(parents=True)
    link.symlink_to(tmp_path / "moved-away.xlsx")
    with pytest.raises(WdhError) as error:
        discover(PERF, tmp_path, "202411")
    assert str(link) in error.value.message and "symbolic link" in error.value.message
    assert "moved-away.xlsx, which does not exist" in error.value.message and error.value.hint


def test_directory_that_matches_is_named_with_the_reason(tmp_path):
    folder = _base(tmp_path) / "V2" / NAME
    _touch(folder / "xl" / "workbook.xml")  # an unzipped workbook, say
    with pytest.raises(WdhError) as error:
        discover(PERF, tmp_path, "202411")
    assert str(folder) in error.value.message and "a directory, not a file" in error.value.message


def test_unreadable_match_is_reported_even_beside_a_good_file(tmp_path):
    _touch(_base(tmp_path) / "V2" / NAME)
    (_base(tmp_path) / "V2" / NAME.replace("1211", "1210")).symlink_to(tmp_path / "gone.xlsx")
    with pytest.raises(WdhError, match="cannot be read"):
        discover(PERF, tmp_path, "202411", file_selection="newest")
