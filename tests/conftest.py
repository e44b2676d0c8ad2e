"""Shared fixtures: a real PostgreSQL (the suite's own embedded server by default, the
configured database otherwise) and a fresh database per test module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from loader.warehouse import Connection, EmbeddedServer, configured_database, connect

PROJECT = Path(__file__).resolve().parent.parent
TEST_SERVER_HOME = PROJECT / ".wdh" / "test-server"  # never the user's warehouse in .wdh/pgdata


@pytest.fixture(scope="session")
def server() -> Connection:
    """An administrative connection to the server the suite may use."""
    conn = configured_database()
    if conn is not None:
        if "test" not in conn.dbname:
            pytest.exit(
                f"refusing to run against database {conn.dbname!r} ({conn.source}): "
                "its name must contain 'test'",
                2,
            )
        return conn
    embedded = EmbeddedServer(TEST_SERVER_HOME, fsync=False)  # throwaway data: speed over durability
    embedded.start()
    return embedded.connection("postgres")


@pytest.fixture(scope="module")
def database(server: Connection, request: pytest.FixtureRequest) -> Iterator[Connection]:
    """A fresh database for the test module, dropped afterwards."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")[:20]
    name = f"wdh_test_{module}_{os.getpid()}"
    assert "test" in name
    with connect(server, autocommit=True) as pg, pg.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    yield server.with_database(name)
    with connect(server, autocommit=True) as pg, pg.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("wdh")
