"""Which database everything uses: the settings and their precedence, the env file, the
embedded warehouse (durable, `wdh db url` without starting it, `wdh db destroy`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from loader.errors import WdhError
from loader.settings import read_env_file
from loader.warehouse import (
    COMPONENT_SETTINGS,
    URL_SETTINGS,
    Connection,
    EmbeddedServer,
    configured_database,
    describe_target,
)
from tests.helpers import PROJECT, cli_env, generate, query, run_cli

SETTINGS = (*URL_SETTINGS, *COMPONENT_SETTINGS.values(), "WDH_ENV_FILE")
COMPONENTS = {
    "WDH_DATABASE__HOST": "db.example",
    "WDH_DATABASE__PORT": "6543",
    "WDH_DATABASE__USER": "etl",
    "WDH_DATABASE__PASSWORD": "p@ss:w/rd #1%",
    "WDH_DATABASE__DB": "warehouse_c",
}


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No database setting in the environment, and a working directory without `.wdh_env`."""
    for key in SETTINGS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _url(dbname: str) -> str:
    return f"postgresql://etl:pw@db.example:5432/{dbname}"


def _bare_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The CLI's environment without any WDH_ setting: an empty env file, its own WDH_HOME."""
    env_file = tmp_path / "empty.env"
    env_file.touch()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WDH_", "DBT_"))}
    return {**env, "WDH_HOME": str(tmp_path / "home"), "WDH_ENV_FILE": str(env_file), **extra}


# --- precedence ------------------------------------------------------------------------------


def test_without_any_database_setting_the_embedded_server_is_used(no_settings):
    assert configured_database() is None


@pytest.mark.parametrize("key", URL_SETTINGS)
def test_each_url_setting_wins_over_the_ones_after_it_in_the_environment(no_settings, monkeypatch, key):
    later = URL_SETTINGS[URL_SETTINGS.index(key) + 1 :]
    for other in later:
        monkeypatch.setenv(other, _url("not_this_one"))
    for name, value in COMPONENTS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(key, _url("chosen"))
    conn = configured_database()
    assert conn is not None and conn.dbname == "chosen" and conn.source == f"from {key}"


@pytest.mark.parametrize("key", URL_SETTINGS)
def test_each_url_setting_is_read_from_the_env_file(no_settings, key):
    later = [f"{other}={_url('not_this_one')}" for other in URL_SETTINGS[URL_SETTINGS.index(key) + 1 :]]
    (no_settings / ".wdh_env").write_text("\n".join([f"{key}={_url('chosen')}", *later]) + "\n")
    conn = configured_database()
    assert conn is not None and conn.dbname == "chosen"
    assert conn.source == f"from {key} in {no_settings / '.wdh_env'}"


def test_the_environment_wins_over_the_same_key_in_the_env_file(no_settings, monkeypatch):
    (no_settings / ".wdh_env").write_text(f"WDH_DATABASE__URI={_url('from_file')}\n")
    monkeypatch.setenv("WDH_DATABASE__URI", _url("from_environment"))
    conn = configured_database()
    assert conn is not None and conn.dbname == "from_environment" and conn.source == "from WDH_DATABASE__URI"


def test_wdh_env_file_names_the_env_file(no_settings, monkeypatch):
    (no_settings / ".wdh_env").write_text(f"WDH_DATABASE_URI={_url('not_this_one')}\n")
    other = no_settings / "elsewhere" / "prod.env"
    other.parent.mkdir()
    other.write_text(f"WDH_DATABASE_URI={_url('named_file')}\n")
    monkeypatch.setenv("WDH_ENV_FILE", str(other))
    conn = configured_database()
    assert conn is not None and conn.dbname == "named_file" and str(other) in conn.source


def test_env_file_lines_comments_quotes_and_export(tmp_path):
    path = tmp_path / ".wdh_env"
    path.write_text(
        "# the database\n"
        "\n"
        "export WDH_DATABASE__HOST=db.example\n"
        "WDH_DATABASE__PASSWORD='p#ss word'\n"
        'WDH_DATABASE__USER = "etl"  # quoted\n'
        "WDH_EQC_TOKEN=abc123 # Updated: 2024-12-01 10:00:00\n"
        "WDH_DATABASE__DB=a#b\n"
    )
    assert read_env_file(path) == {
        "WDH_DATABASE__HOST": "db.example",
        "WDH_DATABASE__PASSWORD": "p#ss word",
        "WDH_DATABASE__USER": "etl",
        "WDH_EQC_TOKEN": "abc123",
        "WDH_DATABASE__DB": "a#b",
    }


# --- components --------------------------------------------------------------------------------


def test_components_are_assembled_into_a_url_with_the_password_quoted(no_settings, monkeypatch):
    for name, value in COMPONENTS.items():
        monkeypatch.setenv(name, value)
    conn = configured_database()
    assert conn is not None
    assert conn.url() == "postgresql://etl:p%40ss%3Aw%2Frd%20%231%25@db.example:6543/warehouse_c"
    assert Connection.from_url(conn.url()) == conn
    assert describe_target(conn) == (
        "postgresql://etl:***@db.example:6543/warehouse_c (from WDH_DATABASE__HOST/PORT/USER/PASSWORD/DB)"
    )


def test_components_default_to_port_5432_and_user_postgres(no_settings, monkeypatch):
    monkeypatch.setenv("WDH_DATABASE__HOST", "db.example")
    monkeypatch.setenv("WDH_DATABASE__DB", "warehouse_c")
    assert configured_database() == Connection("db.example", 5432, "postgres", "", "warehouse_c")


def test_components_may_come_from_the_environment_and_the_env_file(no_settings, monkeypatch):
    (no_settings / ".wdh_env").write_text("WDH_DATABASE__HOST=db.example\nWDH_DATABASE__DB=from_file\n")
    monkeypatch.setenv("WDH_DATABASE__DB", "from_environment")
    conn = configured_database()
    assert conn is not None and (conn.host, conn.dbname) == ("db.example", "from_environment")
    assert conn.source == f"from WDH_DATABASE__HOST/DB in {no_settings / '.wdh_env'} and the environment"


# --- unusable settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        (
            {"WDH_DATABASE__URI": "mysql://etl:pw@db.example/wh"},
            "WDH_DATABASE__URI must start with postgresql://",
        ),
        (
            {"WDH_DATABASE_URI": "postgresql://etl@db.example:five/wh"},
            "WDH_DATABASE_URI has a port that is not",
        ),
        (
            {"WDH_DATABASE__HOST": "db.example", "WDH_DATABASE__PORT": "five", "WDH_DATABASE__DB": "wh"},
            "WDH_DATABASE__PORT is not a port number: 'five'",
        ),
        ({"WDH_DATABASE__HOST": "db.example", "WDH_DATABASE__USER": "etl"}, "WDH_DATABASE__DB is missing"),
        ({"WDH_DATABASE__DB": "wh", "WDH_DATABASE__PASSWORD": "pw"}, "WDH_DATABASE__HOST is missing"),
        ({"WDH_ENV_FILE": "missing.env"}, "WDH_ENV_FILE names"),
    ],
)
def test_an_unusable_setting_is_an_error_naming_it(no_settings, monkeypatch, settings, reason):
    for name, value in settings.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(WdhError, match=reason) as error:
        configured_database()
    assert error.value.hint and "pw" not in error.value.message


def test_an_unusable_setting_fails_execute_and_starts_no_embedded_server(tmp_path):
    data = tmp_path / "data"
    generate(data, "202411", rows=20)
    env_file = tmp_path / ".wdh_env"
    env_file.write_text("WDH_DATABASE__HOST=db.example\nWDH_DATABASE__PORT=five\nWDH_DATABASE__DB=wh\n")
    env = _bare_env(tmp_path, WDH_ENV_FILE=str(env_file))
    argv = ["etl", "--domains", "annuity_performance", "--period", "202411", "--data-dir", str(data)]
    result = run_cli(*argv, "--execute", env=env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"WDH_DATABASE__PORT in {env_file} is not a port number" in result.stdout + result.stderr
    assert not (tmp_path / "home" / "pgdata").exists()


# --- check-db ------------------------------------------------------------------------------------


@pytest.mark.integration
def test_check_db_through_the_component_settings_shows_the_masked_target(database, tmp_path):
    password = database.password or "Wdh-s3cret p@ss"  # the embedded server trusts, any password works
    env = _bare_env(
        tmp_path,
        WDH_DATABASE__HOST=database.host,
        WDH_DATABASE__PORT=str(database.port),
        WDH_DATABASE__USER=database.user,
        WDH_DATABASE__PASSWORD=password,
        WDH_DATABASE__DB=database.dbname,
    )
    result = run_cli("check-db", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[0] == (
        f"database: postgresql://{database.user}:***@{database.host}:{database.port}/{database.dbname} "
        "(from WDH_DATABASE__HOST/PORT/USER/PASSWORD/DB)"
    )
    assert password not in result.stdout + result.stderr


@pytest.mark.integration
def test_check_db_and_etl_check_db_print_the_same(database, tmp_path):
    env = cli_env(database, tmp_path, WDH_ENV_FILE=_bare_env(tmp_path)["WDH_ENV_FILE"])
    alone = run_cli("check-db", env=env)
    in_etl = run_cli("etl", "--check-db", env=env)
    assert alone.returncode == in_etl.returncode == 0, alone.stdout
    assert alone.stdout == in_etl.stdout
    assert alone.stdout.startswith(f"database: {describe_target(Connection.from_url(database.url()))}\n")


# --- the embedded warehouse ----------------------------------------------------------------------


def test_db_url_on_a_fresh_home_prints_the_url_and_starts_nothing(tmp_path):
    result = run_cli("db", "url", env=_bare_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout == "postgresql://postgres@127.0.0.1:54329/wdh\n"
    )  # no password part: pg_dump takes it
    assert "not running" in result.stderr
    assert not (tmp_path / "home").exists()


def test_db_url_masks_a_configured_password_unless_asked(tmp_path):
    env = _bare_env(tmp_path, WDH_DATABASE__URI="postgresql://etl:s3cr%40t@db.example:6543/wh")
    assert run_cli("db", "url", env=env).stdout == "postgresql://etl:***@db.example:6543/wh\n"
    shown = run_cli("db", "url", "--show-password", env=env).stdout
    assert shown == "postgresql://etl:s3cr%40t@db.example:6543/wh\n"


def test_db_destroy_refuses_a_configured_database(tmp_path):
    pgdata = tmp_path / "home" / "pgdata"
    pgdata.mkdir(parents=True)
    env = _bare_env(tmp_path, WDH_DATABASE_URL="postgresql://etl:s3cret@db.example:6543/wh")
    result = run_cli("db", "destroy", "--yes", env=env)
    assert result.returncode == 1
    assert "only deletes the embedded server's data" in result.stderr and "s3cret" not in result.stderr
    assert pgdata.exists()


def test_make_clean_removes_build_state_and_keeps_the_warehouse(tmp_path):
    shutil.copy(PROJECT / "Makefile", tmp_path / "Makefile")
    kept = tmp_path / ".wdh" / "pgdata" / "PG_VERSION"
    built = [
        tmp_path / ".wdh" / "dbt" / "target" / "manifest.json",
        tmp_path / ".wdh" / "dbt" / "runs" / "20261201_000000_abcdef" / "logs" / "dbt.log",
        tmp_path / "dbt_project" / "target" / "x",
    ]
    for path in [kept, *built]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    env = {k: v for k, v in os.environ.items() if k != "WDH_HOME"}
    subprocess.run(["make", "clean"], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert kept.exists() and not any(path.exists() for path in built)


@pytest.fixture(scope="module")
def embedded_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A WDH_HOME whose embedded server `wdh db start` started as users start it."""
    tmp_path = tmp_path_factory.mktemp("embedded")
    run_cli("db", "start", env=_bare_env(tmp_path), check=True)
    yield tmp_path
    EmbeddedServer(tmp_path / "home").stop()


def test_embedded_server_is_durable_with_fsync_on(embedded_home):
    server = EmbeddedServer(embedded_home / "home")
    assert query(server.connection(), "show fsync") == [("on",)]


def test_db_url_of_the_running_embedded_server_has_its_port(embedded_home):
    port = EmbeddedServer(embedded_home / "home").connection().port
    result = run_cli("db", "url", env=_bare_env(embedded_home))
    assert result.stdout == f"postgresql://postgres@127.0.0.1:{port}/wdh\n" and result.stderr == ""


def test_db_destroy_answered_no_keeps_the_data(embedded_home):
    result = subprocess.run(
        [sys.executable, "-m", "loader", "db", "destroy"],
        input="n\n",
        capture_output=True,
        text=True,
        env=_bare_env(embedded_home),
        cwd=PROJECT,
        timeout=60,
    )
    assert result.returncode == 1 and "Aborted" in result.stderr
    assert (embedded_home / "home" / "pgdata" / "PG_VERSION").exists()
    assert EmbeddedServer(embedded_home / "home").is_running()


def test_db_destroy_yes_stops_the_server_and_deletes_the_data(embedded_home):
    server = EmbeddedServer(embedded_home / "home")
    result = run_cli("db", "destroy", "--yes", env=_bare_env(embedded_home))
    assert result.returncode == 0, result.stderr
    assert not server.pgdata.exists() and not server.is_running()
