"""Operated like a team's warehouse: domains at the same time, dlt as dlt users know it,
provenance of every publish, dbt's own verbs on the published tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import PROJECT, cli_env, generate, query, run_cli, run_etl, summary_rows

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


@pytest.fixture(scope="module")
def data(workdir: Path) -> Path:
    for period in ("202411", "202412"):
        generate(workdir / "data", period, rows=60)
    return workdir / "data"


@pytest.fixture(scope="module")
def concurrent(env, data) -> dict[str, subprocess.CompletedProcess[str]]:
    """annuity_performance and annual_award of 202411 started together on an empty warehouse:
    both seed, build the shared models and publish at the same time."""
    flags = ("--data-dir", str(data), "--execute")
    processes = {
        domain: subprocess.Popen(
            [sys.executable, "-m", "loader", "etl", "--domains", domain, *("--period", "202411"), *flags],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT,
        )
        for domain in ("annuity_performance", "annual_award")
    }
    results = {}
    for domain, process in processes.items():
        out, err = process.communicate(timeout=600)
        results[domain] = subprocess.CompletedProcess(process.args, process.returncode, out, err)
    return results


@pytest.fixture(scope="module")
def two_months(env, data, concurrent) -> None:
    for period in ("202411", "202412"):
        result = run_etl(env, data, "--execute", domains="annuity_performance,annual_award", period=period)
        assert result.returncode == 0, result.stdout + result.stderr


def test_two_domains_load_at_the_same_time(database, concurrent):
    for domain, table in (
        ("annuity_performance", "business.规模明细"),
        ("annual_award", "customer.中标客户明细"),
    ):
        result = concurrent[domain]
        assert result.returncode == 0, result.stdout + result.stderr
        published = int(summary_rows(result.stdout)[domain][4])
        assert published > 0
        assert query(database, f"select count(*) from {table}") == [(published,)]


def test_each_run_keeps_its_own_dbt_target_and_log(workdir, concurrent):
    runs = {r.stdout.split("· run ")[1].split()[0] for r in concurrent.values()}
    for run_id in runs:
        assert (workdir / ".wdh" / "dbt" / "runs" / run_id / "logs" / "dbt.log").exists()
        compiled = workdir / ".wdh" / "dbt" / "runs" / run_id / "target" / "compiled"
        assert list(compiled.rglob("int_*_company_resolved.sql"))  # the SQL each model ran


def test_one_dlt_pipeline_per_domain_and_no_workbook_rows_left(workdir, two_months):
    pipelines = workdir / ".wdh" / "dlt"
    assert sorted(p.name for p in pipelines.iterdir()) == ["wdh_annual_award", "wdh_annuity_performance"]
    data_files = [
        p for p in pipelines.rglob("*") if p.is_file() and p.suffix in (".csv", ".parquet", ".jsonl", ".gz")
    ]
    assert data_files == []


def test_staged_rows_carry_the_load_id_the_ledger_records(database, env, two_months):
    [(run_id, provenance)] = query(
        database,
        "select run_id, provenance from wdh_meta.run_domains where domain = 'annuity_performance' "
        "and status = 'ok' order by finished_at desc limit 1",
    )
    staged = query(database, "select distinct _dlt_load_id from stg_annuity_performance_202412.scale_detail")
    assert staged == [(provenance["dlt_load_id"],)]

    shown = json.loads(run_cli("runs", "show", run_id, env=env, check=True).stdout)
    recorded = shown["domains"][0]["provenance"]
    head = subprocess.run(["git", "-C", str(PROJECT), "rev-parse", "HEAD"], capture_output=True, text=True)
    assert recorded["git_commit"] == head.stdout.strip()
    assert isinstance(recorded["git_dirty"], bool)
    assert recorded["wdh_version"] and len(recorded["config_sha256"]) == 64
    assert recorded["dbt_invocation_ids"] and set(recorded["model_checksums"]) == {"scale_detail"}


def test_a_plan_creates_no_pipeline_folder(database, data, tmp_path):
    env = cli_env(database, tmp_path)
    result = run_etl(env, data, domains="annuity_performance")
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (tmp_path / ".wdh" / "dlt").exists()


def test_staging_prune_keeps_the_last_periods(database, env, two_months):
    def schemas() -> list[str]:
        rows = query(
            database, "select nspname from pg_namespace where nspname like 'stg_annuity_performance_%%'"
        )
        return sorted(name for (name,) in rows)

    assert schemas() == ["stg_annuity_performance_202411", "stg_annuity_performance_202412"]
    plan = run_cli("staging", "prune", "--keep", "1", env=env, check=True)
    assert "would drop stg_annuity_performance_202411" in plan.stdout
    assert schemas() == ["stg_annuity_performance_202411", "stg_annuity_performance_202412"]
    run_cli("staging", "prune", "--keep", "1", "--execute", env=env, check=True)
    assert schemas() == ["stg_annuity_performance_202412"]
    assert query(database, 'select count(distinct "月度") > 1 from business.规模明细') == [(True,)]


def test_dbt_test_checks_every_published_month(database, env, two_months):
    green = run_cli("dbt", "test", env=env)
    assert green.returncode == 0, green.stdout + green.stderr
    assert "scale_detail_branch_code_in_company_branch" in green.stdout
    with_month = "\"月度\" = '2024-11-01'"
    query(database, f"update business.规模明细 set \"机构代码\" = 'G99' where {with_month} returning 1")
    red = run_cli("dbt", "test", env=env)
    assert red.returncode != 0
    assert "FAIL" in red.stdout and "scale_detail_branch_code_in_company_branch" in red.stdout
