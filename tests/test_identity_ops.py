"""Identity operations (docs/identity.md): the token (`wdh auth`), the freshness of
enterprise.base_info (`wdh eqc-refresh`) and the lookup queue (`process_queue`), on a real
PostgreSQL with the suite's local lookup service (tests/eqc_server.py)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
import warnings
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from loader.eqc import EqcClient, EqcSettings
from loader.identity import DEFAULT_SALT, temporary_company_id
from loader.identity_ops import QueueResult, process_queue, read_checkpoint, write_token
from loader.sample import SCALE_HEADERS
from loader.settings import read_env_file
from loader.warehouse import connect
from tests.eqc_server import FakeEqc
from tests.helpers import (
    GOOD_ROW,
    PROJECT,
    catalog_snapshot,
    cli_env,
    empty_identity_tables,
    month_with,
    query,
    run_cli,
    run_etl,
    table_checksum,
)

pytestmark = pytest.mark.integration
TOKEN = "tok-0123456789abcdef"  # long enough to be shown masked: tok-…cdef
SEARCH = "/kg-api-hfd/api/search/"
T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
# `wdh` with the identity commands registered (idempotent once loader/cli.py registers them)
BOOT = (
    "from loader.cli import main; from loader.cli_identity import auth, eqc_refresh; "
    "[main.add_command(c) for c in (auth, eqc_refresh) if c.name not in main.commands]; "
    "main(prog_name='wdh')"
)


@pytest.fixture(scope="module")
def env(database, workdir):
    env_file = workdir / "wdh_env"
    env_file.write_text("# the suite's env file: never the project's .wdh_env\n", encoding="utf-8")
    env = cli_env(database, workdir, WDH_EQC_RATE_LIMIT="1000", WDH_ENV_FILE=str(env_file))
    run_cli("dbt", "run-operation", "migrate_identity_tables", env=env, check=True)
    return env


@pytest.fixture
def eqc(database, env):
    """A lookup service that knows 甲公司 … 丁公司; the identity tables start empty."""
    empty_identity_tables(database)
    with FakeEqc(token=TOKEN) as fake:
        for number, name in enumerate(("甲公司", "乙公司", "丙公司", "丁公司"), start=1):
            fake.add_company(name, f"90000000{number}", province="广东省")
        fake.add_company("戊公司", "900000005", match_type="拼音")
        yield fake


def wdh(*args: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BOOT, *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        timeout=300,
    )


def service(env: dict[str, str], eqc: FakeEqc, token: str | None = None) -> dict[str, str]:
    return {**env, "WDH_EQC_BASE_URL": eqc.url, "WDH_EQC_TOKEN": token or eqc.token}


def client(eqc: FakeEqc) -> EqcClient:
    """A client of the fake service that never sleeps (retries and rate limit are instant)."""
    settings = EqcSettings(base_url=eqc.url, token=eqc.token, rate_limit=1000, rate_window=1.0)
    return EqcClient(settings, sleep=lambda seconds: None)


def asked(eqc: FakeEqc, endpoint: str = "findDepart", since: int = 0) -> list[str]:
    """The ids (findDepart, findLabels) or names (search) the service was asked for, in order,
    from its `since`-th request on."""
    prefix = SEARCH + ("?key=" if endpoint == "search" else f"{endpoint}?targetId=")
    return [r.path.removeprefix(prefix) for r in eqc.requests[since:] if r.path.startswith(prefix)]


def output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


# ------------------------------------------------------------------------------- write_token

ENV_TEXT = (
    b"\xef\xbb\xbf# settings\r\n"
    b"WDH_DATABASE_URL=postgresql://u:p@db:5432/wdh\r\n"
    b"export WDH_EQC_TOKEN=old-token # Updated: 2024-01-01 00:00:00\r\n"
    b"NAME='a b' # \xe4\xb8\xad\xe6\x96\x87\r\n"
    b"WDH_EQC_TOKEN=older-token\r\n"
    b"LAST=1"
)


def test_write_token_replaces_the_line_and_keeps_every_other_byte(tmp_path):
    path = tmp_path / ".wdh_env"
    path.write_bytes(ENV_TEXT)
    path.chmod(0o640)
    write_token(path, "new-token-123", datetime(2025, 3, 1, 9, 5, 7))
    assert path.read_bytes() == (
        b"\xef\xbb\xbf# settings\r\n"
        b"WDH_DATABASE_URL=postgresql://u:p@db:5432/wdh\r\n"
        b"export WDH_EQC_TOKEN=new-token-123 # Updated: 2025-03-01 09:05:07\r\n"
        b"NAME='a b' # \xe4\xb8\xad\xe6\x96\x87\r\n"
        b"LAST=1"
    )
    assert read_env_file(path)["WDH_EQC_TOKEN"] == "new-token-123"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_write_token_appends_the_line_and_creates_a_private_file(tmp_path):
    path = tmp_path / "new_env"
    write_token(path, "t1", datetime(2025, 3, 1, 9, 0, 0))
    assert path.read_text() == "WDH_EQC_TOKEN=t1 # Updated: 2025-03-01 09:00:00\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = tmp_path / "other_env"
    other.write_text("A=1\nB=2")  # no newline at the end
    write_token(other, "t2", datetime(2025, 3, 1, 9, 0, 0))
    assert other.read_text() == "A=1\nB=2\nWDH_EQC_TOKEN=t2 # Updated: 2025-03-01 09:00:00\n"


def test_write_token_refuses_what_is_not_a_token(tmp_path, capsys):
    from loader.errors import WdhError

    path = tmp_path / "env"
    path.write_text("A=1\n")
    for bad in ("", "two words", "'quoted'"):
        with pytest.raises(WdhError):
            write_token(path, bad, datetime(2025, 3, 1))
    assert path.read_text() == "A=1\n"
    write_token(path, "secret-token-value", datetime(2025, 3, 1))
    assert "secret-token-value" not in "".join(capsys.readouterr())


# ------------------------------------------------------------------------------ wdh auth


def test_auth_status_valid_shows_the_token_masked(env, eqc):
    result = wdh("auth", "status", env=service(env, eqc))
    assert result.returncode == 0, output(result)
    assert f"token valid: tok-…cdef (WDH_EQC_TOKEN), service {eqc.url}" in result.stdout
    assert TOKEN not in output(result)
    assert eqc.requests[0].headers["token"] == TOKEN


def test_auth_status_invalid_and_missing_exit_1(env, eqc):
    refused = wdh("auth", "status", env=service(env, eqc, token="expired-token-0123456789"))
    assert refused.returncode == 1
    assert "token invalid: expi…6789" in refused.stdout and "wdh auth refresh" in refused.stdout
    missing = wdh("auth", "status", env={**env, "WDH_EQC_BASE_URL": eqc.url})
    assert missing.returncode == 1
    assert "token missing" in missing.stdout


def test_auth_status_unknown_when_the_service_cannot_be_reached(env):
    result = wdh(
        "auth", "status", env={**env, "WDH_EQC_BASE_URL": "http://127.0.0.1:9", "WDH_EQC_TOKEN": TOKEN}
    )
    assert result.returncode == 1
    assert "token unknown: tok-…cdef" in result.stdout


def own_env_file(env: dict[str, str], eqc: FakeEqc, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """The environment with an env file of the test's own (WDH_ENV_FILE) and the fake service."""
    env_file = tmp_path / "wdh_env"
    env_file.write_text("WDH_DATA_BASE_DIR=data\n", encoding="utf-8")
    return {**env, "WDH_ENV_FILE": str(env_file), "WDH_EQC_BASE_URL": eqc.url}, env_file


def test_auth_refresh_saves_a_pasted_valid_token(env, eqc, tmp_path):
    lookups, env_file = own_env_file(env, eqc, tmp_path)
    result = wdh("auth", "refresh", "--paste", env=lookups, stdin=TOKEN + "\n")
    assert result.returncode == 0, output(result)
    assert TOKEN not in output(result)
    assert f"token tok-…cdef (valid) saved to {env_file}" in result.stdout
    text = env_file.read_text(encoding="utf-8")
    assert text.startswith(f"WDH_DATA_BASE_DIR=data\nWDH_EQC_TOKEN={TOKEN} # Updated: 20")
    assert read_env_file(env_file)["WDH_EQC_TOKEN"] == TOKEN
    assert eqc.requests[0].path.startswith(SEARCH + "searchAll?keyword=test")  # the validation call
    assert eqc.requests[0].headers["token"] == TOKEN
    status = wdh("auth", "status", env=lookups)  # now reads it from the file
    assert status.returncode == 0 and f"token valid: tok-…cdef (WDH_EQC_TOKEN in {env_file})" in status.stdout


def test_auth_refresh_keeps_a_refused_token_out_of_the_file(env, eqc, tmp_path):
    lookups, env_file = own_env_file(env, eqc, tmp_path)
    before = env_file.read_bytes()
    result = wdh("auth", "refresh", env=lookups, stdin="wrong-token-0123456789\n")
    assert result.returncode == 1
    assert "refused the token wron…6789; nothing was saved" in result.stderr
    assert "workdatahub-elt[browser]" in result.stderr  # says how to get the browser login
    assert "wrong-token-0123456789" not in output(result)
    assert env_file.read_bytes() == before
    empty = wdh("auth", "refresh", "--paste", env=lookups, stdin="\n")
    assert empty.returncode == 1 and "no token given" in empty.stderr


def test_auth_refresh_no_save_prints_and_env_file_chooses_the_file(env, eqc, tmp_path):
    lookups, env_file = own_env_file(env, eqc, tmp_path)
    before = env_file.read_bytes()
    printed = wdh("auth", "refresh", "--paste", "--no-save", env=lookups, stdin=TOKEN + "\n")
    assert printed.returncode == 0, output(printed)
    assert printed.stdout == f"WDH_EQC_TOKEN={TOKEN}\n"
    other = tmp_path / "team.env"
    saved = wdh("auth", "refresh", "--paste", "--env-file", str(other), env=lookups, stdin=TOKEN + "\n")
    assert saved.returncode == 0, output(saved)
    assert read_env_file(other) == {"WDH_EQC_TOKEN": TOKEN}
    assert env_file.read_bytes() == before


def test_auth_refresh_prompts_hidden_on_a_terminal_and_ctrl_c_exits_130(env, eqc, tmp_path):
    import pty
    import select

    lookups, env_file = own_env_file(env, eqc, tmp_path)
    before = env_file.read_bytes()

    def session(keys: bytes) -> tuple[str, int]:
        with warnings.catch_warnings():  # the child only execs: forking beside the fake's thread is safe
            warnings.simplefilter("ignore", DeprecationWarning)
            pid, fd = pty.fork()
        if pid == 0:  # the child: wdh on a terminal
            os.chdir(PROJECT)
            os.execve(sys.executable, [sys.executable, "-c", BOOT, "auth", "refresh"], lookups)
        seen = b""
        deadline = time.monotonic() + 60
        while b"token (input hidden): " not in seen and time.monotonic() < deadline:
            if select.select([fd], [], [], 0.1)[0]:
                seen += os.read(fd, 4096)
        os.write(fd, keys)
        while time.monotonic() < deadline:
            try:
                if select.select([fd], [], [], 0.1)[0]:
                    chunk = os.read(fd, 4096)
                    if not chunk:
                        break
                    seen += chunk
            except OSError:  # the child is gone
                break
        return seen.decode(), os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

    text, code = session(TOKEN.encode() + b"\r")
    assert code == 0 and "saved to" in text and TOKEN not in text  # not echoed
    assert read_env_file(env_file)["WDH_EQC_TOKEN"] == TOKEN
    env_file.write_bytes(before)
    text, code = session(b"\x03")
    assert code == 130 and "interrupted: the token was not changed" in text
    assert env_file.read_bytes() == before


# ------------------------------------------------------------------------------ eqc-refresh


def seed_companies(database, ages: dict[str, int | None]) -> None:
    """base_info rows as a lookup left them: company id → days since fetched (None: never)."""
    names = {f"90000000{n}": name for n, name in enumerate(("甲公司", "乙公司", "丙公司", "丁公司"), start=1)}
    with connect(database) as pg, pg.cursor() as cur:
        for company_id, days in ages.items():
            cur.execute(
                "insert into enterprise.base_info (company_id, search_key_word, symbol, data_source, "
                "api_fetched_at) values (%s, %s, 'KEPT', 'search', now() - make_interval(days => %s))",
                (company_id, names.get(company_id, f"公司{company_id}"), days),
            )


def base_info(database) -> dict[str, tuple[Any, ...]]:
    rows = query(
        database,
        "select company_id, data_source, symbol, province, raw_business_info is not null, "
        "raw_data is not null, api_fetched_at > now() - interval '1 hour' from enterprise.base_info",
    )
    return {row[0]: row[1:] for row in rows}


def test_eqc_refresh_status_counts_fresh_stale_and_never_fetched(database, env, eqc):
    seed_companies(database, {"900000001": 1, "900000002": 200, "900000003": 100, "900000004": None})
    result = wdh("eqc-refresh", "--status", env=env)
    assert result.returncode == 0, output(result)
    assert result.stdout.splitlines() == [
        "enterprise.base_info: 4 companies",
        "  fresh (fetched within 90 days): 1",
        "  stale (fetched more than 90 days ago): 2",
        "  never fetched: 1",
    ]
    narrower = wdh("eqc-refresh", "--status", "--threshold-days", "150", env=env)
    assert "  stale (fetched more than 150 days ago): 1" in narrower.stdout
    assert eqc.requests == []


def test_eqc_refresh_company_ids_fetches_them_by_the_coalesce_rule(database, env, eqc, tmp_path):
    seed_companies(database, {"900000001": 200, "900000002": 200, "900000003": 200})
    result = wdh(
        "eqc-refresh", "--company-ids", "900000001, 900000002", "--rate-limit", "100",
        "--checkpoint-dir", str(tmp_path), env=service(env, eqc),
    )  # fmt: skip
    assert result.returncode == 0, output(result)
    assert "refreshed 2 of 2 companies" in result.stdout and "0 failed" in result.stdout
    assert asked(eqc) == asked(eqc, "findLabels") == ["900000001", "900000002"]
    assert asked(eqc, "search") == ["甲公司", "乙公司"]
    rows = base_info(database)
    assert rows["900000001"] == ("refresh", "KEPT", "广东省", True, True, True)  # symbol: not in the answer
    assert rows["900000003"] == ("search", "KEPT", None, False, False, False)
    assert not (tmp_path / "eqc-refresh.json").exists()  # a finished refresh leaves no checkpoint
    assert TOKEN not in output(result)


def test_eqc_refresh_counts_an_unknown_company_as_failed(database, env, eqc, tmp_path):
    seed_companies(database, {"900000001": 200})
    result = wdh(
        "eqc-refresh", "--company-ids", "900000001,123", "--rate-limit", "100",
        "--checkpoint-dir", str(tmp_path), env=service(env, eqc),
    )  # fmt: skip
    assert result.returncode == 1
    assert (
        "refreshed 1 of 2 companies" in result.stdout
        and "failed 123: findDepart gave no detail" in result.stdout
    )
    assert base_info(database)["900000001"][0] == "refresh"


def test_eqc_refresh_stale_refreshes_only_the_stale_and_never_fetched(database, env, eqc, tmp_path):
    seed_companies(database, {"900000001": 1, "900000002": 200, "900000003": None, "900000004": 30})
    args = ("eqc-refresh", "--refresh-stale", "--rate-limit", "100", "--checkpoint-dir", str(tmp_path))
    unconfirmed = wdh(*args, env=service(env, eqc), stdin="n\n")
    assert unconfirmed.returncode == 1 and "refresh 2 companies (6 requests" in unconfirmed.stdout
    assert eqc.requests == []
    result = wdh(*args, "--yes", env=service(env, eqc))
    assert result.returncode == 0, output(result)
    assert asked(eqc) == ["900000003", "900000002"]  # never fetched first, then the oldest
    assert {k: v[0] for k, v in base_info(database).items()} == {
        "900000001": "search",
        "900000002": "refresh",
        "900000003": "refresh",
        "900000004": "search",
    }


def test_eqc_refresh_dry_run_asks_and_writes_nothing(database, env, eqc, tmp_path):
    seed_companies(database, {"900000001": 200, "900000002": 200})
    before = table_checksum(database, "enterprise.base_info", exclude=())
    result = wdh(
        "eqc-refresh", "--refresh-all", "--dry-run", "--checkpoint-dir", str(tmp_path), env=service(env, eqc)
    )
    assert result.returncode == 0, output(result)
    assert "would refresh 2 companies (6 requests, about 6 s at 1/s): 900000001, 900000002" in result.stdout
    assert eqc.requests == [] and list(tmp_path.iterdir()) == []
    assert table_checksum(database, "enterprise.base_info", exclude=()) == before


def test_eqc_refresh_wants_exactly_one_action(env):
    assert wdh("eqc-refresh", env=env).returncode == 2
    both = wdh("eqc-refresh", "--status", "--refresh-all", env=env)
    assert both.returncode == 2 and "(got --status, --refresh-all)" in both.stderr


def test_a_killed_refresh_resumes_with_only_the_rest(database, env, eqc, tmp_path):
    ids = [f"9100000{n:02d}" for n in range(10)]
    for company_id in ids:
        eqc.add_company(f"公司{company_id}", company_id)
    seed_companies(database, dict.fromkeys(ids, 200))
    args = ("eqc-refresh", "--refresh-all", "--yes", "--batch-size", "2", "--checkpoint-dir", str(tmp_path))
    process = subprocess.Popen(
        [sys.executable, "-c", BOOT, *args, "--rate-limit", "20"],
        env=service(env, eqc), cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(eqc.requests) < 8 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stdout + stderr
    assert "`wdh eqc-refresh --resume` continues" in stderr
    state = read_checkpoint(tmp_path / "eqc-refresh.json")
    assert state is not None and state.company_ids == ids and 2 <= len(state.done) < len(ids)
    first = len(eqc.requests)

    resumed = wdh("eqc-refresh", "--resume", "--checkpoint-dir", str(tmp_path), env=service(env, eqc))
    assert resumed.returncode == 0, output(resumed)
    assert asked(eqc, since=first) == [company_id for company_id in ids if company_id not in state.done]
    assert f"({len(state.done)} done before the interruption)" in resumed.stdout
    assert {v[0] for v in base_info(database).values()} == {"refresh"}
    assert not (tmp_path / "eqc-refresh.json").exists()


def test_a_refused_token_stops_the_refresh_and_resume_finishes_it(database, env, eqc, tmp_path):
    seed_companies(database, {"900000001": 200, "900000002": 200, "900000003": 200, "900000004": 200})
    eqc.fail_next(*["ok"] * 6, "token_expired")  # two companies (3 requests each), then TokenExpired
    args = ("eqc-refresh", "--refresh-all", "--yes", "--rate-limit", "100", "--checkpoint-dir", str(tmp_path))
    stopped = wdh(*args, env=service(env, eqc))
    assert stopped.returncode == 1
    assert "refused the token" in stopped.stderr and "wdh eqc-refresh --resume" in stopped.stderr
    assert read_checkpoint(tmp_path / "eqc-refresh.json").done == ["900000001", "900000002"]
    first = len(eqc.requests)
    other = wdh("eqc-refresh", "--company-ids", "900000003", "--checkpoint-dir", str(tmp_path),
                env=service(env, eqc), stdin="n\n")  # fmt: skip
    assert (
        other.returncode == 1
        and "an interrupted refresh (--refresh-all: 2 of 4 companies left)" in other.stderr
    )
    assert len(eqc.requests) == first and (tmp_path / "eqc-refresh.json").exists()
    resumed = wdh("eqc-refresh", "--resume", "--checkpoint-dir", str(tmp_path), env=service(env, eqc))
    assert resumed.returncode == 0, output(resumed)
    assert asked(eqc, since=first) == ["900000003", "900000004"]
    assert {v[0] for v in base_info(database).values()} == {"refresh"}


# ---------------------------------------------------------------------- the lookup queue


def enqueue(database, names: list[str], **columns: Any) -> None:
    """Requests for `names`, created one second apart in this order."""
    with connect(database) as pg, pg.cursor() as cur:
        for number, name in enumerate(names):
            values = {"status": "pending", "attempts": 0, "updated_at": T0, **columns}
            cur.execute(
                "insert into enterprise.enrichment_requests (raw_name, normalized_name, temp_id, status, "
                "attempts, created_at, updated_at) values (%s, %s, %s, %s, %s, %s, %s)",
                (name, name, temporary_company_id(name, DEFAULT_SALT), values["status"], values["attempts"],
                 T0 - timedelta(hours=1) + timedelta(seconds=number), values["updated_at"]),
            )  # fmt: skip


def requests(database) -> dict[str, tuple[Any, ...]]:
    rows = query(
        database,
        "select normalized_name, status, attempts, next_retry_at, resolved_company_id, last_error "
        "from enterprise.enrichment_requests",
    )
    return {row[0]: row[1:] for row in rows}


def work(database, eqc: FakeEqc, at: datetime = T0, batch_size: int = 50) -> QueueResult:
    return process_queue(database, client(eqc), batch_size=batch_size, execute=True, now=lambda: at)


def test_the_queue_resolves_caches_and_fills_resolved_company_id(database, eqc):
    enqueue(database, ["甲公司", "戊公司"])
    result = work(database, eqc)
    assert (result.taken, result.done, result.retried, result.failed, result.pending_after) == (2, 2, 0, 0, 0)
    assert requests(database) == {
        "甲公司": ("done", 0, None, "900000001", None),
        "戊公司": ("done", 0, None, "900000005", None),
    }
    cache = query(
        database,
        "select lookup_key, company_id, source, source_domain, confidence from enterprise.enrichment_index "
        "where lookup_type = 'customer_name' order by 1",
    )
    assert cache == [
        ("戊公司", "900000005", "EQC", "company_lookup_queue", Decimal("0.60")),  # 拼音: never above the sync
        ("甲公司", "900000001", "EQC", "company_lookup_queue", Decimal("0.80")),
    ]
    assert query(database, "select company_id, search_key_word from enterprise.base_info order by 1") == [
        ("900000001", "甲公司"),
        ("900000005", "戊公司"),
    ]
    assert asked(eqc, "search") == ["甲公司", "戊公司"]  # oldest first


def test_a_miss_is_retried_after_1_and_5_minutes_and_fails_at_the_3rd_attempt(database, eqc):
    enqueue(database, ["无名公司"])
    first = work(database, eqc, T0)
    assert (first.retried, first.failed) == (1, 0)
    assert requests(database)["无名公司"] == (
        "pending", 1, T0 + timedelta(minutes=1), None, "not found by the lookup service"
    )  # fmt: skip
    early = work(database, eqc, T0 + timedelta(seconds=59))
    assert early.taken == 0 and early.due == 0 and early.pending_before == 1
    second_at = T0 + timedelta(minutes=1)
    assert work(database, eqc, second_at).retried == 1
    assert requests(database)["无名公司"][:3] == ("pending", 2, second_at + timedelta(minutes=5))
    assert work(database, eqc, second_at + timedelta(minutes=4, seconds=59)).taken == 0
    third = work(database, eqc, second_at + timedelta(minutes=5))
    assert (third.taken, third.retried, third.failed, third.pending_after) == (1, 0, 1, 0)
    assert requests(database)["无名公司"][:4] == ("failed", 3, None, None)
    assert asked(eqc, "search") == ["无名公司"] * 3
    assert work(database, eqc, T0 + timedelta(days=1)).taken == 0  # failed stays failed


def test_requests_stuck_in_processing_for_15_minutes_are_reset(database, eqc):
    enqueue(database, ["甲公司"], status="processing", updated_at=T0 - timedelta(minutes=16))
    enqueue(database, ["乙公司"], status="processing", updated_at=T0 - timedelta(minutes=14))
    plan = process_queue(database, None, batch_size=50, execute=False, now=lambda: T0)
    assert (plan.stuck, plan.pending_before) == (1, 0)
    result = work(database, eqc)
    assert (result.stuck_reset, result.taken, result.done) == (1, 1, 1)
    assert requests(database)["甲公司"][0] == "done"
    assert requests(database)["乙公司"][0] == "processing"  # its worker may still be at it
    assert asked(eqc, "search") == ["甲公司"]


def test_a_plan_counts_and_neither_writes_nor_asks(database, eqc, monkeypatch):
    enqueue(database, ["甲公司", "乙公司"])
    enqueue(database, ["丙公司"], attempts=1)
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute(
            "update enterprise.enrichment_requests set next_retry_at = %s where attempts = 1",
            (T0 + timedelta(minutes=1),),
        )
        cur.execute(
            "insert into enterprise.enrichment_requests (raw_name, normalized_name) "
            "select '名' || n, '名' || n from generate_series(1, 9998) as n"
        )
    before = (
        catalog_snapshot(database),
        table_checksum(database, "enterprise.enrichment_requests", exclude=()),
    )
    plan = process_queue(database, client(eqc), batch_size=50, execute=False, now=lambda: T0)
    assert (plan.pending_before, plan.due, plan.stuck, plan.taken, plan.pending_after) == (
        10001,
        10000,
        0,
        0,
        10001,
    )
    assert plan.warning is not None and "10,001 lookup requests are pending, more than 10,000" in plan.warning
    assert eqc.requests == []
    assert (
        catalog_snapshot(database),
        table_checksum(database, "enterprise.enrichment_requests", exclude=()),
    ) == before
    monkeypatch.setenv("WDH_ENRICHMENT_QUEUE_WARNING_THRESHOLD", "20000")
    assert process_queue(database, None, batch_size=50, execute=False, now=lambda: T0).warning is None


def test_a_429_storm_is_ridden_out_by_the_retries_and_a_longer_one_is_retried_later(database, eqc):
    enqueue(database, ["甲公司"])
    eqc.fail_next(429, 429)  # the client's two retries
    assert work(database, eqc).done == 1
    enqueue(database, ["乙公司"])
    eqc.fail_next(429, 429, 429)
    result = work(database, eqc)
    assert (result.done, result.retried) == (0, 1)
    status, attempts, _, _, error = requests(database)["乙公司"]
    assert (status, attempts) == ("pending", 1) and "HTTP 429" in error
    assert work(database, eqc, T0 + timedelta(minutes=1)).done == 1


def test_a_refused_token_stops_the_queue_and_puts_the_requests_back(database, eqc):
    enqueue(database, ["甲公司", "乙公司", "丙公司"])
    eqc.fail_next("ok", "ok", "ok", "token_expired")  # 甲公司: search, findDepart, findLabels
    result = work(database, eqc)
    assert (
        result.error is not None
        and "refused the token" in result.error
        and "wdh auth refresh" in result.error
    )
    assert (result.taken, result.done, result.retried, result.failed, result.pending_after) == (3, 1, 0, 0, 2)
    assert requests(database)["乙公司"] == ("pending", 0, None, None, None)
    assert requests(database)["丙公司"] == ("pending", 0, None, None, None)
    assert len(asked(eqc, "search")) == 2
    missing = process_queue(database, None, batch_size=50, execute=True, now=lambda: T0)
    assert missing.error is not None and "WDH_EQC_TOKEN" in missing.error and missing.taken == 0


def test_two_workers_never_take_the_same_request(database, eqc):
    names = [f"并行公司{n:02d}" for n in range(24)]
    for number, name in enumerate(names):
        eqc.add_company(name, f"92000000{number:02d}")
    enqueue(database, names)
    results: list[QueueResult] = []
    # at most one request per 10 ms each: the two workers are surely at it at the same time
    settings = EqcSettings(base_url=eqc.url, token=eqc.token, rate_limit=1, rate_window=0.01)

    def worker() -> None:
        results.append(process_queue(database, EqcClient(settings), batch_size=3, execute=True))

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(asked(eqc, "search")) == names  # each name asked once
    assert sum(r.taken for r in results) == sum(r.done for r in results) == 24
    assert all(r.taken >= 3 for r in results)  # both worked
    assert {v[0] for v in requests(database).values()} == {"done"}


# ------------------------------------------- published months pick up what the queue resolved


def test_rerunning_a_month_replaces_the_temporary_ids_the_queue_resolved(database, env, eqc, tmp_path):
    rows = [list(GOOD_ROW) for _ in range(3)]
    for row, (plan, name) in zip(
        rows, (("T0301", "甲公司"), ("T0302", "壬公司"), ("T0303", "癸公司")), strict=True
    ):
        row[3], row[8] = plan, name
    month_with(tmp_path, {"规模明细": [SCALE_HEADERS, *rows]})
    with connect(database) as pg, pg.cursor() as cur:
        cur.execute(
            "insert into enterprise.enrichment_index (lookup_type, lookup_key, company_id, source) "
            "values ('customer_name', '甲公司', '900000001', 'manual')"
        )
    first = run_etl(env, tmp_path, "--execute")  # no token: no lookups
    assert first.returncode == 0, output(first)
    temporary = {name: temporary_company_id(name, DEFAULT_SALT) for name in ("壬公司", "癸公司")}
    ids = 'select "计划代码", company_id from business.规模明细 where "计划代码" like \'T03%%\' order by 1'
    assert query(database, ids) == [
        ("T0301", "900000001"),
        ("T0302", temporary["壬公司"]),
        ("T0303", temporary["癸公司"]),
    ]
    without_ids = ("id", "created_at", "updated_at", "_run_id", "company_id")
    published = table_checksum(database, "business.规模明细", exclude=without_ids)

    eqc.add_company("壬公司", "900000009")
    assert work(database, eqc, datetime.now(UTC)).done == 1  # 癸公司 stays unknown
    rerun = run_etl(service(env, eqc), tmp_path, "--execute", "--enrichment-sync-budget", "0")
    assert rerun.returncode == 0, output(rerun)
    assert query(database, ids) == [
        ("T0301", "900000001"),
        ("T0302", "900000009"),
        ("T0303", temporary["癸公司"]),
    ]
    assert table_checksum(database, "business.规模明细", exclude=without_ids) == published
    assert asked(eqc, "search") == ["壬公司", "癸公司"]  # the queue's; the rerun asked no one
