"""Plan-only predicts --execute exactly: the same pipeline on a scratch PostgreSQL, the
change to the target shown, the target untouched, nothing left behind."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from loader.config import load_config
from tests.helpers import PROJECT, catalog_snapshot, cli_env, generate, query, run_cli, run_etl

pytestmark = pytest.mark.integration
PERIOD = "202411"
DOMAINS = "annuity_performance,annuity_income,annual_award,annual_loss"
COUNTS = ("rows_read", "rows_published", "rows_dropped", "rows_rejected", "refresh_scope")


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


@pytest.fixture(scope="module")
def months(workdir: Path) -> dict[str, Path]:
    """The month as published, and the corrected workbooks delivered later (other rows)."""
    from loader.sample import generate_month

    generate(workdir / "published", PERIOD, rows=80)
    generate_month(workdir / "changed", PERIOD, rows=90, seed=7)
    return {"published": workdir / "published", "changed": workdir / "changed"}


@pytest.fixture(scope="module")
def published(env, months) -> None:
    result = run_etl(env, months["published"], "--execute", domains=DOMAINS)
    assert result.returncode == 0, result.stdout + result.stderr


def events(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def finished(stdout: str) -> dict[str, dict[str, Any]]:
    return {e["domain"]: e["result"] for e in events(stdout) if e["event"] == "domain_finished"}


def scratch_left(workdir: Path) -> list[str]:
    """Scratch directories and PostgreSQL processes of plans that are still there."""
    root = workdir / ".wdh" / "scratch"
    left = [str(p) for p in root.iterdir()] if root.exists() else []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(root) in text and "postgres" in text:
            left.append(text)
    return left


def _grouped(database, domain: str) -> dict[tuple[str, ...], int]:
    """Published rows per refresh-key value; the first key of these domains is a month."""
    output = load_config().domain(domain).output
    first, *rest = (f'"{c}"' for c in output.refresh_key)
    columns = ", ".join([f"date_trunc('month', {first})::date", *rest])
    rows = query(
        database,
        f'select {columns}, count(*) from "{output.schema_name}"."{output.table}" group by {columns}',
    )
    return {tuple(str(v) for v in row[:-1]): row[-1] for row in rows}


def test_plan_reports_exactly_what_execute_then_does(database, env, workdir, months, published):
    before = catalog_snapshot(database)
    published_before = {d: _grouped(database, d) for d in DOMAINS.split(",")}

    plan = run_etl(env, months["changed"], "--log-format", "json", domains=DOMAINS)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert catalog_snapshot(database) == before
    assert scratch_left(workdir) == []

    execute = run_etl(env, months["changed"], "--execute", "--log-format", "json", domains=DOMAINS)
    assert execute.returncode == 0, execute.stdout + execute.stderr
    planned, executed = finished(plan.stdout), finished(execute.stdout)
    for domain in DOMAINS.split(","):
        assert planned[domain]["status"] == "planned"
        assert {k: planned[domain][k] for k in COUNTS} == {k: executed[domain][k] for k in COUNTS}, domain
        change = planned[domain]["change"]
        assert change["available"], change
        now = {tuple(str(v) for v in k["key"]): k["rows_now"] for k in change["keys"]}
        after = {tuple(str(v) for v in k["key"]): k["rows_after"] for k in change["keys"]}
        assert now == {k: published_before[domain].get(k, 0) for k in now}, domain
        assert after == {k: n for k, n in _grouped(database, domain).items() if k in after}, domain
        assert change["deleted"] == sum(now.values())
        assert change["inserted"] == planned[domain]["rows_published"]


def test_plan_text_summary_shows_the_counts_and_the_change(env, months, published):
    result = run_etl(env, months["published"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "database: a scratch PostgreSQL, thrown away after the run; compared with" in result.stdout
    assert "annuity_performance: would delete " in result.stdout
    header = next(line for line in result.stdout.splitlines() if "replaces" in line)
    assert "published" in header and "rejected" in header


def test_plan_rejects_are_listed_like_those_of_execute(env, months, published):
    plan = run_etl(env, months["published"], "--log-format", "json")
    execute = run_etl(env, months["published"], "--execute", "--log-format", "json")
    listed = []
    for result in (plan, execute):
        assert result.returncode == 0, result.stdout + result.stderr
        [run_id] = [e["run_id"] for e in events(result.stdout) if e["event"] == "run_started"]
        rejects = run_cli("rejects", run_id, env=env, check=True)
        listed.append(rejects.stdout)
    assert listed[0] == listed[1]
    assert "rejected" in listed[0] and "dropped" in listed[0]


def test_a_failing_gate_in_a_plan_uses_the_execute_words_and_exits_1(
    database, env, workdir, months, published
):
    """A workbook for 202411 delivered in the 202412 folder."""
    data = workdir / "misfiled"
    shutil.copytree(months["published"], data)
    real = data / "real_data"
    shutil.move(real / PERIOD, real / "202412")
    before = catalog_snapshot(database)
    result = run_etl(env, data, period="202412")
    assert result.returncode == 1
    assert "of 规模明细 have 月度 2024-11-01, but --period is 202412 (rows 2, 3, " in result.stdout
    assert "→ correct the workbook, or run the month of those rows with its own --period" in result.stdout
    assert catalog_snapshot(database) == before
    assert scratch_left(workdir) == []


def test_plan_without_a_reachable_target_still_judges_every_row(workdir, months):
    env = cli_env(
        _closed_database(), workdir, WDH_DATABASE_URL="postgresql://postgres@127.0.0.1:1/wdh_test_gone"
    )
    result = run_etl(env, months["published"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "change to the warehouse not shown: cannot connect to" in result.stdout
    [row] = [line for line in result.stdout.splitlines() if line.startswith("│ annuity_performance")]
    cells = [c.strip() for c in row.split("│") if c.strip()]
    assert cells[4] != "-" and cells[7] == "-"  # published judged; nothing to replace shown


def _closed_database():
    from loader.warehouse import Connection

    return Connection("127.0.0.1", 1, "postgres", "", "wdh_test_gone")


def _plan_process(env, data: Path, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loader",
            "etl",
            "--domains",
            DOMAINS,
            "--period",
            PERIOD,
            "--data-dir",
            str(data),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env, **extra},
        cwd=PROJECT,
    )


def test_an_interrupted_plan_leaves_no_scratch_behind(env, workdir, months):
    process = _plan_process(env, months["published"])
    deadline = time.monotonic() + 120
    while not list((workdir / ".wdh" / "scratch").glob("*/pgdata/postmaster.pid")):
        assert time.monotonic() < deadline and process.poll() is None, "the scratch server never started"
        time.sleep(0.05)
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, out + err
    assert scratch_left(workdir) == []


def test_a_killed_plan_is_swept_by_the_next(env, workdir, months):
    killed = run_etl(env, months["published"], extra_env={"WDH_FAULT_AT": "after_read"})
    assert killed.returncode == -9
    assert scratch_left(workdir) != []  # the dead plan's server and directory
    result = run_etl(env, months["published"], domains="annual_award")
    assert result.returncode == 0, result.stdout + result.stderr
    assert scratch_left(workdir) == []
