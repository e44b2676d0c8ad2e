"""The domain loop: discover → read → stage (dlt) → dbt → company ids → gate → publish.

`run()` decides everything a `wdh etl` invocation does; the CLI only parses options
and prints what this module reports through the `Reporter`. Domains run in the order
given; a failing domain is recorded and the next one runs; Ctrl+C or SIGTERM stops
the run, the domain in progress is left unpublished and recorded as interrupted.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loader.config import SPECIAL_DOMAINS, Config, Domain
from loader.errors import WdhError
from loader.faults import fault
from loader.interrupts import check as check_interrupted

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
# unit tests are code tests (make test); seeds and the shared models are built once per
# run, under the shared lock (_Engine._build_shared); the tests of the published tables
# (tag `published`) and the key tests of the work models (tag `key`: the models' grain,
# a property of the SQL, not of a month's data) are `wdh dbt test`'s
NOT_IN_ETL = ("test_type:unit", "tag:published", "tag:key")
NO_UNIT = ("--exclude", *NOT_IN_ETL, "resource_type:seed", "tag:shared")


class UsageError(WdhError):
    """Bad options or domain names: nothing ran (exit code 2)."""


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
    status: str = "pending"  # planned | ok | failed | interrupted | skipped
    files: list[FileInfo] = field(default_factory=list)
    version: str = ""
    rows_read: int = 0
    rows_staged: int = 0
    rows_published: int = 0
    rows_dropped: int = 0
    rows_rejected: int = 0
    refresh_scope: list[tuple[Any, ...]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    identity: dict[str, Any] = field(default_factory=dict)  # loader/identity.py IdentityReport
    reference: dict[str, Any] = field(default_factory=dict)  # back-fill per table (loader/backfill.py)
    error: str | None = None
    notes: list[str] = field(default_factory=list)
    dbt_nodes: list[Any] = field(default_factory=list)  # transform.NodeResult of every dbt node run
    change: dict[str, Any] | None = None  # a plan's comparison with the target (loader/plan.py)
    load_id: str | None = None  # dlt's load id of the staged rows
    provenance: dict[str, Any] = field(default_factory=dict)  # what published it (loader/provenance.py)

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
    file: Path | None = None
    mode: str | None = None  # delete_insert | append; None: the domain's configured mode
    lock_timeout: float = 0.0
    command: str = "wdh etl"
    enrichment_budget: int = 500  # distinct names the lookup service may be asked, per domain
    batch_size: int = 50  # requests company_lookup_queue takes at a time


@dataclass
class RunResult:
    run_id: str
    mode: str
    domains: list[DomainResult]
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_OK if all(d.status in ("ok", "planned") for d in self.domains) else EXIT_FAILED


Reporter = Callable[[str, dict[str, Any]], None]


def _log_event(event: str, fields: dict[str, Any]) -> None:
    log.info("%s %s", event, fields)


@contextmanager
def _timed(result: DomainResult, stage: str, report: Reporter) -> Iterator[None]:
    check_interrupted()
    report("stage_started", {"domain": result.domain, "stage": stage})
    started = time.perf_counter()
    try:
        yield
    finally:
        result.seconds[stage] = result.seconds.get(stage, 0.0) + time.perf_counter() - started
    check_interrupted()  # every stage boundary: a signal whose exception was swallowed stops here


def new_run_id() -> str:
    return time.strftime("%Y%m%d_%H%M%S") + "_" + uuid.uuid4().hex[:6]


def select_domains(config: Config, domains: str | None, all_domains: bool) -> list[str]:
    """The domains a run covers, validated before anything runs."""
    if bool(domains) == bool(all_domains):
        raise UsageError("give exactly one of --domains or --all-domains")
    if all_domains:
        return config.data_domains()
    names = [name.strip() for name in (domains or "").split(",") if name.strip()]
    if not names:
        raise UsageError("--domains needs at least one domain name")
    valid = list(config.domains)
    unknown = [n for n in names if n not in config.domains and n not in SPECIAL_DOMAINS]
    if unknown:
        raise UsageError(
            f"unknown domain(s): {', '.join(unknown)}",
            hint=f"valid domains: {', '.join(valid)}; alone: {', '.join(SPECIAL_DOMAINS)}",
        )
    special = [n for n in names if n in SPECIAL_DOMAINS]
    if special and len(names) > 1:
        raise UsageError(
            f"{', '.join(special)} can only run as the single domain of a run",
            hint=f"run it on its own: wdh etl --domains {special[0]}",
        )
    if len(set(names)) != len(names):
        raise UsageError("a domain is listed twice in --domains")
    return names


def run(config: Config, options: RunOptions, report: Reporter = _log_event) -> RunResult:
    """Run the domains. --execute works on the target warehouse; a plan runs the very same
    path on a scratch PostgreSQL (loader/plan.py) and only reads the target."""
    if options.execute:
        return _run(config, options, report, scratch=None)
    from loader.plan import scratch_warehouse

    with scratch_warehouse() as scratch:
        return _run(config, options, report, scratch)


def _run(config: Config, options: RunOptions, report: Reporter, scratch: Any) -> RunResult:
    from loader import ledger

    mode = "execute" if options.execute else "plan-only"
    result = RunResult(run_id=new_run_id(), mode=mode, domains=[])
    started = datetime.now(UTC)
    engine = _Engine(options, result.run_id, report, scratch, config)
    report(
        "run_started",
        {
            "run_id": result.run_id,
            "mode": mode,
            "domains": options.domains,
            "period": options.period,
            "database": engine.describe_database(),
        },
    )
    try:
        for name in options.domains:
            outcome = DomainResult(domain=name, target=_target(config, name))
            result.domains.append(outcome)
            report("domain_started", {"domain": name, "mode": mode, "target": outcome.target})
            try:
                check_interrupted()
                engine.run_domain(config, name, outcome)
            except KeyboardInterrupt:
                published = (
                    " (its mart was already published)" if outcome.rows_published else "; nothing published"
                )
                outcome.status, outcome.error = "interrupted", f"interrupted (Ctrl+C or SIGTERM){published}"
                result.interrupted = True
            except WdhError as exc:
                outcome.status, outcome.error = "failed", str(exc)
            except Exception as exc:  # a bug must not take down the other domains
                log.exception("domain %s failed unexpectedly", name)
                outcome.status, outcome.error = "failed", f"{type(exc).__name__}: {exc}"
            engine.record_domain(outcome)
            report("domain_finished", {"domain": name, "result": outcome})
            if result.interrupted:
                break
    finally:
        from loader.interrupts import received

        result.interrupted = result.interrupted or received()
        for name in options.domains[len(result.domains) :]:
            result.domains.append(
                DomainResult(
                    domain=name,
                    target=_target(config, name),
                    status="skipped",
                    error="not run: the run was interrupted",
                )
            )
        if engine.ledger_started:
            ledger.finish_run(engine.conn(), result.run_id, result.exit_code)
        if not options.execute:
            conn = engine.conn() if engine.ledger_started else None
            ledger.record_plan_run(
                result,
                command=options.command,
                period=options.period,
                started=started,
                rejects=ledger.list_rejects(conn, result.run_id) if conn else [],
                unresolved=ledger.list_unresolved(conn, result.run_id) if conn else [],
            )
    report("run_finished", {"run_id": result.run_id, "exit_code": result.exit_code, "result": result})
    return result


def _target(config: Config, name: str) -> str:
    return config.domains[name].target if name in config.domains else "(orchestration job)"


class _Engine:
    """State shared by the domains of one run: the dbt runner and the database connection
    (the target with --execute, the scratch warehouse of a plan)."""

    def __init__(self, options: RunOptions, run_id: str, report: Reporter, scratch: Any, config: Config):
        self.options = options
        self.config = config
        self.run_id = run_id
        self.report = report
        self.scratch = scratch
        self.ledger_started = False
        self._dbt: Any = None
        self._conn: Any = None
        self._target: tuple[Any, str] | None = None
        self._code: dict[str, Any] | None = None
        self._seeded = False
        self._resolver: Any = None

    @property
    def home(self) -> Path:
        """Local state of the run: WDH_HOME, or a plan's scratch directory (a plan leaves nothing)."""
        from loader.warehouse import wdh_home

        return Path(self.scratch.home) if self.scratch else wdh_home()

    def conn(self) -> Any:
        if self._conn is None:
            from loader.warehouse import connection

            self._conn = self.scratch.connection() if self.scratch else connection()
        return self._conn

    def plan_target(self) -> tuple[Any, str]:
        """A plan's read-only view of the target: (connection or None, description or why not)."""
        if self._target is None:
            from loader.plan import target_for_plan

            self._target = target_for_plan()
        return self._target

    def describe_database(self) -> str:
        if self.scratch is None:
            from loader.warehouse import describe_target

            return describe_target(self.conn())
        target, why = self.plan_target()
        compared = f"compared with {why}" if target else f"no comparison: {why}"
        return f"a scratch PostgreSQL, thrown away after the run; {compared}"

    def dbt(self) -> Any:
        dbt = self._parser()
        dbt.connect(self.conn())
        return dbt

    def _parser(self) -> Any:
        """The run's Dbt, maybe not connected yet: parsing needs only the database name."""
        if self._dbt is None:
            from loader.transform import Dbt

            runs = self.home / "dbt" / "runs"  # dbt's target and logs of each run
            for old in sorted(runs.glob("*"))[:-19]:  # the last 20, and any of the last day
                if time.time() - old.stat().st_mtime > 86400:
                    shutil.rmtree(old, ignore_errors=True)
            dbname = self.scratch.dbname if self.scratch else self.conn().dbname
            self._dbt = Dbt(None, run_dir=runs / self.run_id, dbname=dbname)
        return self._dbt

    def resolver(self, outcome: DomainResult, variables: dict[str, Any]) -> Any:
        """The run's company-id resolver; its cache is the target (read-only for a plan).
        --execute first migrates the identity tables when one is missing (with the
        domain's variables: other ones would make dbt parse the project again)."""
        if self._resolver is None:
            from loader.identity import Resolver, ensure_identity_tables

            if self.scratch is None:
                cache = self.conn()
                ensure_identity_tables(
                    cache,
                    lambda: self._run_dbt(
                        outcome, "run-operation", "migrate_identity_tables", variables=variables
                    ),
                )
            else:
                cache = self.plan_target()[0]
            domains = self.config.domains
            wanted = any(domains[name].company_lookup for name in self.options.domains if name in domains)
            self._resolver = Resolver(
                cache,
                execute=self.scratch is None,
                budget=self.options.enrichment_budget,
                lookups_wanted=wanted,
            )
        return self._resolver

    def variables(self, domain: Domain) -> dict[str, Any]:
        mode = self.options.mode or domain.output.mode
        return {"period": self.options.period or "000000", "run_id": self.run_id, "publish_mode": mode}

    def start_ledger(self) -> None:
        if not self.ledger_started:
            from loader import ledger

            options = self.options
            ledger.start_run(
                self.conn(),
                self.run_id,
                command=options.command,
                mode="execute" if options.execute else "plan-only",
                period=options.period,
                domains=options.domains,
            )
            self.ledger_started = True

    def record_domain(self, outcome: DomainResult) -> None:
        if not self.ledger_started or outcome.status == "pending":
            return
        from loader import ledger, provenance

        if self._code is None:
            self._code = provenance.code(self.config.path)
        outcome.provenance = {**self._code, "dlt_load_id": outcome.load_id, **outcome.provenance}

        try:
            ledger.finish_domain(self.conn(), self.run_id, outcome)
        except Exception as exc:  # the ledger must not hide the domain's own outcome
            log.error("could not record domain %s in the run ledger: %s", outcome.domain, exc)

    def run_domain(self, config: Config, name: str, outcome: DomainResult) -> None:
        if name == "company_lookup_queue":
            return self._lookup_queue(outcome)
        if name == "reference_sync":
            return self._reference_sync(outcome)
        if name in SPECIAL_DOMAINS:
            raise WdhError(
                f"{name} is a special orchestration domain whose job is not part of this version yet",
                hint="see docs/cli.md; run the data domains with --domains or --all-domains",
            )
        domain = config.domain(name)
        from loader import ledger
        from loader.warehouse import DomainLocked, domain_lock

        if self.scratch is not None:  # a plan parses dbt while its scratch server starts
            self._parser().prepare(self.variables(domain))
        conn = self.conn()
        self.start_ledger()
        try:
            with domain_lock(conn, domain.name, self.options.lock_timeout):
                ledger.start_domain(conn, self.run_id, domain.name, domain.target)
                outcome.status = "running"
                self._load(domain, outcome)
        except DomainLocked:
            holder = ledger.running_holder(conn, domain.name)
            since = f"run {holder[0]} since {holder[1]:%Y-%m-%d %H:%M:%S %Z}" if holder else "another run"
            raise WdhError(
                f"domain {domain.name} is being loaded by {since}",
                hint="wait for it to finish, or give --lock-timeout SECONDS to wait",
            ) from None

    def _lookup_queue(self, outcome: DomainResult) -> None:
        """domains.md §6.2: work off the lookup queue (loader/identity_ops.py). A plan counts
        on the target, read-only; --execute records the run in the ledger."""
        from dataclasses import asdict

        from loader.eqc import EqcClient, EqcSettings
        from loader.identity_ops import process_queue, queue_lines

        execute = self.options.execute
        if execute:
            from loader import ledger

            self.start_ledger()
            ledger.start_domain(self.conn(), self.run_id, outcome.domain, outcome.target)
            conn = self.conn()
        else:
            conn, why = self.plan_target()
            if conn is None:
                raise WdhError(f"no warehouse to count the lookup queue in: {why}")
        settings = EqcSettings.from_env()
        client = EqcClient(settings) if settings is not None and execute else None
        with _timed(outcome, "lookups", self.report):
            result = process_queue(conn, client, batch_size=self.options.batch_size, execute=execute)
        outcome.identity = asdict(result)
        outcome.rows_read, outcome.rows_published = result.taken, result.done
        outcome.rows_rejected = result.failed
        outcome.notes += queue_lines(result)
        if result.error:
            raise WdhError(result.error)
        outcome.status = "ok" if execute else "planned"

    def _reference_sync(self, outcome: DomainResult) -> None:
        """domains.md §6.3: the authoritative copies of the reference tables, typed and
        filtered by dbt, written by one run-operation (loader/reference_sync.py). A plan
        stages and filters in its scratch warehouse and compares with the target."""
        from loader import reference_sync
        from loader.backfill import backfill_changes

        target = self.conn() if self.options.execute else self.plan_target()[0]
        if self.options.execute:
            from loader import ledger

            self.start_ledger()
            ledger.start_domain(self.conn(), self.run_id, outcome.domain, outcome.target)
        tables = reference_sync.load_config()
        with _timed(outcome, "read", self.report):
            source = reference_sync.read_source(tables, reference_sync.high_water_marks(target))
        outcome.version = source.description
        outcome.rows_read = sum(len(c.rows or []) for c in source.copies)
        for copy in source.copies:
            if copy.rows is None:
                outcome.notes.append(f"{copy.name}: not in the source ({copy.where}); left as it is")
        dbt = self.dbt()
        models = dbt.reference_models(tag="reference_sync")
        variables = {"period": "000000", "run_id": self.run_id, "publish_mode": "upsert"}
        with _timed(outcome, "stage", self.report):
            columns = dbt.source_columns("reference_sync")
            reference_sync.stage(self.conn(), source, columns)
        with _timed(outcome, "transform", self.report):
            self._run_dbt(outcome, "build", "--select", "tag:reference_sync", *NO_UNIT, variables=variables)
            provided = {c.name for c in source.copies if c.rows is not None}
            synced = [(m, r) for m, r in models if m.removeprefix("int_reference_sync__") in provided]
            outcome.reference = backfill_changes(self.conn(), target, synced)
            outcome.rows_published = sum(c["candidates"] for c in outcome.reference.values())
            outcome.rows_rejected = outcome.rows_read - outcome.rows_published
        self.report("reference", {"domain": outcome.domain, "reference": outcome.reference})
        with _timed(outcome, "publish", self.report):
            args = json.dumps({"models": [], "references": [m for m, _ in synced]})
            self._run_dbt(
                outcome, "run-operation", "migrate_published_tables", "--args", args, variables=variables
            )
            if self.options.execute:
                reference_sync.record_sync(self.conn(), source)
        outcome.status = "ok" if self.options.execute else "planned"

    def _load(self, domain: Domain, outcome: DomainResult) -> None:
        from loader.workbook import read_domain

        options, report = self.options, self.report
        with _timed(outcome, "discover", report):
            files = self._files(domain, outcome)
        report(
            "files_found",
            {"domain": domain.name, "version": outcome.version, "files": [str(p) for p in files]},
        )
        with _timed(outcome, "read", report):
            sheets = (_sheet_arg(options.sheet),) if options.sheet else None
            read = read_domain(files, domain, options.period, data_dir=options.data_dir, sheets=sheets)
        outcome.rows_read = read.rows
        outcome.files = [
            FileInfo(
                path=str(path),
                sha256=read.file_hashes[path],
                size=path.stat().st_size,
                sheets=[s.sheet for s in read.sheets if s.file == path],
            )
            for path in files
        ]
        for sheet in read.sheets:
            if sheet.ignored_columns:
                outcome.notes.append(f"{sheet.sheet}: ignored columns {', '.join(sheet.ignored_columns)}")
        if read.rows == 0:
            raise WdhError(
                f"no data rows in {', '.join(s.sheet for s in read.sheets)} of "
                f"{', '.join(p.name for p in files)}",
                hint="check that the right workbook was delivered; nothing was written",
            )
        report("rows_read", {"domain": domain.name, "rows": read.rows, "sheets": len(read.sheets)})
        fault("after_read")
        self._execute(domain, outcome, read)

    def _files(self, domain: Domain, outcome: DomainResult) -> list[Path]:
        from loader.discovery import discover

        options = self.options
        if options.file is not None:
            if not options.file.is_file():
                raise WdhError(f"--file {options.file} does not exist", hint="check the path")
            outcome.version = "--file"
            return [options.file]
        found = discover(
            domain,
            options.data_dir,
            options.period,
            file_selection=options.file_selection,
            max_files=options.max_files,
        )
        outcome.version = found.version
        return list(found.files)

    def _execute(self, domain: Domain, outcome: DomainResult, read: Any) -> None:
        from loader.staging import stage

        conn, report = self.conn(), self.report
        schema = domain.staging_schema(self.options.period)
        with _timed(outcome, "stage", report):
            staged = stage(
                read.table,
                domain=domain.name,
                schema=schema,
                table_name=domain.staging_table,
                conn=conn,
                pipelines_dir=self.home / "dlt",
            )
        read.table = None  # staged: the rows' memory goes back before dbt and the resolver run
        outcome.rows_staged = staged.rows
        outcome.load_id = staged.load_id
        if staged.dropped_pending:
            outcome.notes.append("dropped a load package an earlier crashed run had left in staging")
        report("staged", {"domain": domain.name, "schema": schema, "rows": staged.rows})

        variables = self.variables(domain)
        with _timed(outcome, "transform", report):
            self._build_shared(outcome, variables)
            self._run_dbt(
                outcome, "build", "--select", f"+{domain.dbt.cleaned}", *NO_UNIT, variables=variables
            )
            fault("between_dbt_layers")
            resolution = self._resolve(domain, outcome, schema, variables) if domain.company_ids else None
            self._gate(domain, outcome, variables)
            self._count_verdicts(domain, outcome)
        report(
            "scope",
            {
                "domain": domain.name,
                "scope": outcome.refresh_scope,
                "raw": False,
                "dropped": outcome.rows_dropped,
                "rejected": outcome.rows_rejected,
            },
        )
        publishable = outcome.rows_read - outcome.rows_dropped - outcome.rows_rejected
        if publishable == 0:
            raise WdhError(
                f"none of the {outcome.rows_read} rows read survived cleaning "
                f"({outcome.rows_dropped} dropped, {outcome.rows_rejected} rejected); nothing was published",
                hint=f"see the reasons with: select * from wdh_work.{domain.dbt.resolved}",
            )
        if outcome.rows_dropped * 2 > outcome.rows_read:
            outcome.notes.append(f"more than half of the rows were dropped ({outcome.rows_dropped})")
        self._count_backfill(domain, outcome)
        fault("before_publish")
        with _timed(outcome, "publish", report):
            self._migrate(domain, outcome, variables)
            check_interrupted()  # the last moment a signal keeps the month unpublished
            try:
                self._publish(domain, outcome, variables)
            except KeyboardInterrupt:  # after the mart's commit it is published all the same
                if self._published_by_this_run(domain):
                    outcome.rows_published = publishable
                raise
            outcome.rows_published = publishable
        if resolution is not None:
            self._record_identity(domain, outcome, resolution)
        if self.scratch is not None:
            self._compare(domain, outcome)
        outcome.status = "ok" if self.options.execute else "planned"
        fault("after_publish")

    def _resolve(self, domain: Domain, outcome: DomainResult, schema: str, variables: dict[str, Any]) -> Any:
        """company_id for the identities the override layers left open (loader/identity.py)."""
        from dataclasses import asdict

        resolver = self.resolver(outcome, variables)
        resolution = resolver.resolve(
            self.conn(), domain, cleaned=f"wdh_work.{domain.dbt.cleaned}", schema=schema
        )
        report = resolution.report
        if (
            resolver.service.configured
            and not self.options.execute
            and report.names_to_look_up
            and report.budget
        ):
            would = min(report.names_to_look_up, report.budget)
            outcome.notes.append(
                f"--execute would ask the lookup service for {would} name(s) "
                f"(budget {report.budget}); the plan gives them temporary ids"
            )
        elif report.service.startswith("token rejected"):
            outcome.notes.append(f"lookup service: {report.service}")
        outcome.identity = asdict(report)
        self.report("identity", {"domain": domain.name, "identity": outcome.identity})
        return resolution

    def _record_identity(self, domain: Domain, outcome: DomainResult, resolution: Any) -> None:
        """After the publish: cache hit counts, back-flow and queued requests (--execute)."""
        from dataclasses import asdict

        try:
            self._resolver.record(resolution, domain)  # created by _resolve
        except Exception as exc:  # the month is published; the bookkeeping is not worth failing it
            log.warning("could not record the company-id bookkeeping of %s: %s", domain.name, exc)
            outcome.notes.append(f"cache hit counts, back-flow and queued requests not written: {exc}")
        outcome.identity = {**asdict(resolution.report), "rows": outcome.identity.get("rows", {})}

    def _compare(self, domain: Domain, outcome: DomainResult) -> None:
        """A plan: what publishing would change in the target, read-only."""
        from loader.plan import compare

        with _timed(outcome, "compare", self.report):
            target, why = self.plan_target()
            mode = self.options.mode or domain.output.mode
            outcome.change = compare(target, why, self.conn(), domain, mode)
        self.report("change", {"domain": domain.name, "change": outcome.change})

    def _gate(self, domain: Domain, outcome: DomainResult, variables: dict[str, Any]) -> None:
        """Build the verdict model and run its blocking data tests on exactly the rows about
        to be published. Rejects are recorded also when the gate fails; a failing test is
        explained in words (loader/gate.py)."""
        from loader.gate import gate_failed
        from loader.transform import DbtFailed

        gate = [domain.dbt.resolved, f"+{domain.dbt.resolved},tag:identity"]  # with the resolution's view
        if domain.requires_backfill:  # candidates are built only once the gate has passed
            gate.append(f"{domain.dbt.resolved}+,tag:backfill")
        try:
            self._run_dbt(outcome, "build", "--select", *gate, *NO_UNIT, variables=variables)
        except DbtFailed as exc:
            if not any(r.name == domain.dbt.resolved and r.status == "success" for r in exc.results):
                raise
            self._record_rejects(domain)
            if exc.tests:
                raise gate_failed(self.conn(), exc.tests, self.options.period) from None
            raise
        self._record_rejects(domain)

    def _backfill_candidates(self, domain: Domain) -> list[tuple[str, dict[str, Any]]]:
        return self.dbt().reference_models(parent=domain.dbt.resolved) if domain.requires_backfill else []

    def _count_backfill(self, domain: Domain, outcome: DomainResult) -> None:
        """What the reference back-fill will add to the target (read-only, before it writes)."""
        from loader.backfill import backfill_changes

        candidates = self._backfill_candidates(domain)
        if candidates:
            target = self.plan_target()[0] if self.scratch is not None else self.conn()
            outcome.reference = backfill_changes(self.conn(), target, candidates)
            self.report("reference", {"domain": domain.name, "reference": outcome.reference})

    def _migrate(self, domain: Domain, outcome: DomainResult, variables: dict[str, Any]) -> None:
        """Create the domain's mart with what it needs beyond dbt's DDL (the `id` identity
        column, the indexes) before its publish; idempotent, so a mart that exists is left
        as it is. Only the mart about to be published: a failing domain creates nothing.
        In the same transaction, the reference tables are back-filled from the domain's
        candidate models (enrichment.md §4)."""
        mart = domain.dbt.mart
        references = [name for name, _ in self._backfill_candidates(domain)]
        args = json.dumps({"models": [mart], "references": references})
        self._run_dbt(
            outcome, "run-operation", "migrate_published_tables", "--args", args, variables=variables
        )

    def _run_dbt(
        self, outcome: DomainResult, command: str, *args: str, variables: dict[str, Any]
    ) -> list[Any]:
        """Invoke dbt; every node's result (also of a failed invocation) goes to the domain's
        result, the invocation id to its provenance. Returns the nodes of this invocation."""
        from loader.transform import DbtFailed

        check_interrupted()
        dbt = self.dbt()
        before = len(dbt.invocation_ids)
        try:
            nodes = dbt.invoke(command, *args, variables=variables)
        except DbtFailed as exc:
            outcome.dbt_nodes += exc.results
            raise
        finally:
            outcome.provenance.setdefault("dbt_invocation_ids", []).extend(dbt.invocation_ids[before:])
        outcome.dbt_nodes += nodes
        check_interrupted()
        return nodes

    def _build_shared(self, outcome: DomainResult, variables: dict[str, Any]) -> None:
        """Seeds and the models every domain shares, once per run, under the shared lock:
        a run on another domain never sees them half-built. Only when what they are built
        from changed since the warehouse's last load of them (or one is missing): the seed
        files rarely change, and loading them is a second of every run. A plan copies them
        from the target when the target's last load is of the same files."""
        from loader import ledger
        from loader.warehouse import shared_lock

        if self._seeded:
            return
        dbt, conn = self.dbt(), self.conn()
        dbt.prepare(variables)
        fingerprint, relations = dbt.shared_fingerprint()
        with shared_lock(conn):
            if not ledger.shared_build_current(conn, fingerprint, relations):
                target = self.plan_target()[0] if self.scratch is not None else None
                if target is not None and ledger.shared_build_current(target, fingerprint, relations):
                    from loader.plan import copy_tables

                    copy_tables(target, conn, relations)  # a plan: the target's load of the same files
                else:
                    shared = ("--select", "resource_type:seed", "tag:shared", "--exclude", *NOT_IN_ETL)
                    self._run_dbt(outcome, "build", *shared, variables=variables)
                ledger.record_shared_build(conn, self.run_id, fingerprint)
        self._seeded = True

    def _record_rejects(self, domain: Domain) -> None:
        """Rejected, dropped and warned rows go to wdh_meta.rejects, the names given
        temporary ids to wdh_meta.unresolved_names — also when the gate failed."""
        from loader import ledger

        relation = f"wdh_work.{domain.dbt.resolved}"
        ledger.record_rejects(self.conn(), self.run_id, domain.name, relation)
        if domain.company_ids:
            ledger.record_unresolved(self.conn(), self.run_id, domain.name, relation)

    def _count_verdicts(self, domain: Domain, outcome: DomainResult) -> None:
        from loader.plan import refresh_scope
        from loader.warehouse import connect

        relation = f"wdh_work.{domain.dbt.resolved}"
        with connect(self.conn()) as pg, pg.cursor() as cur:
            key = ", ".join(refresh_scope(cur, "wdh_work", domain.dbt.resolved, domain.output.refresh_key))
            cur.execute(
                "select count(*) filter (where _drop_reason is not null), "
                "count(*) filter (where _drop_reason is null and _reject_reason is not null) "
                f"from {relation}"
            )
            outcome.rows_dropped, outcome.rows_rejected = cur.fetchone()
            cur.execute(
                f"select distinct {key} from {relation} "
                f"where _drop_reason is null and _reject_reason is null order by {key}"
            )
            outcome.refresh_scope = [tuple(row) for row in cur.fetchall()]
            if domain.company_ids:
                from loader.identity import count_layers

                cur.execute(
                    f"select company_id_source, count(*) from {relation} "
                    "where _drop_reason is null and _reject_reason is null group by 1"
                )
                outcome.identity["rows"] = count_layers(cur.fetchall())

    def _published_by_this_run(self, domain: Domain) -> bool:
        from loader.warehouse import connect, existing_relations

        if not existing_relations(self.conn(), [domain.target]):
            return False
        with connect(self.conn()) as pg, pg.cursor() as cur:
            table = f'"{domain.output.schema_name}"."{domain.output.table}"'
            cur.execute(f"select exists (select 1 from {table} where _run_id = %s)", (self.run_id,))
            return bool(cur.fetchone()[0])

    def _publish(self, domain: Domain, outcome: DomainResult, variables: dict[str, Any]) -> None:
        """The mart (one delete+insert transaction), then the views over it. A view over
        two marts is left out until the other mart exists (the other domain builds it):
        a note. A view that fails all the same is a note too, since the mart is published
        by then."""
        from loader.transform import DbtFailed
        from loader.warehouse import existing_relations, shared_lock

        waiting = []
        for view, parents in sorted(self.dbt().models_after(domain.dbt.mart).items()):
            missing = sorted(set(parents) - existing_relations(self.conn(), parents))
            if missing:
                waiting.append(view)
                outcome.notes.append(
                    f"{view} not built yet: it also reads {', '.join(missing)}, which is not there "
                    "yet; the domain that publishes it builds the view"
                )
        excluded = ("test_type:unit", "tag:published", *waiting)
        publish = ("--select", f"{domain.dbt.mart}+", "--exclude", *excluded)
        try:
            with shared_lock(self.conn()):  # the views over several marts are shared
                nodes = self._run_dbt(outcome, "build", *publish, variables=variables)
            outcome.provenance["model_checksums"] = {n.name: n.checksum for n in nodes if n.kind == "model"}
        except DbtFailed as exc:
            if not any(r.name == domain.dbt.mart and r.status == "success" for r in exc.results):
                raise
            outcome.provenance["model_checksums"] = {
                n.name: n.checksum for n in exc.results if n.kind == "model" and n.status == "success"
            }
            outcome.notes.append(
                "the month is published, but "
                + "; ".join(f"{f.kind} {f.name} failed: {f.message}" for f in exc.failures)
                + f"; see the dbt log in {self.dbt().log_path}"
            )


def _sheet_arg(value: str) -> str | int:
    return int(value) if value.isdigit() else value
