"""Crashes anywhere lose nothing; reruns converge; secrets never leak."""

from __future__ import annotations

from pathlib import Path

import pytest

from loader.faults import POINTS
from tests.helpers import cli_env, generate, query, run_cli, run_etl, table_checksum

pytestmark = pytest.mark.integration
PERIOD = "202411"
PERF = "business.规模明细"


@pytest.fixture(scope="module")
def months(workdir: Path) -> dict[str, Path]:
    """The month to load, and another version of it (other values, same scope)."""
    generate(workdir / "good", PERIOD, rows=80)
    generate(workdir / "other", PERIOD, rows=80)
    from loader.sample import generate_month

    generate_month(workdir / "other", PERIOD, rows=80, seed=7)
    return {"good": workdir / "good", "other": workdir / "other"}


@pytest.fixture(scope="module")
def env(database, workdir):
    return cli_env(database, workdir)


def etl(env, data: Path, **extra: str):
    return run_etl(env, data, "--execute", extra_env=extra)


@pytest.fixture(scope="module")
def checksums(database, env, months) -> dict[str, str]:
    sums = {}
    for name in ("other", "good"):
        assert etl(env, months[name]).returncode == 0
        sums[name] = table_checksum(database, PERF)
    assert sums["good"] != sums["other"]
    return sums


@pytest.mark.parametrize("point", POINTS)
def test_a_crash_loses_nothing_and_a_rerun_converges(database, env, months, checksums, point):
    assert etl(env, months["other"]).returncode == 0  # what is published before the crash
    crashed = etl(env, months["good"], WDH_FAULT_AT=point)
    assert crashed.returncode == -9, crashed.stdout + crashed.stderr  # SIGKILL
    after_crash = table_checksum(database, PERF)
    assert after_crash == checksums["good" if point == "after_publish" else "other"]  # never half-written

    rerun = etl(env, months["good"])
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert table_checksum(database, PERF) == checksums["good"]
    assert query(database, "select count(*) from wdh_meta.run_domains where status = 'running'") == [(0,)]
    [(status,)] = query(
        database,
        """
        select d.status from wdh_meta.run_domains d join wdh_meta.runs r using (run_id)
        where r.exit_code is null order by r.started_at desc limit 1""",
    )
    assert status == "crashed"


def test_three_runs_give_identical_tables(database, env, months, checksums):
    sums = []
    for _ in range(3):
        assert etl(env, months["good"]).returncode == 0
        sums.append(table_checksum(database, PERF))
    assert sums == [checksums["good"]] * 3


def test_no_password_in_any_output_or_log(database, env, months, workdir):
    from loader.warehouse import Connection

    secret = "Wdh-T0p-Secret-9731"
    conn = Connection.from_url(env["WDH_DATABASE_URL"])
    url = f"postgresql://{conn.user}:{secret}@{conn.host}:{conn.port}/{conn.dbname}"
    home = workdir / "secret-home"
    secret_env = cli_env(conn, workdir, WDH_DATABASE_URL=url, WDH_HOME=str(home))
    outputs = []
    for args in (
        ["etl", "--all-domains", "--period", PERIOD, "--data-dir", str(months["good"]), "--execute", "-vv"],
        [
            "etl",
            "--all-domains",
            "--period",
            PERIOD,
            "--data-dir",
            str(months["good"]),
            "--log-format",
            "json",
        ],
        [
            "etl",
            "--domains",
            "annuity_performance",
            "--period",
            PERIOD,
            "--data-dir",
            str(months["good"]),
            "--execute",
            "--log-format",
            "json",
        ],
        ["check-db"],
        ["runs"],
        ["db", "url"],
    ):
        result = run_cli(*args, env=secret_env)
        outputs.append(result.stdout + result.stderr)
    assert all(secret not in text for text in outputs)
    assert any("***" in text for text in outputs)
    leaked = [p for p in home.rglob("*") if p.is_file() and secret.encode() in p.read_bytes()]
    assert leaked == []
    assert query(database, "select count(*) from wdh_meta.runs where command like %s", (f"%{secret}%",)) == [
        (0,)
    ]
