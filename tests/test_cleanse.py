"""`wdh cleanse` (cli-reference.md §4, enrichment.md §2.4–§2.5) on a real PostgreSQL: the
lookup service's raw payloads in enterprise.base_info → enterprise.business_info and
enterprise.biz_label, by the dbt models of models/marts/enterprise. The rules' own
dirty → clean examples are dbt unit tests (models/marts/enterprise/_enterprise__models.yml);
these tests check the command: what it writes, what it leaves, and when."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from loader.cleanse import cleanse
from loader.cli_cleanse import cleanse as cleanse_command
from loader.eqc import EqcClient, EqcSettings
from loader.errors import WdhError
from loader.identity import upsert_base_info
from loader.warehouse import Connection, connect
from tests.eqc_server import FakeEqc
from tests.helpers import catalog_snapshot, cli_env, query, run_cli

pytestmark = pytest.mark.integration

DIRTY = {  # a findDepart answer as the service may give it
    "businessInfodto": {
        "companyFullName": " 测试公司 ",
        "registerCaptial": "1,000万元",
        "actualCapi": "5000万人民币",
        "registered_date": "2005年6月1日",
        "start_date": "2005/6/1",
        "end_date": "-",
        "updateTime": "2024-03-02 10:30:00",
        "colleagues_num": "企业选择不公示",
        "legal_person_name": "\u3000张三",
        "address": "深圳市福田区益田路5033号\n",
    }
}


def labels_of(company_id: str) -> dict[str, Any]:
    """A findLabels answer: a region label, and two labels whose companyId is missing."""
    region = {
        "companyId": company_id,
        "lv1Name": "地区分类",
        "lv2Name": "广东省",
        "lv3Name": "深圳市",
        "lv4Name": None,
    }
    return {
        "labels": [
            {"type": "地区分类", "labels": [region]},
            {
                "type": "行业分类",
                "labels": [
                    {"companyId": None, "lv1Name": " 金融业 ", "lv2Name": "货币金融服务", "lv3Name": None},
                    {
                        "companyId": None,
                        "lv1Name": "金融业",
                        "lv2Name": "保险业",
                        "lv3Name": None,
                        "lv4Name": None,
                    },
                ],
            },
        ]
    }


@pytest.fixture(scope="module")
def env(database: Connection, workdir: Path) -> dict[str, str]:
    env = cli_env(database, workdir)
    run_cli("dbt", "run-operation", "migrate_identity_tables", env=env, check=True)
    return env


@pytest.fixture(autouse=True)
def in_process(env: dict[str, str], workdir: Path) -> Iterator[None]:
    """dbt runs in this process: its settings (WDH_HOME, the WDH_PG_* and WDH_CLEANSE_* it
    exports) must not outlive the test."""
    saved = dict(os.environ)
    os.environ["WDH_HOME"] = env["WDH_HOME"]
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def base_info(database: Connection, companies: dict[str, tuple[Any, Any]]) -> None:
    """The identity tables hold exactly these companies: id → (raw_business_info, raw_biz_label)."""
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute("truncate enterprise.business_info, enterprise.biz_label, enterprise.base_info cascade")
        for company_id, (depart, labels) in companies.items():
            upsert_base_info(
                cur, {"company_id": company_id, "raw_business_info": depart, "raw_biz_label": labels}
            )


def business_info(database: Connection) -> dict[str, dict[str, Any]]:
    """enterprise.business_info by company_id: the columns the tests look at."""
    columns = ("company_name", "registered_capital", "actual_capital", "registered_date", "start_date",
               "end_date", "update_time", "colleagues_num", "legal_person_name", "address")  # fmt: skip
    rows = query(
        database,
        f"select company_id, {', '.join(columns)}, _cleansing_status::text from enterprise.business_info",
    )
    return {
        row[0]: {**dict(zip(columns, row[1:-1], strict=True)), "_cleansing_status": json.loads(row[-1])}
        for row in rows
    }


def labels(database: Connection) -> list[tuple[Any, ...]]:
    return query(
        database,
        "select company_id, type, lv1_name, lv2_name, lv3_name, lv4_name from enterprise.biz_label "
        "order by company_id, type, lv1_name, lv2_name",
    )


def ids(database: Connection) -> list[tuple[Any, ...]]:
    """Every cleansed row's table id: a row written again gets a new one."""
    return query(
        database,
        "select 'business_info', company_id, id from enterprise.business_info "
        "union all select 'biz_label', company_id, id from enterprise.biz_label order by 1, 2, 3",
    )


def run(
    database: Connection, *, dry_run: bool = False, full_refresh: bool = False, limit: int | None = None
) -> dict[str, dict[str, int]]:
    tables = ["business_info", "biz_label"]
    return cleanse(database, tables, dry_run=dry_run, full_refresh=full_refresh, limit=limit)


def test_payloads_are_cleansed_into_business_info_and_biz_label(database, env):
    base_info(database, {"1001": (DIRTY, labels_of("1001")), "1002": ({"businessInfodto": {}}, None)})

    counts = run(database)

    assert counts == {"business_info": {"companies": 1, "rows": 1}, "biz_label": {"companies": 1, "rows": 3}}
    assert business_info(database) == {
        "1001": {
            "company_name": "测试公司",
            "registered_capital": Decimal("10000000.00"),
            "actual_capital": Decimal("50000000.00"),
            "registered_date": date(2005, 6, 1),
            "start_date": date(2005, 6, 1),
            "end_date": None,
            "update_time": date(2024, 3, 2),
            "colleagues_num": None,
            "legal_person_name": "张三",
            "address": "深圳市福田区益田路5033号",
            "_cleansing_status": {"status": "cleansed"},
        }
    }
    assert labels(database) == [
        ("1001", "地区分类", "广东省", "深圳市", None, None),
        ("1001", "行业分类", "金融业", "保险业", None, None),
        ("1001", "行业分类", "金融业", "货币金融服务", None, None),
    ]


def test_an_unreadable_value_is_null_and_named_in_the_cleansing_status(database, env):
    garbage = {
        "businessInfodto": {**DIRTY["businessInfodto"], "registerCaptial": "约100万", "end_date": "长期"}
    }
    base_info(database, {"1001": (garbage, None)})

    run(database)

    cleansed = business_info(database)["1001"]
    assert (cleansed["registered_capital"], cleansed["end_date"]) == (None, None)
    assert cleansed["actual_capital"] == Decimal("50000000.00")
    assert cleansed["_cleansing_status"] == {
        "status": "partial",
        "failed": {"registered_capital": "约100万", "end_date": "长期"},
    }


def test_the_lookup_services_answers_are_cleansed_as_stored(database, env):
    """base_info as `wdh etl` writes it from the suite's lookup server (tests/eqc_server.py)."""
    base_info(database, {})
    with FakeEqc() as eqc:
        eqc.add_company("测试公司", "614810477", province="广东省")
        hit = EqcClient(EqcSettings(eqc.url, eqc.token, rate_limit=100)).lookup("测试公司")
    assert hit is not None
    with connect(database) as pg, pg.cursor() as cur:
        upsert_base_info(cur, hit.base_info_row())

    run(database)

    cleansed = business_info(database)["614810477"]
    assert cleansed["registered_capital"] == Decimal("10000000.00")  # "1,000万元"
    assert (cleansed["registered_date"], cleansed["legal_person_name"]) == (date(2005, 6, 1), "张三")
    assert labels(database) == [("614810477", "地区分类", "广东省", "深圳市", None, None)]


def test_dry_run_counts_what_a_run_writes_and_writes_nothing(database, env):
    base_info(database, {"1001": (DIRTY, labels_of("1001")), "1002": (DIRTY, None)})
    run(database, dry_run=True)  # the staging view in wdh_work exists from here on
    before = catalog_snapshot(database)

    planned = run(database, dry_run=True)

    assert catalog_snapshot(database) == before
    assert business_info(database) == {} and labels(database) == []
    assert planned == run(database)
    assert planned == {"business_info": {"companies": 2, "rows": 2}, "biz_label": {"companies": 1, "rows": 3}}


def test_a_second_run_cleanses_only_new_companies(database, env):
    base_info(database, {"1001": (DIRTY, labels_of("1001"))})
    run(database)
    written = ids(database)
    with connect(database) as pg, pg.cursor() as cur:
        upsert_base_info(
            cur, {"company_id": "1002", "raw_business_info": DIRTY, "raw_biz_label": labels_of("1002")}
        )

    counts = run(database)

    assert counts == {"business_info": {"companies": 1, "rows": 1}, "biz_label": {"companies": 1, "rows": 3}}
    assert set(written) < set(ids(database))  # 1001's rows untouched, 1002's added
    assert run(database) == {
        "business_info": {"companies": 0, "rows": 0},
        "biz_label": {"companies": 0, "rows": 0},
    }
    assert len(ids(database)) == 2 * (1 + 3)


def test_full_refresh_cleanses_a_changed_payload_again(database, env):
    base_info(database, {"1001": (DIRTY, labels_of("1001"))})
    run(database)
    changed = {"businessInfodto": {**DIRTY["businessInfodto"], "registerCaptial": "1.5亿元"}}
    region_only = {"labels": labels_of("1001")["labels"][:1]}
    with connect(database) as pg, pg.cursor() as cur:
        upsert_base_info(
            cur, {"company_id": "1001", "raw_business_info": changed, "raw_biz_label": region_only}
        )

    run(database)
    assert business_info(database)["1001"]["registered_capital"] == Decimal("10000000.00")  # not without it

    counts = run(database, full_refresh=True)

    assert counts == {"business_info": {"companies": 1, "rows": 1}, "biz_label": {"companies": 1, "rows": 1}}
    assert business_info(database)["1001"]["registered_capital"] == Decimal("150000000.00")
    assert labels(database) == [("1001", "地区分类", "广东省", "深圳市", None, None)]  # replaced as a whole


def test_limit_caps_the_companies_by_company_id(database, env):
    base_info(
        database, {company_id: (DIRTY, labels_of(company_id)) for company_id in ("1003", "1001", "1002")}
    )

    counts = run(database, limit=2)

    assert counts["business_info"] == {"companies": 2, "rows": 2}
    assert sorted(business_info(database)) == ["1001", "1002"]
    assert run(database, limit=2)["business_info"] == {"companies": 1, "rows": 1}


def test_dbt_full_refresh_keeps_the_cleansed_rows(database, env):
    base_info(database, {"1001": (DIRTY, labels_of("1001"))})
    run(database)
    written = ids(database)

    result = run_cli("dbt", "run", "--full-refresh", "--select", "business_info", "biz_label", env=env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert ids(database) == written


def test_the_command_prints_the_counts(database, env):
    base_info(database, {"1001": (DIRTY, labels_of("1001"))})
    runner = CliRunner()
    settings = {"WDH_DATABASE_URL": database.url(), "WDH_HOME": env["WDH_HOME"]}

    planned = runner.invoke(
        cleanse_command, ["--table", "all", "--dry-run", "--batch-size", "10"], env=settings
    )
    assert planned.exit_code == 0, planned.output
    assert "enterprise.business_info: 1 company to cleanse, would write 1 row" in planned.output
    assert "enterprise.biz_label: 1 company to cleanse, would write 3 rows" in planned.output
    assert "dry run: nothing was written" in planned.output
    assert business_info(database) == {}

    done = runner.invoke(cleanse_command, ["--table", "biz_label", "--limit", "5"], env=settings)
    assert done.exit_code == 0, done.output
    assert "enterprise.biz_label: 1 company to cleanse, wrote 3 rows" in done.output
    assert "business_info" not in done.output.split("\n", 1)[1]
    assert len(labels(database)) == 3 and business_info(database) == {}


def test_the_command_wants_a_known_table(database, env):
    result = CliRunner().invoke(cleanse_command, ["--table", "base_info"])
    assert result.exit_code == 2 and "'business_info', 'biz_label', 'all'" in result.output
    with pytest.raises(WdhError, match="cannot cleanse base_info"):
        cleanse(database, ["base_info"], dry_run=True, full_refresh=False, limit=None)
