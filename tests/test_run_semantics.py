"""How `wdh etl` behaves as a monthly batch: selection, exit codes, isolation, modes,
options, the run ledger, check-db, locks, logs and interruption."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import (
    PROJECT,
    catalog_snapshot,
    cli_env,
    generate,
    query,
    run_cli,
    summary_rows,
    table_checksum,
)

PERIOD = "202411"
PERF = "business.规模明细"


@pytest.fixture(scope="module")
def data(workdir: Path) -> Path:
    generate(workdir / "data", PERIOD, rows=120)
    return workdir / "data"


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


def etl(env, data: Path, *args: str):
    return run_cli("etl", *args, "--data-dir", str(data), env=env)


# --- selection and usage errors (no database needed) -----------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--domains", "annuity_performance,no_such_domain", "--period", PERIOD],
            "valid domains: annuity_performance",
        ),
        (
            ["--domains", "annuity_performance,reference_sync", "--period", PERIOD],
            "can only run as the single domain",
        ),
        (
            ["--domains", "annuity_performance", "--all-domains", "--period", PERIOD],
            "exactly one of --domains",
        ),
        (["--period", PERIOD], "exactly one of --domains"),
        (["--domains", "annuity_performance"], "--period YYYYMM is required for annuity_performance"),
        (["--domains", "annuity_performance", "--period", "202413"], "--period must be YYYYMM"),
        (
            ["--domains", "annuity_performance,annuity_income", "--sheet", "x", "--period", PERIOD],
            "exactly one domain",
        ),
    ],
)
def test_usage_errors_exit_2_before_anything_runs(tmp_path, args, message):
    env = {k: v for k, v in os.environ.items() if not k.startswith("WDH_")}
    env.update(
        WDH_HOME=str(tmp_path / "home"), WDH_DATABASE_URL="postgresql://nobody@127.0.0.1:1/wdh_test_none"
    )
    result = run_cli("etl", *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "home").exists()  # nothing ran, nothing written


def test_help_has_no_side_effects_and_imports_nothing_heavy(tmp_path):
    env = {**os.environ, "WDH_HOME": str(tmp_path / "home")}
    for args in (["--help"], ["etl", "--help"]):
        result = run_cli(*args, env=env)
        assert result.returncode == 0 and "Usage:" in result.stdout
    assert not (tmp_path / "home").exists()
    heavy = "('dbt', 'dlt', 'pandas', 'pyarrow', 'psycopg2')"
    probe = f"import sys, loader.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    imported = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT, check=True
    )
    assert imported.stdout.strip() == "[]"


# --- modes --------------------------------------------------------------------------------


@pytest.mark.integration
def test_plan_only_across_all_domains_changes_nothing(database, env, data):
    before = catalog_snapshot(database)
    for flags in ([], ["--plan-only"], ["--dry-run"]):
        result = etl(env, data, "--all-domains", "--period", PERIOD, *flags)
        assert result.returncode == 0, result.stdout + result.stderr
        assert {row[-1] for row in summary_rows(result.stdout).values()} == {"planned"}
    assert catalog_snapshot(database) == before


@pytest.mark.integration
def test_execute_wins_over_plan_only(database, env, data):
    result = etl(
        env, data, "--domains", "annuity_performance", "--period", PERIOD, "--plan-only", "--execute"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "· execute ·" in result.stdout
    assert query(database, f"select count(*) > 0 from {PERF}") == [(True,)]


# --- failure isolation and exit codes ------------------------------------------------------


@pytest.mark.integration
def test_a_failing_domain_is_reported_and_the_others_run(database, env, data, workdir):
    broken = workdir / "broken"
    shutil.copytree(data, broken, dirs_exist_ok=True)
    shutil.rmtree(broken / "real_data" / PERIOD / "收集数据" / "业务收集")  # the ledger workbook is missing
    before = (
        table_checksum(database, PERF) if query(database, "select to_regclass(%s)", (PERF,))[0][0] else None
    )
    result = etl(
        env, broken, "--domains", "annual_award,annuity_performance", "--period", PERIOD, "--execute"
    )
    assert result.returncode == 1
    rows = summary_rows(result.stdout)
    assert rows["annual_award"][-1] == "failed" and rows["annuity_performance"][-1] == "ok"
    assert "no folder for domain annual_award" in result.stdout
    assert query(database, "select to_regclass('customer.中标客户明细')") == [(None,)]
    if before is not None:
        assert table_checksum(database, PERF) == before  # same month republished: unchanged
    [(status, error)] = query(
        database,
        """
        select d.status, d.error from wdh_meta.run_domains d join wdh_meta.runs r using (run_id)
        where d.domain = 'annual_award' order by r.started_at desc limit 1""",
    )
    assert status == "failed" and "业务收集" in error


# --- options ---------------------------------------------------------------------------------


@pytest.mark.integration
def test_append_mode_inserts_without_deleting(database, env, data):
    assert etl(env, data, "--domains", "annuity_income", "--period", PERIOD, "--execute").returncode == 0
    [(once,)] = query(database, 'select count(*) from business."收入明细"')
    result = etl(
        env, data, "--domains", "annuity_income", "--period", PERIOD, "--execute", "--mode", "append"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert query(database, 'select count(*) from business."收入明细"') == [(2 * once,)]
    assert etl(env, data, "--domains", "annuity_income", "--period", PERIOD, "--execute").returncode == 0
    assert query(database, 'select count(*) from business."收入明细"') == [(once,)]


@pytest.mark.integration
def test_max_files_reads_several_files_into_one_load(database, env, workdir):
    root = workdir / "two_files"
    generate(root, PERIOD, rows=60)
    folder = root / "real_data" / PERIOD / "收集数据" / "数据采集" / "V2"
    [workbook] = [p for p in folder.glob("【*.xlsx")]
    shutil.copy(workbook, folder / workbook.name.replace("1211", "1212"))
    ambiguous = etl(env, root, "--domains", "annuity_performance", "--period", PERIOD)
    assert ambiguous.returncode == 1 and "ambiguous" in ambiguous.stdout
    result = etl(env, root, "--domains", "annuity_performance", "--period", PERIOD, "--max-files", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    single = summary_rows(
        etl(env, root, "--domains", "annuity_performance", "--period", PERIOD, "--file", str(workbook)).stdout
    )["annuity_performance"]
    both = summary_rows(result.stdout)["annuity_performance"]
    assert both[2] == "2" and int(both[3]) == 2 * int(single[3])


@pytest.mark.integration
def test_sheet_override_reads_the_named_sheet(env, data):
    result = etl(env, data, "--domains", "annuity_income", "--period", PERIOD, "--sheet", "规模明细")
    assert result.returncode == 1  # 规模明细 lacks 固费: the error names it
    assert "固费" in result.stdout and "sheet 规模明细" in result.stdout


# --- ledger -----------------------------------------------------------------------------------


@pytest.mark.integration
def test_runs_lists_execute_and_plan_only_runs(env, data):
    planned = etl(env, data, "--domains", "annual_loss", "--period", PERIOD)
    executed = etl(env, data, "--domains", "annual_loss", "--period", PERIOD, "--execute")
    assert planned.returncode == executed.returncode == 0
    listing = run_cli("runs", env=env, check=True).stdout
    run_ids = [line.split()[0] for line in listing.splitlines()]
    plan_id = planned.stdout.split("· run ")[1].split()[0]
    exec_id = executed.stdout.split("· run ")[1].split()[0]
    assert plan_id in run_ids and exec_id in run_ids
    shown = json.loads(run_cli("runs", "show", exec_id, env=env, check=True).stdout)
    [domain] = shown["domains"]
    assert shown["mode"] == "execute" and shown["exit_code"] == 0
    assert domain["status"] == "ok" and domain["rows_read"] > 0 and domain["files"][0]["sha256"]
    assert set(domain["seconds"]) >= {"discover", "read", "stage", "transform", "publish"}


# --- check-db -----------------------------------------------------------------------------------


@pytest.mark.integration
def test_check_db_passes_on_a_usable_database(env):
    result = run_cli("check-db", env=env)
    assert result.returncode == 0, result.stdout
    assert "may create schemas and tables" in result.stdout and "dbt profile" in result.stdout


def test_check_db_fails_with_the_fix_and_hides_the_password(tmp_path):
    env = {
        **os.environ,
        "WDH_HOME": str(tmp_path),
        "WDH_DATABASE_URL": "postgresql://wdh:s3cret-pw@127.0.0.1:1/wdh_test",
    }
    for args in (["check-db"], ["etl", "--check-db"]):
        result = run_cli(*args, env=env)
        assert result.returncode == 1
        assert "FAIL" in result.stdout and "→" in result.stdout
        assert "s3cret-pw" not in result.stdout + result.stderr


# --- logs -----------------------------------------------------------------------------------------


@pytest.mark.integration
def test_json_log_lines_parse_and_carry_counts(env, data):
    result = etl(
        env, data, "--domains", "annual_loss", "--period", PERIOD, "--execute", "--log-format", "json"
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    names = [e["event"] for e in events]
    assert names[0] == "run_started" and names[-1] == "run_finished"
    finished = next(e for e in events if e["event"] == "domain_finished")
    assert finished["result"]["rows_published"] > 0 and finished["result"]["seconds"]["publish"] > 0


# --- concurrency and interruption -------------------------------------------------------------------


def _start(env, data: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loader", "etl", *args, "--data-dir", str(data)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT,
    )


def _wait_until_running(database, domain: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if query(database, "select to_regclass('wdh_meta.run_domains')")[0][0]:
            rows = query(
                database,
                "select run_id from wdh_meta.run_domains where domain = %s and status = 'running'",
                (domain,),
            )
            if rows:
                return str(rows[0][0])
        time.sleep(0.05)
    raise AssertionError(f"{domain} never started")


@pytest.mark.integration
def test_second_run_on_a_locked_domain_fails_naming_the_holder(database, env, data):
    first = _start(env, data, "--domains", "annuity_performance", "--period", PERIOD, "--execute")
    holder = _wait_until_running(database, "annuity_performance")
    second = etl(env, data, "--domains", "annuity_performance", "--period", PERIOD, "--execute")
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, out + err
    assert second.returncode == 1
    assert f"domain annuity_performance is being loaded by run {holder} since" in second.stdout


@pytest.mark.integration
def test_lock_timeout_waits_for_the_holder(database, env, data):
    first = _start(env, data, "--domains", "annuity_performance", "--period", PERIOD, "--execute")
    _wait_until_running(database, "annuity_performance")
    second = etl(
        env,
        data,
        "--domains",
        "annuity_performance",
        "--period",
        PERIOD,
        "--execute",
        "--lock-timeout",
        "300",
    )
    first.communicate(timeout=300)
    assert second.returncode == 0, second.stdout + second.stderr


def _wait_for_dbt_query(database, timeout: float = 120) -> None:
    """Until dbt (application_name dbt…) runs a statement in the test database."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = query(
            database,
            "select 1 from pg_stat_activity where datname = current_database() "
            "and application_name like 'dbt%%' and state = 'active'",
        )
        if rows:
            return
        time.sleep(0.02)
    raise AssertionError("dbt never ran a statement")


@pytest.mark.integration
@pytest.mark.parametrize("phase", ["loading", "dbt"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_interrupt_rolls_back_the_domain_and_exits_130(database, env, data, signum, phase):
    assert etl(env, data, "--domains", "annuity_performance", "--period", PERIOD, "--execute").returncode == 0
    before = table_checksum(database, PERF)
    # --mode append: had the interrupted domain published anything, the table would change
    process = _start(
        env,
        data,
        "--domains",
        "annuity_performance,annuity_income",
        "--period",
        PERIOD,
        "--execute",
        "--mode",
        "append",
    )
    run_id = _wait_until_running(database, "annuity_performance")
    if phase == "dbt":
        _wait_for_dbt_query(database)
    process.send_signal(signum)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert table_checksum(database, PERF) == before
    statuses = dict(
        query(database, "select domain, status from wdh_meta.run_domains where run_id = %s", (run_id,))
    )
    assert statuses == {"annuity_performance": "interrupted"}
    assert query(database, "select exit_code from wdh_meta.runs where run_id = %s", (run_id,)) == [(130,)]
    assert summary_rows(out)["annuity_income"][-1] == "skipped"


@pytest.mark.integration
def test_a_signal_python_swallowed_still_stops_the_domain(database, env, data):
    """SIGTERM raised inside a finalizer: Python prints "Exception ignored" and goes on;
    the recorded signal stops the domain at the next stage boundary all the same."""
    assert etl(env, data, "--domains", "annuity_performance", "--period", PERIOD, "--execute").returncode == 0
    before = table_checksum(database, PERF)
    result = etl(
        {**env, "WDH_FAULT_AT": "after_read", "WDH_FAULT_KIND": "swallowed-sigterm"},
        data,
        "--domains",
        "annuity_performance,annuity_income",
        "--period",
        PERIOD,
        "--execute",
        "--mode",
        "append",
    )
    assert "Exception ignored in" in result.stderr  # the handler's exception was swallowed
    assert result.returncode == 130, result.stdout + result.stderr
    assert table_checksum(database, PERF) == before
    rows = summary_rows(result.stdout)
    assert rows["annuity_performance"][-1] == "interrupted"
    assert rows["annuity_income"][-1] == "skipped"
