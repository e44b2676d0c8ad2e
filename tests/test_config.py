from pathlib import Path

import pytest

from loader.config import load_config, merge
from loader.errors import WdhError

SPEC_DOMAINS = {
    "annuity_performance",
    "annuity_income",
    "annual_award",
    "annual_loss",
    "sandbox_trustee_performance",
}


def test_every_spec_domain_is_configured():
    assert set(load_config().domains) == SPEC_DOMAINS


def test_all_domains_are_the_data_domains_in_file_order():
    assert load_config().data_domains() == [
        "annuity_performance",
        "annuity_income",
        "annual_award",
        "annual_loss",
    ]


def test_scalars_override_defaults():
    assert merge({"fallback": "error"}, {"fallback": "use_latest_modified"}) == {
        "fallback": "use_latest_modified"
    }


def test_lists_replace_defaults():
    assert merge({"exclude": ["~$*", "*.eml"]}, {"exclude": ["*.tmp"]}) == {"exclude": ["*.tmp"]}


def test_plus_items_extend_defaults():
    assert merge({"exclude": ["~$*", "*.eml"]}, {"exclude": ["+*回复*"]}) == {
        "exclude": ["~$*", "*.eml", "*回复*"]
    }


def test_dicts_deep_merge():
    merged = merge(
        {"output": {"schema_name": "business", "mode": "delete_insert"}}, {"output": {"table": "t"}}
    )
    assert merged == {"output": {"schema_name": "business", "mode": "delete_insert", "table": "t"}}


def test_annuity_performance_extends_the_default_excludes():
    assert load_config().domain("annuity_performance").exclude_patterns == ("~$*", "*.eml", "*回复*")


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.yml"
    path.write_text(text, encoding="utf-8")
    return path


def test_unknown_key_is_named_with_the_file(tmp_path):
    good = load_config().path.read_text(encoding="utf-8")
    path = _write(
        tmp_path, good.replace("    staging_table: scale_detail", "    staging_tabel: scale_detail")
    )
    with pytest.raises(
        WdhError, match=r"sources.yml: domains.annuity_performance.staging_tabel: unknown key"
    ):
        load_config(path)


def test_bad_choice_is_named(tmp_path):
    good = load_config().path.read_text(encoding="utf-8")
    path = _write(tmp_path, good.replace("version_strategy: highest_number", "version_strategy: biggest"))
    with pytest.raises(WdhError, match=r"version_strategy: must be one of highest_number, latest_modified"):
        load_config(path)


def test_parent_directory_in_base_path_is_refused(tmp_path):
    good = load_config().path.read_text(encoding="utf-8")
    path = _write(
        tmp_path,
        good.replace('base_path: "real_data/{YYYYMM}/收集数据/数据采集"', 'base_path: "../{YYYYMM}"', 1),
    )
    with pytest.raises(WdhError, match=r"base_path: must be relative to the data root"):
        load_config(path)


def test_unknown_domain_lists_the_valid_ones():
    with pytest.raises(WdhError) as error:
        load_config().domain("annuity_perf")
    assert "annuity_performance" in str(error.value)
