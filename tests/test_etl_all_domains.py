"""Every data domain of a generated month in one run, plus the sandbox domain on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.helpers import check_planted_rows, cli_env, generate, query, run_cli, summary_rows, table_checksum

pytestmark = pytest.mark.integration
PERIOD = "202411"
DOMAINS = {
    "annuity_performance": "business.规模明细",
    "annuity_income": "business.收入明细",
    "annual_award": "customer.中标客户明细",
    "annual_loss": "customer.流失客户明细",
}


@pytest.fixture(scope="module")
def month(workdir: Path) -> dict[str, Any]:
    return generate(workdir / "data", PERIOD, rows=160)


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


def _etl(env, workdir, *args: str):
    return run_cli("etl", *args, "--data-dir", str(workdir / "data"), env=env)


@pytest.fixture(scope="module")
def first_run(month, env, workdir):
    result = _etl(env, workdir, "--domains", ",".join(DOMAINS), "--period", PERIOD, "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    return summary_rows(result.stdout)


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_each_domain_publishes_read_minus_dropped_and_rejected(database, month, first_run, domain):
    expected = month[domain]
    [(count,)] = query(database, f"select count(*) from {DOMAINS[domain]}")
    assert count == expected["published"]
    assert first_run[domain][3:7] == [
        str(expected["written"]),
        str(count),
        str(expected["dropped"]),
        str(expected["rejected"]),
    ]


@pytest.mark.parametrize("domain", list(DOMAINS))
def test_planted_rows_have_the_values_the_spec_gives(database, month, first_run, domain):
    assert check_planted_rows(database, DOMAINS[domain], month[domain]["checks"]) >= 1


def test_ledger_rows_keep_the_sheet_they_came_from(database, first_run):
    sheets = {
        sheet for (sheet,) in query(database, 'select distinct _source_sheet from customer."中标客户明细"')
    }
    assert sheets == {"企年受托中标(空白)", "企年投资中标(空白)"}


def test_status_view_counts_awards_and_losses(database, first_run):
    [(awards, losses, net)] = query(
        database,
        """
        select sum(award_count), sum(loss_count), sum(net_change)
        from customer.v_customer_business_monthly_status_by_type""",
    )
    [(award_rows,)] = query(database, 'select count(*) from customer."中标客户明细"')
    [(loss_rows,)] = query(database, 'select count(*) from customer."流失客户明细"')
    assert (awards, losses, net) == (award_rows, loss_rows, award_rows - loss_rows)


def test_the_status_view_waits_for_the_other_ledger_without_an_error(database, first_run):
    """In a new warehouse the award ledger publishes first: the view over both ledgers is
    left out of its build (a note, no dbt error) and the loss domain builds it."""
    nodes = dict(
        query(
            database,
            "select domain, dbt_nodes from wdh_meta.run_domains "
            "where run_id = (select run_id from wdh_meta.runs order by started_at limit 1)",
        )
    )
    view = "v_customer_business_monthly_status_by_type"
    award = {node["name"]: node["status"] for node in nodes["annual_award"]}
    loss = {node["name"]: node["status"] for node in nodes["annual_loss"]}
    assert award["award_ledger"] == "success" and view not in award
    assert "error" not in award.values()
    assert loss[view] == "success"


def test_rerun_of_all_domains_only_improves_company_ids(database, env, workdir, first_run):
    """What the cache learned in the first run (the ledgers' own ids, back-flowed after
    the annuity domains ran) may turn temporary ids into real ones; nothing else changes,
    and the run after that changes nothing at all."""
    without_ids = ("id", "created_at", "updated_at", "_run_id", "company_id")

    def checksums(exclude: tuple[str, ...] = ("id", "created_at", "updated_at", "_run_id")) -> dict[str, str]:
        return {table: table_checksum(database, table, exclude) for table in DOMAINS.values()}

    def real_ids() -> dict[str, int]:
        sql = "select count(*) from {} where left(company_id, 2) <> 'IN'"
        return {table: query(database, sql.format(table))[0][0] for table in DOMAINS.values()}

    def rerun() -> None:
        result = _etl(env, workdir, "--domains", ",".join(DOMAINS), "--period", PERIOD, "--execute")
        assert result.returncode == 0, result.stdout + result.stderr

    before, real_before = checksums(without_ids), real_ids()
    rerun()
    assert checksums(without_ids) == before
    assert all(real_ids()[table] >= real_before[table] for table in DOMAINS.values())
    second = checksums()
    rerun()
    assert checksums() == second


def test_all_domains_runs_the_data_domains_in_config_order(env, workdir, month):
    result = _etl(env, workdir, "--all-domains", "--period", PERIOD)
    assert result.returncode == 0, result.stdout + result.stderr
    assert list(summary_rows(result.stdout)) == list(DOMAINS)


@pytest.fixture(scope="module")
def sandbox_run(env, workdir, month):
    result = _etl(env, workdir, "--domains", "sandbox_trustee_performance", "--execute")
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def test_sandbox_domain_runs_on_its_own(database, month, sandbox_run):
    expected = month["sandbox_trustee_performance"]
    [(count,)] = query(database, "select count(*) from sandbox.sandbox_trustee_performance")
    assert count == expected["published"]
    assert check_planted_rows(database, "sandbox.sandbox_trustee_performance", expected["checks"]) == 1


def test_dbt_unit_tests_pass(env, first_run, sandbox_run):
    """Every cleansing rule's dbt unit tests (the spec's dirty → clean examples) on this
    server; they need the staging tables of every domain, which the runs above created."""
    import os
    import subprocess
    import sys

    from loader.config import DBT_PROJECT_DIR
    from loader.warehouse import Connection

    conn = Connection.from_url(env["WDH_DATABASE_URL"])
    dbt = str(Path(sys.executable).parent / "dbt")
    result = subprocess.run(
        [
            dbt,
            "test",
            "--select",
            "test_type:unit",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(Path(env["WDH_HOME"]) / "dbt-unit"),
            "--log-path",
            str(Path(env["WDH_HOME"])),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **env, **conn.dbt_env(), "WDH_PERIOD": PERIOD},
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    assert "ERROR=0" in result.stdout and "PASS=" in result.stdout


def test_docs_show_the_staging_sources_with_their_columns(env, first_run):
    """`wdh docs` documents the staging tables of the last period loaded, so a source's
    page lists the columns as loaded (not an empty stg_*_000000)."""
    import json

    result = run_cli("docs", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"staging sources: period {PERIOD}" in result.stdout
    catalog = json.loads((Path(env["WDH_HOME"]) / "dbt" / "target" / "catalog.json").read_text("utf-8"))
    columns = catalog["sources"]["source.wdh.annuity_performance.scale_detail"]["columns"]
    assert {"月度", "计划代码", "客户名称", "期末资产规模", "_source_row"} <= set(columns)
    award = catalog["sources"]["source.wdh.annual_award.award_ledger"]
    assert award["metadata"]["schema"] == f"stg_annual_award_{PERIOD}"


def test_seeds_load_only_when_what_they_are_built_from_changed(database, env, workdir, first_run):
    """A rerun finds the seeds and shared models of the same fingerprint and loads none;
    a missing seed table makes the next run load them all again."""
    from loader.warehouse import connect

    def seed_nodes(run_id: str) -> list[str]:
        [(nodes,)] = query(
            database,
            "select coalesce(jsonb_agg(n->>'name'), '[]') from wdh_meta.run_domains, "
            "jsonb_array_elements(dbt_nodes) n where run_id = %s and n->>'kind' = 'seed'",
            (run_id,),
        )
        return list(nodes)

    def award_run() -> str:
        result = _etl(env, workdir, "--domains", "annual_award", "--period", PERIOD, "--execute")
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.split("· run ")[1].split()[0]

    [(builds,)] = query(database, "select count(*) from wdh_meta.shared_builds")
    assert builds >= 1
    assert seed_nodes(award_run()) == []
    assert query(database, "select count(*) from wdh_meta.shared_builds") == [(builds,)]

    with connect(database) as pg, pg.cursor() as cur:
        cur.execute('drop table mapping."company_branch"')
    assert "company_branch" in seed_nodes(award_run())
    assert query(database, "select count(*) from wdh_meta.shared_builds") == [(builds + 1,)]
    assert query(database, 'select count(*) from mapping."company_branch"')[0][0] > 0
