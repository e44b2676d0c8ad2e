"""Plan-only: the execute path against a throwaway PostgreSQL, and the change it predicts.

A plan runs exactly what `--execute` runs — staging, every dbt model, verdicts, company
ids, the blocking tests, the publish — but against a scratch PostgreSQL started for the
run in a temporary directory under `<WDH_HOME>/scratch/` and removed after it (also after
Ctrl+C or a failure; a directory left by a killed run is swept by the next plan). The
target warehouse is only read: to compare what is published there now with what the run
would publish.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path
from typing import Any

from loader.config import Domain
from loader.errors import WdhError
from loader.warehouse import (
    APP_DATABASE,
    Connection,
    EmbeddedServer,
    configured_database,
    connect,
    describe_target,
    wdh_home,
)

log = logging.getLogger(__name__)

SCRATCH_PORT = 54339  # tried first, so dbt's partial parse usually survives between plans


class Scratch:
    """A throwaway embedded PostgreSQL; it starts in the background while files are read."""

    def __init__(self, dbname: str = APP_DATABASE) -> None:
        sweep_stale_scratch()
        self.dbname = dbname  # the target's: dbt's partial parse is kept per database name
        self.home = scratch_root() / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.server = EmbeddedServer(self.home, fsync=False, port=SCRATCH_PORT)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wdh-scratch")
        self._started: Future[Connection] = self._pool.submit(self._start)

    def _start(self) -> Connection:
        try:
            self.server.start()
        except WdhError:  # another plan took the port between the check and the start
            self.server.port = _any_free_port()
            try:
                self.server.start()
            except WdhError as exc:  # its log goes with the scratch directory: keep its end
                log = self.server.log
                tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise WdhError(f"the scratch PostgreSQL did not start: {exc.message}\n{tail}") from None
        self.server.ensure_database(self.dbname)
        return self.server.connection(self.dbname)

    def connection(self) -> Connection:
        return self._started.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True)  # a start still under way finishes first
        _remove(self.server)


@contextlib.contextmanager
def scratch_warehouse() -> Iterator[Scratch]:
    try:
        target = configured_database()
    except WdhError:  # reported when the plan reads the target
        target = None
    scratch = Scratch(target.dbname if target else APP_DATABASE)
    try:
        yield scratch
    finally:
        scratch.close()


def _any_free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scratch_root() -> Path:
    return wdh_home() / "scratch"


def sweep_stale_scratch() -> None:
    """Remove the scratch servers of plans whose process is gone (killed, crashed)."""
    root = scratch_root()
    if not root.is_dir():
        return
    for home in root.iterdir():
        pid = home.name.split("-", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            log.info("removing the scratch warehouse a dead plan left: %s", home)
            _remove(EmbeddedServer(home))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(server: EmbeddedServer) -> None:
    try:
        server.stop(mode="immediate")
    except WdhError as exc:
        log.warning("could not stop the scratch PostgreSQL in %s: %s", server.home, exc)
    shutil.rmtree(server.home, ignore_errors=True)


def target_for_plan() -> tuple[Connection | None, str]:
    """The target warehouse to compare with, read-only; (None, why) when it cannot be read.

    An unusable database setting is an error, as for --execute. The embedded server is
    started when its data directory exists (starting it changes no data) but never
    created by a plan."""
    conn = configured_database()
    if conn is None:
        server = EmbeddedServer(wdh_home())
        if not (server.pgdata / "PG_VERSION").exists():
            return None, f"no warehouse yet ({server.pgdata} does not exist; the first --execute creates it)"
        try:
            server.start()
            conn = server.connection(APP_DATABASE)
        except WdhError as exc:
            return None, f"the embedded warehouse does not start: {exc.message}"
    try:
        with connect(conn) as pg, pg.cursor() as cur:
            cur.execute("select 1")
    except WdhError as exc:
        return None, exc.message
    return conn, describe_target(conn)


def compare(
    target: Connection | None, why: str, scratch: Connection, domain: Domain, mode: str
) -> dict[str, Any]:
    """What publishing the scratch mart into the target would change, per refresh-key value
    (a date key by month, as the publish replaces it: macros/publish_strategy.sql): rows
    now and after, rows deleted and inserted, the sums of the domain's amount columns
    before and after; keys that are new, and keys of the same months that the new files do
    not have (they stay published as they are)."""
    keys, amounts = domain.output.refresh_key, domain.output.amounts
    table = f'"{domain.output.schema_name}"."{domain.output.table}"'
    with connect(scratch) as pg, pg.cursor() as cur:
        scope = refresh_scope(cur, domain.output.schema_name, domain.output.table, keys)
        columns = ", ".join(scope)
        positions = ", ".join(str(i) for i in range(1, len(keys) + 1))
        sums = "".join(f', sum("{a}")' for a in amounts)
        grouped = (
            f"select {columns}, count(*){sums} from {table} {{where}} "
            f"group by {positions} order by {positions}"
        )
        cur.execute(grouped.format(where=""))
        after = {row[: len(keys)]: row[len(keys) :] for row in cur.fetchall()}
    change: dict[str, Any] = {"available": target is not None, "target": why, "mode": mode, "keys": []}
    now: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    kept: list[tuple[Any, ...]] = []
    if target is not None and after:
        with connect(target) as pg, pg.cursor() as cur:
            cur.execute("select to_regclass(%s)", (table,))
            if cur.fetchone()[0] is not None:
                cur.execute(grouped.format(where=f"where ({columns}) in %s"), (tuple(after),))
                now = {row[: len(keys)]: row[len(keys) :] for row in cur.fetchall()}
                cur.execute(
                    f"select distinct {columns} from {table} "
                    f"where ({columns}) not in %s and {scope[0]} in %s order by {positions}",
                    (tuple(after), tuple({k[0] for k in after})),
                )
                kept = [tuple(row) for row in cur.fetchall()]
    for key, (rows_after, *sums_after) in after.items():
        rows_now, *sums_now = now.get(key, (0, *([None] * len(amounts))))
        change["keys"].append(
            {
                "key": list(key),
                "new": key not in now,
                "rows_now": rows_now,
                "rows_after": rows_now + rows_after if mode == "append" else rows_after,
                "deleted": 0 if mode == "append" else rows_now,
                "inserted": rows_after,
                "amounts_now": dict(zip(amounts, map(_number, sums_now), strict=True)),
                "amounts_after": dict(zip(amounts, map(_number, sums_after), strict=True)),
            }
        )
    change["kept"] = [list(k) for k in kept]
    change["deleted"] = sum(k["deleted"] for k in change["keys"])
    change["inserted"] = sum(k["inserted"] for k in change["keys"])
    return change


def refresh_scope(cur: Any, schema: str, table: str, keys: tuple[str, ...]) -> list[str]:
    """The SQL expressions of a refresh key as the publish replaces it: a date by month."""
    cur.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = %s and table_name = %s",
        (schema, table),
    )
    types = dict(cur.fetchall())
    return [f"date_trunc('month', \"{k}\")::date" if types.get(k) == "date" else f'"{k}"' for k in keys]


def _number(value: Any) -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal("0.01")))


def copy_tables(source: Connection, target: Connection, relations: list[str]) -> None:
    """Copy tables (`schema.table`: columns with their exact types, and rows) from `source`
    into `target`. A plan seeds its scratch warehouse this way from the target's load of
    the same seed files (loader/run.py), rather than loading them again."""
    import io

    with connect(source) as src, src.cursor() as read, connect(target) as dst, dst.cursor() as write:
        for name in relations:
            schema, table = name.split(".")
            quoted = f'"{schema}"."{table}"'
            read.execute(
                "select format('%%I %%s', attname, format_type(atttypid, atttypmod)) from pg_attribute "
                "where attrelid = %s::regclass and attnum > 0 and not attisdropped order by attnum",
                (quoted,),
            )
            columns = ", ".join(row[0] for row in read.fetchall())
            write.execute(f'create schema if not exists "{schema}"')
            write.execute(f"drop table if exists {quoted}")
            write.execute(f"create table {quoted} ({columns})")
            rows = io.StringIO()
            read.copy_expert(f"copy {quoted} to stdout", rows)
            rows.seek(0)
            write.copy_expert(f"copy {quoted} from stdin", rows)
