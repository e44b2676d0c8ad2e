"""The run ledger: one row per `wdh etl --execute` run and one per domain, in schema
wdh_meta. Plan-only runs never touch the database; they are appended to a local JSON
lines file (`<WDH_HOME>/plan-runs.jsonl`) so `wdh runs` lists them too.
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loader.warehouse import Connection, connect, existing_relations, wdh_home

DDL = """
create schema if not exists wdh_meta;
create table if not exists wdh_meta.runs (
    run_id       varchar(64) primary key,
    started_at   timestamptz not null,
    finished_at  timestamptz,
    username     text not null,
    host         text not null,
    command      text not null,
    mode         varchar(16) not null,
    period       varchar(6),
    domains      text[] not null,
    exit_code    integer
);
create table if not exists wdh_meta.run_domains (
    run_id          varchar(64) not null references wdh_meta.runs (run_id),
    domain          varchar(63) not null,
    status          varchar(16) not null,
    started_at      timestamptz not null,
    finished_at     timestamptz,
    target          text,
    files           jsonb not null default '[]',
    rows_read       integer not null default 0,
    rows_staged     integer not null default 0,
    rows_published  integer not null default 0,
    rows_dropped    integer not null default 0,
    rows_rejected   integer not null default 0,
    refresh_scope   jsonb not null default '[]',
    seconds         jsonb not null default '{}',
    error           text,
    primary key (run_id, domain)
);
alter table wdh_meta.run_domains add column if not exists dbt_nodes jsonb not null default '[]';
-- what published it: wdh version, git commit (+ dirty), config sha256, dbt invocation ids,
-- dbt's checksum of each published model, dlt's load id (loader/provenance.py)
alter table wdh_meta.run_domains add column if not exists provenance jsonb not null default '{}';
create index if not exists run_domains_running on wdh_meta.run_domains (domain) where status = 'running';
create table if not exists wdh_meta.rejects (
    run_id      varchar(64) not null,
    domain      varchar(63) not null,
    kind        varchar(10) not null,  -- rejected | dropped | warning
    file        text,
    sheet       text,
    row_number  integer,
    column_name text,
    value       text,
    reason      text not null
);
create index if not exists rejects_run on wdh_meta.rejects (run_id, domain);
-- what company-id resolution did per domain (loader/identity.py: rows per layer, lookups)
alter table wdh_meta.run_domains add column if not exists identity jsonb not null default '{}';
-- what the reference back-fill added per table (loader/backfill.py)
alter table wdh_meta.run_domains add column if not exists reference jsonb not null default '{}';
-- the names that got a temporary company_id (`wdh unresolved RUN_ID`)
create table if not exists wdh_meta.unresolved_names (
    run_id       varchar(64) not null,
    domain       varchar(63) not null,
    name         text not null,
    temporary_id varchar(50) not null,
    rows         integer not null
);
create index if not exists unresolved_names_run on wdh_meta.unresolved_names (run_id, domain);
-- each load of the seeds and shared models, by what they were built from (loader/run.py)
create table if not exists wdh_meta.shared_builds (
    fingerprint varchar(64) not null,
    run_id      varchar(64) not null,
    built_at    timestamptz not null default now()
);
"""


def _now() -> datetime:
    return datetime.now(UTC)


def ensure_schema(conn: Connection) -> None:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('wdh:ledger-ddl'))")
        cur.execute(DDL)


def start_run(
    conn: Connection, run_id: str, *, command: str, mode: str, period: str | None, domains: list[str]
) -> None:
    ensure_schema(conn)
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "insert into wdh_meta.runs (run_id, started_at, username, host, command, mode, period, domains) "
            "values (%s, %s, %s, %s, %s, %s, %s, %s)",
            (run_id, _now(), _user(), socket.gethostname(), command, mode, period, domains),
        )


def start_domain(conn: Connection, run_id: str, domain: str, target: str) -> None:
    """Record the domain as running. The caller holds the domain's lock, so a row still
    'running' for this domain belongs to a process that died: it is marked crashed."""
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "update wdh_meta.run_domains set status = 'crashed', finished_at = %s, "
            "error = 'the process died while loading; a later run found the domain unlocked' "
            "where domain = %s and status = 'running'",
            (_now(), domain),
        )
        cur.execute(
            "insert into wdh_meta.run_domains (run_id, domain, status, started_at, target) "
            "values (%s, %s, 'running', %s, %s)",
            (run_id, domain, _now(), target),
        )


def finish_domain(conn: Connection, run_id: str, result: Any) -> None:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            """update wdh_meta.run_domains set status = %s, finished_at = %s, files = %s, rows_read = %s,
                   rows_staged = %s, rows_published = %s, rows_dropped = %s, rows_rejected = %s,
                   refresh_scope = %s, seconds = %s, error = %s, dbt_nodes = %s, provenance = %s,
                   identity = %s, reference = %s
               where run_id = %s and domain = %s""",
            (
                result.status,
                _now(),
                json.dumps([asdict(f) for f in result.files], ensure_ascii=False),
                result.rows_read,
                result.rows_staged,
                result.rows_published,
                result.rows_dropped,
                result.rows_rejected,
                json.dumps(result.refresh_scope, ensure_ascii=False, default=str),
                json.dumps({k: round(v, 3) for k, v in result.seconds.items()}),
                result.error,
                json.dumps([asdict(n) for n in result.dbt_nodes], ensure_ascii=False),
                json.dumps(result.provenance, ensure_ascii=False),
                json.dumps(result.identity, ensure_ascii=False),
                json.dumps(result.reference, ensure_ascii=False),
                run_id,
                result.domain,
            ),
        )


def record_rejects(conn: Connection, run_id: str, domain: str, relation: str) -> int:
    """Copy the rejected, dropped and warned rows of a verdict model into wdh_meta.rejects."""
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "select column_name from information_schema.columns where table_schema = %s and table_name = %s",
            tuple(relation.split(".")),
        )
        has_warnings = "_warning_reason" in {row[0] for row in cur.fetchall()}
        warnings = (
            f"""union all
                select %(run)s, %(domain)s, 'warning', _source_file, _source_sheet, _source_row,
                       _warning_column, _warning_value, _warning_reason
                from {relation} where _warning_reason is not null"""
            if has_warnings
            else ""
        )
        cur.execute(
            f"""insert into wdh_meta.rejects
                    (run_id, domain, kind, file, sheet, row_number, column_name, value, reason)
                select %(run)s, %(domain)s, 'rejected', _source_file, _source_sheet, _source_row,
                       _reject_column, _reject_value, _reject_reason
                from {relation} where _drop_reason is null and _reject_reason is not null
                union all
                select %(run)s, %(domain)s, 'dropped', _source_file, _source_sheet, _source_row,
                       null, null, _drop_reason
                from {relation} where _drop_reason is not null
                {warnings}""",
            {"run": run_id, "domain": domain},
        )
        return int(cur.rowcount)


def list_rejects(conn: Connection | None, run_id: str) -> list[tuple[Any, ...]]:
    """A run's rejected, dropped and warned rows: an execute run's from the database, a
    plan's from the local plan record."""
    return _run_rows(
        conn,
        run_id,
        "wdh_meta.rejects",
        "select domain, kind, file, sheet, row_number, column_name, value, reason "
        "from wdh_meta.rejects where run_id = %s order by domain, file, sheet, row_number",
        plan_key="rejects",
    )


def record_unresolved(conn: Connection, run_id: str, domain: str, relation: str) -> int:
    """The names of a verdict model's published rows that got a temporary company_id."""
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            f"""insert into wdh_meta.unresolved_names (run_id, domain, name, temporary_id, rows)
                select %s, %s, "客户名称", company_id, count(*)
                from {relation}
                where company_id_source = 'temporary' and _drop_reason is null and _reject_reason is null
                group by "客户名称", company_id""",
            (run_id, domain),
        )
        return int(cur.rowcount)


def list_unresolved(conn: Connection | None, run_id: str) -> list[tuple[Any, ...]]:
    """(domain, name, temporary id, rows) of a run: an execute run's from the database, a
    plan's from the local plan record."""
    return _run_rows(
        conn,
        run_id,
        "wdh_meta.unresolved_names",
        "select domain, name, temporary_id, rows from wdh_meta.unresolved_names "
        "where run_id = %s order by domain, rows desc, name",
        plan_key="unresolved",
    )


def _run_rows(
    conn: Connection | None, run_id: str, table: str, sql: str, plan_key: str
) -> list[tuple[Any, ...]]:
    if conn is not None:
        with connect(conn) as pg, pg.cursor() as cur:
            cur.execute("select to_regclass(%s)", (table,))
            if cur.fetchone()[0] is not None:
                cur.execute(sql, (run_id,))
                rows = list(cur.fetchall())
                if rows:
                    return rows
    plan = _plan_run(run_id)
    return [tuple(row) for row in plan.get(plan_key, [])] if plan else []


def finish_run(conn: Connection, run_id: str, exit_code: int) -> None:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "update wdh_meta.runs set finished_at = %s, exit_code = %s where run_id = %s",
            (_now(), exit_code, run_id),
        )


def _has_ledger(cur: Any) -> bool:
    cur.execute("select to_regclass('wdh_meta.run_domains')")
    return cur.fetchone()[0] is not None


def last_period(conn: Connection) -> str | None:
    """The latest period an execute run published a domain of."""
    with connect(conn) as pg, pg.cursor() as cur:
        if not _has_ledger(cur):
            return None
        cur.execute(
            "select max(r.period) from wdh_meta.runs r join wdh_meta.run_domains d using (run_id) "
            "where d.status = 'ok'"
        )
        row = cur.fetchone()
        return str(row[0]) if row and row[0] else None


def running_holder(conn: Connection, domain: str) -> tuple[str, datetime] | None:
    """The run that holds `domain` according to the ledger, if any."""
    with connect(conn) as pg, pg.cursor() as cur:
        if not _has_ledger(cur):
            return None
        cur.execute(
            "select run_id, started_at from wdh_meta.run_domains where domain = %s and status = 'running' "
            "order by started_at desc limit 1",
            (domain,),
        )
        row = cur.fetchone()
        return (row[0], row[1]) if row else None


def record_plan_run(
    result: Any,
    *,
    command: str,
    period: str | None,
    started: datetime,
    rejects: list[tuple[Any, ...]],
    unresolved: list[tuple[Any, ...]],
) -> None:
    """Plan-only runs go to a local file, never to the target database; with them the
    rejected, dropped and warned rows the plan found (`wdh rejects PLAN_RUN_ID`) and the
    names it gave temporary ids (`wdh unresolved PLAN_RUN_ID`)."""
    path = plan_runs_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "run_id": result.run_id,
        "started_at": started.isoformat(),
        "finished_at": _now().isoformat(),
        "username": _user(),
        "host": socket.gethostname(),
        "command": command,
        "mode": result.mode,
        "period": period,
        "exit_code": result.exit_code,
        "domains": [_domain_entry(d) for d in result.domains],
        "rejects": [list(row) for row in rejects],
        "unresolved": [list(row) for row in unresolved],
    }
    with path.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(entry, ensure_ascii=False, default=str) + "\n")


def plan_runs_file() -> Path:
    return wdh_home() / "plan-runs.jsonl"


def _domain_entry(d: Any) -> dict[str, Any]:
    return {
        "domain": d.domain,
        "status": d.status,
        "target": d.target,
        "files": [asdict(f) for f in d.files],
        "rows_read": d.rows_read,
        "rows_staged": d.rows_staged,
        "rows_published": d.rows_published,
        "rows_dropped": d.rows_dropped,
        "rows_rejected": d.rows_rejected,
        "refresh_scope": d.refresh_scope,
        "seconds": {k: round(v, 3) for k, v in d.seconds.items()},
        "error": d.error,
        "dbt_nodes": [asdict(n) for n in d.dbt_nodes],
        "change": d.change,
        "provenance": d.provenance,
        "identity": d.identity,
        "reference": d.reference,
    }


def list_runs(conn: Connection | None, limit: int = 20) -> list[dict[str, Any]]:
    """Recent runs, newest first: execute runs from the database, plan-only runs from the file."""
    runs: list[dict[str, Any]] = []
    if conn is not None:
        with connect(conn) as pg, pg.cursor() as cur:
            cur.execute("select to_regclass('wdh_meta.runs')")
            if cur.fetchone()[0] is not None:
                cur.execute(
                    """select r.run_id, r.started_at, r.finished_at, r.username, r.mode, r.period,
                              r.exit_code,
                              coalesce(json_agg(json_build_object(
                                  'domain', d.domain, 'status', d.status, 'rows_published', d.rows_published
                              )) filter (where d.domain is not null), '[]')
                       from wdh_meta.runs r left join wdh_meta.run_domains d using (run_id)
                       group by r.run_id order by r.started_at desc limit %s""",
                    (limit,),
                )
                for row in cur.fetchall():
                    runs.append(
                        {
                            "run_id": row[0],
                            "started_at": row[1].isoformat(),
                            "finished_at": row[2].isoformat() if row[2] else None,
                            "username": row[3],
                            "mode": row[4],
                            "period": row[5],
                            "exit_code": row[6],
                            "domains": row[7],
                        }
                    )
    path = plan_runs_file()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                runs.append(json.loads(line))
    runs.sort(key=lambda r: r["started_at"], reverse=True)
    return runs[:limit]


def show_run(conn: Connection | None, run_id: str) -> dict[str, Any] | None:
    if conn is not None:
        with connect(conn) as pg, pg.cursor() as cur:
            cur.execute("select to_regclass('wdh_meta.runs')")
            if cur.fetchone()[0] is not None:
                cur.execute("select row_to_json(r) from wdh_meta.runs r where run_id = %s", (run_id,))
                row = cur.fetchone()
                if row:
                    run = dict(row[0])
                    cur.execute(
                        "select row_to_json(d) from wdh_meta.run_domains d "
                        "where run_id = %s order by started_at",
                        (run_id,),
                    )
                    run["domains"] = [dict(r[0]) for r in cur.fetchall()]
                    return run
    return _plan_run(run_id)


def _plan_run(run_id: str) -> dict[str, Any] | None:
    path = plan_runs_file()
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line)["run_id"] == run_id:
                return dict(json.loads(line))
    return None


def _user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in some containers
        return "unknown"


def shared_build_current(conn: Connection, fingerprint: str, relations: list[str]) -> bool:
    """Whether the last load of the seeds and shared models was of `fingerprint` and each
    of their `relations` (schema.table) is still there."""
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute("select to_regclass('wdh_meta.shared_builds') is not null")
        if not cur.fetchone()[0]:
            return False
        cur.execute("select fingerprint from wdh_meta.shared_builds order by built_at desc limit 1")
        row = cur.fetchone()
    if row is None or row[0] != fingerprint:
        return False
    return len(existing_relations(conn, relations)) == len(relations)


def record_shared_build(conn: Connection, run_id: str, fingerprint: str) -> None:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "insert into wdh_meta.shared_builds (fingerprint, run_id) values (%s, %s)", (fingerprint, run_id)
        )
