"""Company identity end to end (enrichment.md §1–§3): every layer in the spec's order on a
real PostgreSQL, the lookup service played by the suite's local HTTP server
(tests/eqc_server.py), the cache, back-flow, queue and base_info as they are written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loader.identity import (
    DEFAULT_SALT,
    temporary_company_id,
    upsert_base_info,
    upsert_cache,
    write_former_name,
)
from loader.sample import SCALE_HEADERS
from loader.warehouse import connect
from tests.eqc_server import FakeEqc
from tests.helpers import (
    GOOD_ROW,
    catalog_snapshot,
    cli_env,
    empty_identity_tables,
    month_with,
    query,
    run_cli,
    run_etl,
)

pytestmark = pytest.mark.integration
PERF = "business.规模明细"
INCOME_HEADERS = ["月度", "业务类型", "计划类型", "计划号", "计划名称", "组合类型", "组合代码", "组合名称",
                  "客户名称",
                  "固费", "浮费", "回补", "税", "机构", "机构名称"]  # fmt: skip


@pytest.fixture(scope="module")
def env(database, workdir):
    env = cli_env(database, workdir, WDH_EQC_RATE_LIMIT="1000")
    run_cli("dbt", "run-operation", "migrate_identity_tables", env=env, check=True)
    return env


@pytest.fixture
def eqc(database, env):
    """A lookup service that knows 庚公司 and 辛公司; the identity tables start empty."""
    empty_identity_tables(database)
    with FakeEqc() as fake:
        fake.add_company("庚公司", "800000007", former_names="庚公司旧名一,庚公司旧名二")
        fake.add_company("辛公司", "800000008", match_type="拼音")
        yield fake


def searched(eqc: FakeEqc) -> list[str]:
    """The names the lookup service was asked for, in order."""
    prefix = "/kg-api-hfd/api/search/?key="
    return [r.path.removeprefix(prefix) for r in eqc.requests if r.path.startswith(prefix)]


def lookups_env(env: dict[str, str], eqc: FakeEqc) -> dict[str, str]:
    return {**env, "WDH_EQC_BASE_URL": eqc.url, "WDH_EQC_TOKEN": eqc.token}


def scale_row(
    plan: str, name: str | None, source_id: str | None = None, plan_type: str = "单一计划"
) -> list[Any]:
    row = list(GOOD_ROW)
    row[2], row[3], row[8] = plan_type, plan, name
    return [*row, source_id]


def month(root: Path, rows: list[list[Any]], income: list[list[Any]] | None = None) -> Path:
    sheets = {"规模明细": [[*SCALE_HEADERS, "公司代码"], *rows]}
    if income is not None:
        sheets["收入明细"] = [INCOME_HEADERS, *income]
    month_with(root, sheets)
    return root


def seed_cache(database, entries: list[tuple[str, str, str]]) -> None:
    with connect(database) as pg, pg.cursor() as cur:
        for lookup_type, key, company_id in entries:
            cur.execute(
                "insert into enterprise.enrichment_index (lookup_type, lookup_key, company_id, source) "
                "values (%s, %s, %s, 'manual')",
                (lookup_type, key, company_id),
            )


def company_ids(database) -> dict[str, str | None]:
    rows = query(database, f'select "计划代码", company_id from {PERF} where "计划代码" like %s', ("T%",))
    return dict(rows)


def last_run(stdout: str) -> str:
    return next(line.split()[1] for line in stdout.splitlines() if line.startswith("run "))


EVERY_LAYER = [
    scale_row("T0001", "甲公司"),  # cache plan_code
    scale_row("T0002", "乙公司"),  # cache customer_name, tried before plan_customer
    scale_row("T0003", "丙公司"),  # cache plan_customer
    scale_row("T0004", "丁公司旧名"),  # cache former_name
    scale_row("T0005", "戊公司"),  # cached only as a placeholder: ignored → unknown → temporary id
    scale_row("T0006", "己公司", " 700000006 "),  # the sheet's own id → back-flow
    scale_row("T0007", "庚公司"),  # the lookup service
    scale_row("T0008", "癸公司"),  # unknown to everything → temporary id, queued
    scale_row("T0009", None, plan_type="集合计划"),  # no name, nothing cached: no company
    scale_row("T0010", "甲公司", "N/A"),  # placeholder source id; plan not cached, name is
]


def test_every_layer_in_the_spec_order(database, env, eqc, tmp_path):
    seed_cache(
        database,
        [
            ("plan_code", "T0001", "600000001"),
            ("customer_name", "乙公司", "600000002"),
            ("plan_customer", "T0002|乙公司", "699999999"),
            ("plan_customer", "T0003|丙公司", "600000003"),
            ("former_name", "丁公司旧名", "600000004"),
            ("customer_name", "戊公司", "N/A"),
            ("customer_name", "甲公司", "600000010"),
        ],
    )
    result = run_etl(lookups_env(env, eqc), month(tmp_path, EVERY_LAYER), "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    temporary = {name: temporary_company_id(name, DEFAULT_SALT) for name in ("戊公司", "癸公司")}
    assert company_ids(database) == {
        "T0001": "600000001",
        "T0002": "600000002",
        "T0003": "600000003",
        "T0004": "600000004",
        "T0005": temporary["戊公司"],
        "T0006": "700000006",
        "T0007": "800000007",
        "T0008": temporary["癸公司"],
        "T0009": None,
        "T0010": "600000010",
    }
    # the cache after the run: hits counted once per key, back-flow, the lookup's entries
    cache = {
        (t, k): (c, s, h, str(conf))
        for t, k, c, s, h, conf in query(
            database,
            "select lookup_type, lookup_key, company_id, source, hit_count, confidence "
            "from enterprise.enrichment_index",
        )
    }
    assert cache[("plan_code", "T0001")][2] == 1
    assert cache[("customer_name", "乙公司")][2] == 1
    assert cache[("plan_customer", "T0002|乙公司")][2] == 0  # not reached: the name hit first
    assert cache[("plan_customer", "T0003|丙公司")][2] == 1
    assert cache[("former_name", "丁公司旧名")][2] == 1
    assert cache[("plan_code", "T0006")][:2] == ("700000006", "backflow")
    assert cache[("customer_name", "己公司")][:2] == ("700000006", "backflow")
    assert cache[("customer_name", "庚公司")] == ("800000007", "eqc_api", 0, "1.00")
    assert cache[("former_name", "庚公司旧名一")] == ("800000007", "eqc_api", 0, "0.90")
    assert cache[("former_name", "庚公司旧名二")][0] == "800000007"
    assert ("customer_name", "癸公司") not in cache
    base_info = query(
        database,
        "select search_key_word, company_full_name, raw_data is not null, raw_business_info is not null "
        "from enterprise.base_info where company_id = '800000007'",
    )
    assert base_info == [("庚公司", "庚公司", True, True)]
    assert sorted(
        query(database, "select normalized_name, temp_id, status from enterprise.enrichment_requests")
    ) == [
        ("戊公司", temporary["戊公司"], "pending"),
        ("癸公司", temporary["癸公司"], "pending"),
    ]
    assert sorted(searched(eqc)) == ["庚公司", "戊公司", "癸公司"]
    # shown, recorded, listed
    run_id = last_run(result.stdout)
    (identity,) = query(database, "select identity from wdh_meta.run_domains where run_id = %s", (run_id,))[0]
    assert identity["rows"]["cache_plan_code"] == 1
    assert identity["rows"]["cache_customer_name"] == 2
    assert identity["rows"]["temporary"] == 2
    assert identity["rows"]["lookup"] == 1
    assert identity["rows"]["source_column"] == 1
    assert (identity["lookups"], identity["budget"], identity["service"]) == (3, 500, "ready")
    assert "lookups 3/500 (ready)" in result.stdout
    listed = run_cli("unresolved", run_id, env=env, check=True).stdout
    assert "戊公司" in listed and temporary["癸公司"] in listed and "甲公司" not in listed
    csv_path = tmp_path / "unresolved.csv"
    run_cli("unresolved", run_id, "--csv", str(csv_path), env=env, check=True)
    assert csv_path.read_text(encoding="utf-8-sig").splitlines()[0] == "domain,name,temporary_id,rows"
    # the token is a secret: never printed, logged or recorded
    ledger = json.dumps(query(database, "select row_to_json(d) from wdh_meta.run_domains d"), default=str)
    logs = "".join(p.read_text(errors="replace") for p in (Path(env["WDH_HOME"]) / "dbt").rglob("*.log"))
    assert eqc.token not in result.stdout + result.stderr + ledger + logs


def test_a_name_two_rows_give_different_ids_keeps_the_first_in_workbook_order(database, env, eqc, tmp_path):
    """Back-flow of one batch: two rows name 壬公司 with different ids of their own. The
    cache keeps the first row's (the original wrote row by row, first write wins); the
    bookkeeping of the domain is written, not lost to a conflicting upsert."""
    rows = [scale_row("T0011", "壬公司", "700000012"), scale_row("T0012", "壬公司", "700000011")]
    result = run_etl(env, month(tmp_path, rows), "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "not written" not in result.stdout + result.stderr
    assert {k: v for k, v in company_ids(database).items() if k in ("T0011", "T0012")} == {
        "T0011": "700000012",
        "T0012": "700000011",
    }
    cache = query(
        database,
        "select lookup_type, lookup_key, company_id, source from enterprise.enrichment_index order by 1, 2",
    )
    assert cache == [
        ("customer_name", "壬公司", "700000012", "backflow"),
        ("plan_code", "T0011", "700000012", "backflow"),
        ("plan_code", "T0012", "700000011", "backflow"),
    ]


def test_a_rerun_finds_the_lookups_in_the_cache_and_queues_nothing_twice(database, env, eqc, tmp_path):
    data = month(tmp_path, [scale_row("T0007", "庚公司"), scale_row("T0008", "癸公司")])
    assert run_etl(lookups_env(env, eqc), data, "--execute").returncode == 0
    assert sorted(searched(eqc)) == ["庚公司", "癸公司"]
    second = run_etl(lookups_env(env, eqc), data, "--execute")
    assert second.returncode == 0, second.stdout + second.stderr
    assert sorted(searched(eqc)) == ["庚公司", "癸公司", "癸公司"]  # 庚公司 is cached now
    assert company_ids(database)["T0007"] == "800000007"
    assert query(database, "select count(*) from enterprise.enrichment_requests") == [(1,)]
    assert query(
        database, "select hit_count from enterprise.enrichment_index where lookup_key = '庚公司'"
    ) == [(1,)]


def test_the_budget_counts_distinct_names_and_zero_means_no_lookups(database, env, eqc, tmp_path):
    rows = [scale_row("T0007", "庚公司"), scale_row("T0017", "庚公司"), scale_row("T0008", "辛公司")]
    data = month(tmp_path, rows)
    result = run_etl(lookups_env(env, eqc), data, "--execute", "--enrichment-sync-budget", "0")
    assert result.returncode == 0 and searched(eqc) == []
    assert "lookups" not in result.stdout or "off (--enrichment-sync-budget 0)" in result.stdout
    result = run_etl(lookups_env(env, eqc), data, "--execute", "--enrichment-sync-budget", "1")
    assert result.returncode == 0
    assert searched(eqc) == ["庚公司"]  # one name, two rows: one unit of the budget
    ids = company_ids(database)
    assert ids["T0007"] == ids["T0017"] == "800000007"
    assert ids["T0008"] == temporary_company_id("辛公司", DEFAULT_SALT)


def test_an_expired_token_stops_lookups_not_the_month(database, env, eqc, tmp_path):
    eqc.expire_token()
    data = month(tmp_path, [scale_row("T0007", "庚公司"), scale_row("T0008", "辛公司")])
    result = run_etl(lookups_env(env, eqc), data, "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(eqc.requests) == 1  # the first 401 disables the service for the run
    assert "token rejected" in result.stdout
    assert company_ids(database)["T0007"] == temporary_company_id("庚公司", DEFAULT_SALT)


def test_income_never_looks_up_but_uses_what_this_run_looked_up(database, env, eqc, tmp_path):
    income = [[202411, "企年受托", "单一计划", "T0107", "庚公司企业年金计划", None, None, None, "庚公司",
               100, 0, 0, 0, "G01", "北京"]]  # fmt: skip
    data = month(tmp_path, [scale_row("T0007", "庚公司")], income=income)
    result = run_etl(lookups_env(env, eqc), data, "--execute", domains="annuity_income")
    assert result.returncode == 0 and searched(eqc) == []
    assert query(database, "select company_id from business.收入明细 where \"计划代码\" = 'T0107'") == [
        (temporary_company_id("庚公司", DEFAULT_SALT),)
    ]
    result = run_etl(lookups_env(env, eqc), data, "--execute", domains="annuity_performance,annuity_income")
    assert result.returncode == 0, result.stdout + result.stderr
    assert searched(eqc) == ["庚公司"]
    assert query(database, "select company_id from business.收入明细 where \"计划代码\" = 'T0107'") == [
        ("800000007",)
    ]


def test_a_plan_makes_no_lookups_and_writes_nothing(database, env, eqc, tmp_path):
    seed_cache(database, [("plan_code", "T0001", "600000001")])
    before = catalog_snapshot(database)
    cache_before = query(database, "select lookup_key, hit_count from enterprise.enrichment_index order by 1")
    result = run_etl(lookups_env(env, eqc), month(tmp_path, EVERY_LAYER))
    assert result.returncode == 0, result.stdout + result.stderr
    assert eqc.requests == []
    assert catalog_snapshot(database) == before
    assert (
        query(database, "select lookup_key, hit_count from enterprise.enrichment_index order by 1")
        == cache_before
    )
    assert "1 cache plan_code" in result.stdout
    # every named identity but 己公司 (its sheet's own id) is open: only T0001 is cached here
    assert "--execute would ask the lookup service for 7 name(s) (budget 500)" in result.stdout


def test_cache_write_rules(database, env):
    """§2.1: confidence is the max; the id changes only on a strictly higher confidence;
    a former name claimed by two companies is removed. §2.3: base_info never loses a value."""
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute("truncate enterprise.enrichment_index, enterprise.base_info cascade")
        write = lambda company, confidence: upsert_cache(  # noqa: E731
            cur, [("customer_name", "某公司", company)], confidence=Decimal(confidence),
            source="eqc_api", source_domain=None, source_table=None,
        )  # fmt: skip
        write("1", "0.80")
        write("2", "0.80")  # equal confidence: kept
        write("3", "0.70")  # lower: kept, confidence stays 0.80
        cur.execute("select company_id, confidence, hit_count from enterprise.enrichment_index")
        assert cur.fetchall() == [("1", Decimal("0.80"), 2)]
        write("4", "0.90")
        cur.execute("select company_id, confidence from enterprise.enrichment_index")
        assert cur.fetchall() == [("4", Decimal("0.90"))]

        write_former_name(cur, "旧名", "7", Decimal("0.9"))
        write_former_name(cur, "旧名", "7", Decimal("0.9"))
        cur.execute(
            "select company_id, hit_count from enterprise.enrichment_index where lookup_type = 'former_name'"
        )
        assert cur.fetchall() == [("7", 1)]
        write_former_name(cur, "旧名", "8", Decimal("0.9"))  # ambiguous: banned
        cur.execute("select count(*) from enterprise.enrichment_index where lookup_type = 'former_name'")
        assert cur.fetchone() == (0,)

        upsert_base_info(cur, {"company_id": "9", "name": "某公司", "unite_code": "U1", "raw_data": {"a": 1}})
        upsert_base_info(cur, {"company_id": "9", "name": None, "unite_code": "U2", "raw_data": None})
        cur.execute("select name, unite_code, raw_data::text from enterprise.base_info")
        assert cur.fetchall() == [("某公司", "U2", '{"a": 1}')]


def test_the_lookup_queue_domain_resolves_what_a_run_queued(database, env, eqc, tmp_path):
    data = month(tmp_path, [scale_row("T0008", "癸公司")])
    assert run_etl(lookups_env(env, eqc), data, "--execute", "--enrichment-sync-budget", "0").returncode == 0
    eqc.add_company("癸公司", "800000009")
    queue = ["etl", "--domains", "company_lookup_queue"]
    plan = run_cli(*queue, env=lookups_env(env, eqc))
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "lookup queue: 1 pending, 1 due now" in plan.stdout and eqc.requests == []
    result = run_cli(*queue, "--execute", "--batch-size", "10", env=lookups_env(env, eqc))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 taken, 1 resolved" in result.stdout
    assert query(database, "select status, resolved_company_id from enterprise.enrichment_requests") == [
        ("done", "800000009")
    ]
    assert run_etl(lookups_env(env, eqc), data, "--execute", "--enrichment-sync-budget", "0").returncode == 0
    assert company_ids(database)["T0008"] == "800000009"
