"""The domain loop: discover → read → stage (dlt) → dbt → company ids → gate → publish.

`run()` decides everything a `wdh etl` invocation does; the CLI only parses options
and prints what this module reports through the `Reporter`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loader.config import Config, Domain
from loader.errors import WdhError

log = logging.getLogger(__name__)

STAGES = ("discover", "read", "stage", "transform", "publish")


@dataclass
class FileInfo:
    path: str
    sha256: str
    size: int
    sheets: list[str]


@dataclass
class DomainResult:
    domain: str
    target: str
    status: str = "pending"  # planned | ok | failed | interrupted
    files: list[FileInfo] = field(default_factory=list)
    version: str = ""
    rows_read: int = 0
    rows_staged: int = 0
    rows_published: int = 0
    rows_dropped: int = 0
    rows_rejected: int = 0
    refresh_scope: list[tuple[Any, ...]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    temporary_ids: int = 0
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


@dataclass
class RunOptions:
    domains: list[str]
    period: str | None
    execute: bool
    data_dir: Path
    file_selection: str | None = None
    max_files: int = 1
    sheet: str | None = None


@dataclass
class RunResult:
    run_id: str
    mode: str
    domains: list[DomainResult]

    @property
    def exit_code(self) -> int:
        return 0 if all(d.status in ("ok", "planned") for d in self.domains) else 1


Reporter = Callable[[str, dict[str, Any]], None]


def _quiet(event: str, fields: dict[str, Any]) -> None:
    log.info("%s %s", event, fields)


@contextmanager
def _timed(result: DomainResult, stage: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        result.seconds[stage] = result.seconds.get(stage, 0.0) + time.perf_counter() - started


def new_run_id() -> str:
    return time.strftime("%Y%m%d_%H%M%S") + "_" + uuid.uuid4().hex[:6]


def run(config: Config, options: RunOptions, report: Reporter = _quiet) -> RunResult:
    mode = "execute" if options.execute else "plan-only"
    result = RunResult(run_id=new_run_id(), mode=mode, domains=[])
    engine = _Engine(options, result.run_id, report)
    for name in options.domains:
        domain = config.domain(name)
        outcome = DomainResult(domain=name, target=domain.target)
        result.domains.append(outcome)
        report("domain_started", {"domain": name, "mode": mode, "target": domain.target})
        try:
            engine.run_domain(domain, outcome)
        except WdhError as exc:
            outcome.status, outcome.error = "failed", str(exc)
        except Exception as exc:  # a bug must not take down the other domains
            log.exception("domain %s failed unexpectedly", name)
            outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
        report("domain_finished", {"domain": name, "result": outcome})
    return result


class _Engine:
    """State shared by the domains of one run: the dbt runner and the database connection."""

    def __init__(self, options: RunOptions, run_id: str, report: Reporter):
        self.options = options
        self.run_id = run_id
        self.report = report
        self._dbt: Any = None
        self._conn: Any = None

    def conn(self) -> Any:
        if self._conn is None:
            from loader.warehouse import connection

            self._conn = connection()
        return self._conn

    def dbt(self) -> Any:
        if self._dbt is None:
            from loader.transform import Dbt

            self._dbt = Dbt(self.conn() if self.options.execute else None)
        return self._dbt

    def variables(self) -> dict[str, Any]:
        return {"period": self.options.period or "000000", "run_id": self.run_id}

    def run_domain(self, domain: Domain, outcome: DomainResult) -> None:
        from loader.discovery import discover
        from loader.workbook import read_domain

        options = self.options
        with _timed(outcome, "discover"):
            found = discover(
                domain,
                options.data_dir,
                options.period,
                file_selection=options.file_selection,
                max_files=options.max_files,
            )
        outcome.version = found.version
        self.report(
            "files_found",
            {
                "domain": domain.name,
                "folder": str(found.folder),
                "version": found.version,
                "files": [str(p) for p in found.files],
            },
        )
        with _timed(outcome, "read"):
            sheets = (_sheet_arg(options.sheet),) if options.sheet else None
            read = read_domain(found.files, domain, options.period, data_dir=options.data_dir, sheets=sheets)
        outcome.rows_read = read.rows
        outcome.files = [
            FileInfo(
                path=str(path),
                sha256=read.file_hashes[path],
                size=path.stat().st_size,
                sheets=[s.sheet for s in read.sheets if s.file == path],
            )
            for path in found.files
        ]
        for sheet in read.sheets:
            if sheet.ignored_columns:
                outcome.notes.append(f"{sheet.sheet}: ignored columns {', '.join(sheet.ignored_columns)}")
        if read.rows == 0:
            raise WdhError(
                f"no data rows in {', '.join(s.sheet for s in read.sheets)} of {found.files[0].name}",
                hint="check that the right workbook was delivered; nothing was written",
            )
        self.report("rows_read", {"domain": domain.name, "rows": read.rows})

        if not options.execute:
            # the scope as read (before cleaning); --execute reports the cleaned one
            outcome.refresh_scope = _distinct(read.table, domain.output.refresh_key)
            self.report("scope", {"domain": domain.name, "scope": outcome.refresh_scope, "raw": True})
            with _timed(outcome, "transform"):
                self.dbt().invoke(
                    "compile",
                    "--select",
                    f"+{domain.dbt.mart}",
                    "--no-populate-cache",
                    "--no-introspect",
                    variables=self.variables(),
                )
            outcome.status = "planned"
            return
        self._execute(domain, outcome, read.table)

    def _execute(self, domain: Domain, outcome: DomainResult, table: Any) -> None:
        from loader.enrichment import resolve_company_ids
        from loader.staging import stage
        from loader.warehouse import connect

        conn, period, dbt = self.conn(), self.options.period, self.dbt()
        schema = domain.staging_schema(period)
        with _timed(outcome, "stage"):
            staged = stage(table, schema=schema, table_name=domain.staging_table, conn=conn)
        outcome.rows_staged = staged.rows
        self.report("staged", {"domain": domain.name, "schema": schema, "rows": staged.rows})

        variables = self.variables()
        no_unit = ("--exclude", "test_type:unit")
        with _timed(outcome, "transform"):
            dbt.invoke("build", "--select", f"+{domain.dbt.cleaned}", *no_unit, variables=variables)
            if domain.company_ids:
                with connect(conn) as pg:
                    resolution = resolve_company_ids(
                        pg, names_relation=f"wdh_work.{domain.dbt.cleaned}", target_schema=schema
                    )
                outcome.temporary_ids = resolution.temporary_ids
            # the gate: blocking data tests on exactly the rows about to be published
            dbt.invoke("build", "--select", domain.dbt.resolved, *no_unit, variables=variables)
            with connect(conn) as pg, pg.cursor() as cur:
                cur.execute(
                    "select count(*) filter (where _drop_reason is not null), "
                    "count(*) filter (where _drop_reason is null and _reject_reason is not null), "
                    "count(*) filter (where _drop_reason is null and _reject_reason is null) "
                    f"from wdh_work.{domain.dbt.resolved}"
                )
                outcome.rows_dropped, outcome.rows_rejected, publishable = cur.fetchone()
                key = ", ".join(f'"{column}"' for column in domain.output.refresh_key)
                cur.execute(
                    f"select distinct {key} from wdh_work.{domain.dbt.resolved} "
                    f"where _drop_reason is null and _reject_reason is null order by {key}"
                )
                outcome.refresh_scope = [tuple(row) for row in cur.fetchall()]
        self.report(
            "scope",
            {
                "domain": domain.name,
                "scope": outcome.refresh_scope,
                "raw": False,
                "dropped": outcome.rows_dropped,
                "rejected": outcome.rows_rejected,
            },
        )
        if publishable == 0:
            raise WdhError(
                f"none of the {outcome.rows_read} rows read survived cleaning "
                f"({outcome.rows_dropped} dropped, {outcome.rows_rejected} rejected); nothing was published",
                hint=f"see the reasons with: select * from wdh_work.{domain.dbt.resolved}",
            )
        if outcome.rows_dropped * 2 > outcome.rows_read:
            outcome.notes.append(f"more than half of the rows were dropped ({outcome.rows_dropped})")
        with _timed(outcome, "publish"):
            dbt.invoke("build", "--select", domain.dbt.mart, *no_unit, variables=variables)
        outcome.rows_published = publishable
        outcome.status = "ok"
        self._build_dependants(domain, outcome, variables)

    def _build_dependants(self, domain: Domain, outcome: DomainResult, variables: dict[str, Any]) -> None:
        """Views over the mart (e.g. the award/loss status view). The mart is already
        published, so a failure here is a note, not a failed domain: a view over two
        marts cannot be built until both exist."""
        from loader.transform import DbtFailed

        try:
            self.dbt().invoke(
                "build",
                "--select",
                f"{domain.dbt.mart}+",
                "--exclude",
                domain.dbt.mart,
                "--exclude",
                "test_type:unit",
                variables=variables,
            )
        except DbtFailed as exc:
            names = ", ".join(sorted({f.name for f in exc.failures})) or "dependent models"
            outcome.notes.append(
                f"{names} not built yet (it needs tables not loaded yet); run the other domain"
            )


def _sheet_arg(value: str) -> str | int:
    return int(value) if value.isdigit() else value


def _distinct(table: Any, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    present = [c for c in columns if c in table.column_names]
    if not present:
        return []
    rows = table.select(present).group_by(present).aggregate([]).to_pylist()
    return sorted((tuple(row[c] for c in present) for row in rows), key=lambda t: tuple(str(v) for v in t))
