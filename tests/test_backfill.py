"""The reference back-fill (enrichment.md §4) end to end: the keys a month adds to the
reference tables, existing rows left as they are, tags per decision D20, nothing written
by a failed gate or a plan."""

from __future__ import annotations

import pytest

from loader.sample import SCALE_HEADERS
from loader.warehouse import connect
from tests.helpers import GOOD_ROW, catalog_snapshot, cli_env, generate, month_with, query, run_etl

pytestmark = pytest.mark.integration
PLANS, CUSTOMERS = 'mapping."年金计划"', 'customer."客户明细"'


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


def scale_month(root, period: str, plans: list[tuple[str, str]]):
    """规模明细 of `period`, one row per (plan code, the sheet's own company id)."""
    rows = []
    for plan, company_id in plans:
        row = list(GOOD_ROW)
        row[0], row[3], row[8] = int(period), plan, f"客户{company_id}"
        rows.append([*row, company_id])
    month_with(root, {"规模明细": [[*SCALE_HEADERS, "公司代码"], *rows]}, period=period)
    return root


def test_a_month_adds_only_missing_keys_and_never_changes_a_row(database, env, tmp_path):
    first = scale_month(tmp_path / "a", "202411", [("S0001", "700000001"), ("S0002", "700000002")])
    assert run_etl(env, first, "--execute").returncode == 0  # creates the tables
    with connect(database) as pg, pg.cursor() as cur:  # rows the team maintains by hand
        cur.execute(f"update {PLANS} set \"计划全称\" = '手工维护' where \"年金计划号\" = 'S0001'")
        cur.execute(
            f"update {CUSTOMERS} set tags = %s, \"客户名称\" = '手工' where company_id = '700000001'",
            ('["2401新建"]',),
        )
    second = scale_month(
        tmp_path / "b", "202412", [("S0001", "700000001"), ("S0002", "700000002"), ("S0003", "700000003")]
    )
    before = catalog_snapshot(database)
    plan = run_etl(env, second, period="202412")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert catalog_snapshot(database) == before
    assert 'would add mapping."年金计划" 1 of 3' in plan.stdout
    assert 'customer."客户明细" 1 of 3' in plan.stdout
    result = run_etl(env, second, "--execute", period="202412")
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'added mapping."年金计划" 1 of 3' in result.stdout
    plans = dict(
        query(
            database, f'select "年金计划号", "计划全称" from {PLANS} where "年金计划号" like %s', ("S000%",)
        )
    )
    assert plans == {"S0001": "手工维护", "S0002": "某公司企业年金计划", "S0003": "某公司企业年金计划"}
    customers = dict(
        query(database, f"select company_id, tags from {CUSTOMERS} where company_id like '7000000%%'")
    )
    # 新建 only when first inserted: the second month tags nobody again (D20)
    assert customers == {"700000001": ["2401新建"], "700000002": ["2411新建"], "700000003": ["2412新建"]}
    assert query(database, f"select \"客户名称\" from {CUSTOMERS} where company_id = '700000001'") == [
        ("手工",)
    ]
    (recorded,) = query(
        database,
        "select reference from wdh_meta.run_domains where status = 'ok' order by finished_at desc limit 1",
    )[0]
    assert recorded['mapping."年金计划"'] == {"candidates": 3, "new": 1, "tags_merged": 0}


def test_a_failed_gate_writes_no_reference_row(database, env, tmp_path):
    good = scale_month(tmp_path / "good", "202411", [("S0008", "700000008")])
    assert run_etl(env, good, "--execute").returncode == 0
    month_with(
        tmp_path / "bad", {"规模明细": [[*SCALE_HEADERS, "公司代码"], [202410, *GOOD_ROW[1:], "700000009"]]}
    )
    before = {t: query(database, f"select count(*) from {t}") for t in (PLANS, CUSTOMERS)}
    result = run_etl(env, tmp_path / "bad", "--execute")
    assert result.returncode == 1 and "the publishing gate failed" in result.stdout, result.stdout
    assert {t: query(database, f"select count(*) from {t}") for t in (PLANS, CUSTOMERS)} == before


def test_ledger_event_tags_are_appended_when_the_month_is_new(database, env, workdir):
    """The tag of the customer's first 上报月份 joins its tags once (a distinct union, the
    old tags first); customers the month does not name keep theirs."""
    data = workdir / "ledgers"

    def tags() -> dict[str, list[str]]:
        return dict(query(database, f"select company_id, tags from {CUSTOMERS}"))

    def load(period: str) -> dict[str, list[str]]:
        generate(data, period, rows=40)
        result = run_etl(env, data, "--execute", domains="annual_award", period=period)
        assert result.returncode == 0, result.stdout + result.stderr
        return dict(
            query(database, "select company_id, tags from wdh_work.int_award_ledger_customer_candidates")
        )

    load("202411")
    before = tags()
    candidates = load("202412")
    after = tags()
    grown = 0
    for company_id, (tag,) in candidates.items():
        old = before.get(company_id, [])
        assert after[company_id] == (old if tag in old else [*old, tag])
        grown += bool(old) and tag not in old
    assert grown, "the sample's ledgers share customers between the months"
    assert all(after[c] == t for c, t in before.items() if c not in candidates)
