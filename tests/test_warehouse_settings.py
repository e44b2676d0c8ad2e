"""Which database everything uses: the settings and their precedence, the env file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from loader.errors import WdhError
from loader.settings import read_env_file
from loader.warehouse import (
    COMPONENT_SETTINGS,
    URL_SETTINGS,
    Connection,
    configured_database,
    describe_target,
)
from tests.helpers import cli_env, generate, run_cli

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
