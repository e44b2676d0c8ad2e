"""`wdh`: the command line. It parses options and prints; loader.run decides.

Only click and loader.errors are imported at start-up, so `wdh --help` is instant and
has no side effects; every command imports what it needs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shlex
import sys
from dataclasses import asdict, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from loader.cli_cleanse import cleanse  # these two modules import only click
from loader.cli_identity import auth, eqc_refresh
from loader.errors import WdhError


def _fail(exc: WdhError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    if exc.hint:
        click.echo(f"  → {exc.hint}", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        from loader.run import EXIT_USAGE, UsageError

        try:
            return super().invoke(ctx)
        except UsageError as exc:
            _fail(exc)
            ctx.exit(EXIT_USAGE)
        except WdhError as exc:
            _fail(exc)
            ctx.exit(1)


def _setup_logging(verbose: int, quiet: bool) -> None:
    level = logging.ERROR if quiet else logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s", force=True
    )


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="workdatahub-elt", prog_name="wdh")
def main() -> None:
    """WorkDataHub ELT: load a month's enterprise-annuity workbooks into PostgreSQL.

    \b
    wdh etl --domains annuity_performance --period 202411            # plan only
    wdh etl --domains annuity_performance --period 202411 --execute  # write
    wdh etl --all-domains --period 202411 --execute
    wdh runs                                                          # the run ledger
    wdh unresolved RUN_ID                                             # names given temporary ids
    wdh check-db                                                      # is the database ready?
    wdh sample --period 202411 --data-dir data                        # a sample month
    wdh dbt test                                                      # dbt on the warehouse
    wdh db start|stop|status|url|destroy                              # embedded PostgreSQL
    """


@main.command()
@click.option(
    "--domains",
    "--domain",
    "domains",
    metavar="LIST",
    help="Comma-separated domains, run in this order, e.g. annuity_performance,annuity_income.",
)
@click.option(
    "--all-domains", is_flag=True, help="Every configured data domain, in config order (no sandbox)."
)
@click.option("--period", metavar="YYYYMM", help="The month to load (fills {YYYYMM} in the domain folders).")
@click.option("--execute", is_flag=True, help="Stage and publish. Without it nothing is written.")
@click.option(
    "--plan-only",
    "--dry-run",
    "plan_only",
    is_flag=True,
    help="Judge every row on a scratch PostgreSQL and show the change (the default; --execute wins).",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data root [env WDH_DATA_BASE_DIR, default data/].",
)
@click.option(
    "--file",
    "file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read this workbook instead of discovering one (one domain only).",
)
@click.option(
    "--sheet", metavar="NAME|INDEX", help="Read this sheet instead of the configured one(s); one domain."
)
@click.option(
    "--file-selection",
    type=click.Choice(["error", "newest", "oldest", "first"]),
    help="When several files match: fail (default), or take the newest/oldest/first.",
)
@click.option(
    "--max-files",
    type=click.IntRange(1, 20),
    default=1,
    show_default=True,
    help="Read up to N matching files (name order) and publish them together.",
)
@click.option(
    "--mode",
    type=click.Choice(["delete_insert", "append"]),
    help="delete_insert replaces the refresh-key tuples present in the new rows; append only inserts.",
)
@click.option(
    "--lock-timeout",
    type=click.FloatRange(0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="Wait this long for a domain another run is loading, then fail that domain.",
)
@click.option(
    "--enrichment-sync-budget",
    type=click.IntRange(0),
    default=500,
    show_default=True,
    metavar="N",
    help="Distinct customer names each domain may look up in the enterprise lookup service "
    "(WDH_EQC_TOKEN); 0: no lookups. A plan never looks up.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 500),
    default=50,
    show_default=True,
    help="company_lookup_queue only: requests taken at a time.",
)
@click.option("--check-db", is_flag=True, help="Check the database and exit (same as `wdh check-db`).")
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one JSON event per line on stdout.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv: debug).")
@click.option("-q", "--quiet", is_flag=True, help="Errors and the final summary only.")
def etl(
    domains: str | None,
    all_domains: bool,
    period: str | None,
    execute: bool,
    plan_only: bool,
    data_dir: Path | None,
    file: Path | None,
    sheet: str | None,
    file_selection: str | None,
    max_files: int,
    mode: str | None,
    lock_timeout: float,
    enrichment_sync_budget: int,
    batch_size: int,
    check_db: bool,
    log_format: str,
    verbose: int,
    quiet: bool,
) -> None:
    """Load domains for a period: discover → read → stage → dbt → publish.

    Plan-only is the default: the whole --execute path runs against a scratch
    PostgreSQL thrown away after the run, and what publishing would change in the
    warehouse is shown; the warehouse is only read. --execute stages and publishes.
    Exit code 0 when every domain succeeded, 1 when one failed, 2 for usage errors,
    130 when interrupted.
    """
    _setup_logging(verbose, quiet or log_format == "json")
    if check_db:
        sys.exit(_check_db())
    from loader import interrupts
    from loader.config import data_root, load_config, validate_period
    from loader.run import RunOptions, UsageError, run, select_domains

    config = load_config()
    names = select_domains(config, domains, all_domains)
    if period:
        try:
            validate_period(period)
        except WdhError as exc:
            raise UsageError(exc.message, hint=exc.hint) from None
    if (sheet or file) and len(names) != 1:
        raise UsageError("--sheet and --file need exactly one domain")
    monthly = [n for n in names if n in config.domains and config.domains[n].periodic]
    if monthly and not period:
        raise UsageError(f"--period YYYYMM is required for {', '.join(monthly)}", hint="e.g. --period 202411")
    options = RunOptions(
        domains=names,
        period=period,
        execute=execute,
        data_dir=data_root(data_dir),
        file_selection=file_selection,
        max_files=max_files,
        sheet=sheet,
        file=file,
        mode=mode,
        lock_timeout=lock_timeout,
        command=_command_line(),
        enrichment_budget=enrichment_sync_budget,
        batch_size=batch_size,
    )
    printer: _Printer = _JsonPrinter() if log_format == "json" else _TextPrinter(quiet)
    interrupts.install()
    result = run(config, options, printer)
    printer.close(result)
    sys.exit(result.exit_code)


def _command_line() -> str:
    """The command as typed, with anything that looks like a secret masked."""
    import re

    text = shlex.join(["wdh", *sys.argv[1:]])
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


class _Printer:
    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        raise NotImplementedError

    def close(self, result: Any) -> None:
        pass


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return str(value)


class _JsonPrinter(_Printer):
    """One JSON object per event on stdout: machine-readable logs."""

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        record = {"ts": datetime.now(UTC).isoformat(timespec="milliseconds"), "event": event, **fields}
        click.echo(json.dumps(record, ensure_ascii=False, default=_plain))


class _TextPrinter(_Printer):
    """Human output: progress while it runs (a live status line on a terminal, plain
    lines otherwise) and the summary table at the end."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.status: Any = None
        if not quiet and sys.stdout.isatty():
            from rich.console import Console

            self.status = Console().status("starting")
            self.status.start()

    def line(self, text: str, **style: Any) -> None:
        if not self.quiet:
            click.secho(text, **style)

    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        domain = fields.get("domain", "")
        if event == "run_started":
            self.line(
                f"wdh etl · {', '.join(fields['domains'])} · period {fields['period'] or '-'} · "
                f"mode {fields['mode']} · run {fields['run_id']}"
            )
            self.line(f"  database: {fields['database']}")
        elif event == "stage_started" and self.status is not None:
            self.status.update(f"{domain}: {fields['stage']} …")
        elif event == "files_found":
            self.line(
                f"  {domain}: {fields['version']} · " + ", ".join(Path(p).name for p in fields["files"])
            )
        elif event == "rows_read":
            self.line(f"  {domain}: {fields['rows']} rows read from {fields['sheets']} sheet(s)")
        elif event == "staged":
            self.line(f"  {domain}: staged {fields['rows']} rows into {fields['schema']}")
        elif event == "scope":
            keys = fields["scope"]
            scope = ", ".join("/".join(str(v) for v in key) for key in keys[:6]) + (
                " …" if len(keys) > 6 else ""
            )
            self.line(f"  {domain}: refresh scope: {scope or 'none'}")
        elif event == "change":
            for line in _change_lines(fields["change"]):
                self.line(f"  {domain}: {line}")
        elif event == "domain_finished":
            result = fields["result"]
            for note in result.notes:
                self.line(f"  {domain}: note: {note}")
            if result.error:
                click.secho(f"  {domain}: {result.status.upper()}: {result.error}", fg="red", err=self.quiet)

    def close(self, result: Any) -> None:
        if self.status is not None:
            self.status.stop()
        _summary(result)


def _summary(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(
        title=f"run {result.run_id} · {result.mode} · exit {result.exit_code}", title_justify="left"
    )
    plan = result.mode != "execute"
    numeric = ("files", "read", "published", "dropped", "rejected", "replaces", "seconds")
    columns = ["domain", "target", "files", "read", "published", "dropped", "rejected"]
    columns += ["replaces", "seconds", "status"] if plan else ["seconds", "status"]
    for column in columns:
        table.add_column(column, justify="right" if column in numeric else "left", no_wrap=True)
    for d in result.domains:
        judged = d.status in ("ok", "planned")
        cells = [
            d.domain,
            d.target,
            str(len(d.files)),
            str(d.rows_read),
            *(str(n) if judged else "-" for n in (d.rows_published, d.rows_dropped, d.rows_rejected)),
        ]
        if plan:  # rows of the target the publish would delete (its refresh scope there now)
            change = d.change or {}
            cells.append(str(change["deleted"]) if change.get("available") else "-")
        table.add_row(*cells, f"{d.total_seconds:.1f}", d.status)
    console = Console(width=max(Console().width, 140), highlight=False)
    console.print(table)
    for d in result.domains:
        if d.seconds:
            console.print(f"  {d.domain}: " + ", ".join(f"{k} {v:.2f}s" for k, v in d.seconds.items()))
        if d.dbt_nodes:
            console.print(f"    dbt: {_dbt_line(d.dbt_nodes)}")
        if d.identity.get("rows"):
            console.print(f"    company_id: {_identity_line(d.identity)}")
        if d.reference:
            console.print(f"    reference: {_reference_line(d.reference, plan)}")


def _reference_line(reference: dict[str, dict[str, int]], plan: bool) -> str:
    """Keys the back-fill adds per table (`would add` in a plan), and tags merged."""
    verb = "would add" if plan else "added"
    parts = []
    for table, change in reference.items():
        merged = f", {change['tags_merged']} customer(s) tagged" if change.get("tags_merged") else ""
        parts.append(f"{table} {change['new']} of {change['candidates']}{merged}")
    return f"{verb} " + " · ".join(parts)


def _identity_line(identity: dict[str, Any]) -> str:
    """Published rows per resolution layer, then what the lookup service did."""
    rows: dict[str, int] = identity["rows"]
    parts = []
    overrides = sum(n for source, n in rows.items() if source.startswith("override_"))
    if overrides:
        parts.append(f"{overrides} override")
    for source, label in (
        ("cache_plan_code", "cache plan_code"),
        ("cache_customer_name", "cache customer_name"),
        ("cache_plan_customer", "cache plan_customer"),
        ("cache_former_name", "cache former_name"),
        ("source_column", "source id"),
        ("lookup", "lookup"),
        ("temporary", "temporary id"),
        ("none", "no company"),
    ):
        if rows.get(source):
            parts.append(f"{rows[source]} {label}")
    line = " · ".join(parts) + " rows"
    if identity.get("budget"):
        line += f"; lookups {identity['lookups']}/{identity['budget']} ({identity['service']})"
    elif identity.get("service"):
        line += f"; lookup service {identity['service']}"
    if identity.get("queued"):
        line += f"; {identity['queued']} name(s) queued for a later lookup"
    return line


def _change_lines(change: dict[str, Any]) -> list[str]:
    """A plan's change to the target: totals, then one line per refresh-key value with its
    rows and first amount column now → after (every amount is in the JSON log)."""
    if not change["available"]:
        return [f"change to the warehouse not shown: {change['target']}"]
    lines = [f"would delete {change['deleted']} and insert {change['inserted']} rows ({change['mode']})"]
    for key in change["keys"]:
        label = "/".join(str(v) for v in key["key"]) + (" (new)" if key["new"] else "")
        amount = next(iter(key["amounts_now"]), None)
        money = (
            f"; {amount} {_amount(key['amounts_now'][amount])} → {_amount(key['amounts_after'][amount])}"
            if amount
            else ""
        )
        lines.append(f"  {label}: {key['rows_now']} → {key['rows_after']} rows{money}")
    for kept in change["kept"]:
        lines.append(f"  {'/'.join(str(v) for v in kept)}: not in the new files, stays as published")
    return lines


def _amount(value: str | None) -> str:
    return "-" if value is None else f"{float(value):,.2f}"


def _dbt_line(nodes: list[Any]) -> str:
    """dbt's per-node results in one line: counts by kind and status, failures, the slowest node."""
    from collections import Counter

    counts = Counter(f"{n.kind} {n.status}" for n in nodes if n.kind != "seed")
    text = ", ".join(f"{count} {key}" for key, count in sorted(counts.items()))
    failed = [f"{n.kind} {n.name}: {n.status}" for n in nodes if n.status in ("error", "fail", "skipped")]
    slowest = max((n for n in nodes if n.kind == "model"), key=lambda n: n.seconds, default=None)
    if slowest is not None:
        text += f"; slowest {slowest.name} {slowest.seconds:.2f}s"
    return text + ("; " + "; ".join(failed) if failed else "")


def _check_db() -> int:
    from loader.config import load_config
    from loader.transform import Dbt, DbtFailed
    from loader.warehouse import Check, check_database, connection, describe_target, wdh_home

    config = load_config()
    schemas = sorted(
        {"wdh_meta", "wdh_work", "mapping", *(d.output.schema_name for d in config.domains.values())}
    )
    tables = [d.target for d in config.domains.values()]
    conn = connection()
    click.echo(f"database: {describe_target(conn)}")
    checks = check_database(conn, schemas, tables)
    if all(c.ok for c in checks):
        try:
            Dbt(conn, wdh_home() / "dbt" / "check-db").invoke("debug")
            checks.append(Check(True, "dbt profile dbt_project/profiles.yml connects"))
        except DbtFailed as exc:
            checks.append(
                Check(False, f"dbt profile: {exc.message}", "check the WDH_PG_* settings dbt receives")
            )
    for check in checks:
        mark = click.style("ok  ", fg="green") if check.ok else click.style("FAIL", fg="red")
        click.echo(f"{mark} {check.what}")
        if check.fix:
            click.echo(f"     → {check.fix}")
    return 0 if all(c.ok for c in checks) else 1


@main.command("check-db")
def check_db_command() -> None:
    """Check the database: which one and why, connection, version, schemas, tables, rights, dbt profile."""
    sys.exit(_check_db())


@main.group(invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, help="How many runs to list.")
@click.pass_context
def runs(ctx: click.Context, limit: int) -> None:
    """List recent runs (execute runs from wdh_meta, plan-only runs from the local file)."""
    if ctx.invoked_subcommand is not None:
        return
    from loader.ledger import list_runs

    entries = list_runs(_ledger_connection(), limit)
    if not entries:
        click.echo("no runs recorded yet")
        return
    for entry in entries:
        domains = ", ".join(f"{d['domain']}={d['status']}" for d in entry["domains"])
        click.echo(
            f"{entry['run_id']}  {entry['started_at'][:19]}  {entry['mode']:<9}  "
            f"period {entry.get('period') or '-':<6}  exit {entry.get('exit_code')}  {domains}"
        )


@runs.command("show")
@click.argument("run_id")
def runs_show(run_id: str) -> None:
    """Show one run with its domains, files, counts and timings."""
    from loader.ledger import show_run

    entry = show_run(_ledger_connection(), run_id)
    if entry is None:
        raise WdhError(f"no run {run_id}", hint="list the runs with `wdh runs`")
    click.echo(json.dumps(entry, ensure_ascii=False, indent=2, default=str))


_CSV_OPTION = click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write them to this CSV file (UTF-8 with BOM, opens in Excel) instead of printing.",
)


@main.command()
@click.argument("run_id")
@_CSV_OPTION
def rejects(run_id: str, csv_path: Path | None) -> None:
    """List a run's rejected, dropped and warned rows: file, sheet, row, column, value, reason."""
    from loader.ledger import list_rejects

    rows = list_rejects(_ledger_connection(), run_id)
    if csv_path is not None:
        header = ("domain", "kind", "file", "sheet", "row", "column", "value", "reason")
        _write_csv(csv_path, header, rows)
        click.echo(f"{len(rows)} row(s) written to {csv_path}")
        return
    if not rows:
        click.echo(f"no rejected, dropped or warned rows recorded for run {run_id}")
        return
    for domain, kind, file, sheet, row, column, value, reason in rows:
        where = f"{file} · {sheet} · row {row}" + (f" · {column}" if column else "")
        shown = f" ({value!r})" if value is not None else ""
        click.echo(f"{domain:<20} {kind:<8} {where}: {reason}{shown}")


@main.command()
@click.argument("run_id")
@_CSV_OPTION
def unresolved(run_id: str, csv_path: Path | None) -> None:
    """List the customer names a run gave temporary company ids (IN…), with their rows.

    These are the names neither the overrides, the cache, the sheet nor the lookup
    service could identify; add them to the override seeds or let the lookup queue
    resolve them, then rerun the month."""
    from loader.ledger import list_unresolved

    rows = list_unresolved(_ledger_connection(), run_id)
    if csv_path is not None:
        _write_csv(csv_path, ("domain", "name", "temporary_id", "rows"), rows)
        click.echo(f"{len(rows)} name(s) written to {csv_path}")
        return
    if not rows:
        click.echo(f"no names with temporary company ids recorded for run {run_id}")
        return
    for domain, name, temporary_id, count in rows:
        click.echo(f"{domain:<20} {temporary_id}  {count:>6} row(s)  {name}")


def _write_csv(path: Path, header: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """UTF-8 with a BOM, so Excel opens the Chinese text right."""
    import csv

    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _ledger_connection() -> Any:
    """The database when one is configured or the embedded server already runs; else None."""
    from loader.warehouse import APP_DATABASE, EmbeddedServer, configured_database, wdh_home

    configured = configured_database()
    if configured is not None:
        return configured
    server = EmbeddedServer(wdh_home())
    return server.connection(APP_DATABASE) if server.is_running() else None


@main.command()
@click.option("--period", required=True, metavar="YYYYMM")
@click.option("--rows", default=200, show_default=True, help="规模明细 rows (other sheets scale with it).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data root [env WDH_DATA_BASE_DIR, default data/].",
)
@click.option("--seed", default=20241101, show_default=True, help="Random seed (same seed, same files).")
def sample(period: str, rows: int, data_dir: Path | None, seed: int) -> None:
    """Write a realistic sample month (every workbook, noise files, dirty values)."""
    from loader.config import data_root, validate_period
    from loader.sample import generate_month

    validate_period(period)
    root = data_root(data_dir)
    manifest = generate_month(root, period, rows=rows, seed=seed)
    click.echo(f"sample month {period} written under {root}")
    click.echo(f"  workbook {manifest['workbook']}")


@main.group()
def db() -> None:
    """The embedded PostgreSQL (data in .wdh/pgdata, or WDH_HOME/pgdata)."""


@db.command("start")
def db_start() -> None:
    """Start the embedded server (initialises it on first use)."""
    from loader.warehouse import APP_DATABASE, EmbeddedServer, wdh_home

    server = EmbeddedServer(wdh_home())
    server.start()
    server.ensure_database(APP_DATABASE)
    click.echo(f"embedded PostgreSQL running: {server.connection(APP_DATABASE).redacted()}")


@db.command("stop")
def db_stop() -> None:
    """Stop the embedded server."""
    from loader.warehouse import EmbeddedServer, wdh_home

    click.echo("stopped" if EmbeddedServer(wdh_home()).stop() else "not running")


@db.command("status")
def db_status() -> None:
    """Say whether the embedded server runs, and where; exit 1 if it does not."""
    from loader.warehouse import APP_DATABASE, EmbeddedServer, server_version, wdh_home

    server = EmbeddedServer(wdh_home())
    if not server.is_running():
        click.echo(f"embedded PostgreSQL not running (data directory {server.pgdata})")
        sys.exit(1)
    conn = server.connection(APP_DATABASE)
    click.echo(f"embedded PostgreSQL {server_version(server.connection())} running: {conn.redacted()}")


@db.command("url")
@click.option("--show-password", is_flag=True, help="Print the configured password instead of ***.")
def db_url(show_password: bool) -> None:
    """Print the URL everything uses, without starting the embedded server.

    Usable by psql and pg_dump: pg_dump "$(wdh db url)" > backup.sql
    """
    from loader.warehouse import APP_DATABASE, EmbeddedServer, configured_database, wdh_home

    conn = configured_database()
    if conn is None:
        server = EmbeddedServer(wdh_home())
        if server.is_running():
            conn = server.connection(APP_DATABASE)
        else:
            conn = server.planned_connection(APP_DATABASE)
            click.echo("the embedded PostgreSQL is not running; start it with `wdh db start`", err=True)
    click.echo(conn.url() if show_password and conn.password else conn.redacted())


@db.command("destroy")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def db_destroy(yes: bool) -> None:
    """Stop the embedded server and delete its data directory, with every table in it."""
    from loader.warehouse import EmbeddedServer, configured_database, describe_target, wdh_home

    configured = configured_database()
    if configured is not None:
        raise WdhError(
            f"the database is configured ({describe_target(configured)}); "
            "`wdh db destroy` only deletes the embedded server's data",
            hint="drop that database with your own tools, or remove the setting to destroy the embedded one",
        )
    server = EmbeddedServer(wdh_home())
    if not server.pgdata.exists():
        click.echo(f"nothing to destroy: {server.pgdata} does not exist")
        return
    if not yes:
        click.confirm(f"delete {server.pgdata} and every table in it?", abort=True)
    server.destroy()
    click.echo(f"destroyed {server.pgdata}")


DBT_WRITING_COMMANDS = ("build", "run", "seed", "snapshot", "run-operation", "retry", "clone")


@main.command(
    "dbt",
    context_settings={"ignore_unknown_options": True, "help_option_names": [], "allow_extra_args": True},
)
@click.option(
    "--period", metavar="YYYYMM", help="The period whose staging sources dbt reads [the last loaded]."
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def dbt_command(period: str | None, args: tuple[str, ...]) -> None:
    """Run dbt on the warehouse: wdh dbt test | build --select … | docs generate.

    The connection and the run variables are set as `wdh etl` sets them. `wdh dbt test`
    without a selection checks the published tables, every month (tag:published). The
    staging sources are those of --period, else of the last period loaded. Exits with
    dbt's exit code.
    """
    import subprocess

    from loader.config import load_config, validate_period
    from loader.ledger import last_period
    from loader.transform import passthrough
    from loader.warehouse import connection, existing_relations

    conn = connection()
    domains = load_config().domains
    marts = {d.dbt.mart: d.target for d in domains.values()}
    marts.update({"business_info": "enterprise.business_info", "biz_label": "enterprise.biz_label"})
    published = existing_relations(conn, list(marts.values()))
    unpublished = sorted(mart for mart, target in marts.items() if target not in published)
    if period:
        validate_period(period)
    else:
        period = last_period(conn)
        if args and args[0] not in ("--help", "-h", "--version"):
            click.echo(f"wdh dbt: staging sources of period {period or '(none loaded yet)'}", err=True)
    argv, env = passthrough(conn, args, period, unpublished)
    dbt = Path(sys.executable).parent / "dbt"
    with contextlib.ExitStack() as locks:
        if argv[:1] and argv[0] in DBT_WRITING_COMMANDS:
            # it may rebuild work tables and publish: never beside a `wdh etl` of any domain
            from loader.run import new_run_id
            from loader.warehouse import DomainLocked, domain_lock, shared_lock

            try:
                for name in domains:
                    locks.enter_context(domain_lock(conn, name, 0))
            except DomainLocked:
                raise WdhError(
                    f"wdh dbt {argv[0]} waits for no run: a `wdh etl` is loading a domain",
                    hint="run it again when `wdh runs` shows no running domain",
                ) from None
            locks.enter_context(shared_lock(conn))
            env["WDH_RUN_ID"] = f"dbt_{new_run_id()}"
        returncode = subprocess.run([str(dbt), *argv], env=env, check=False).returncode
    sys.exit(returncode)


@main.group()
def staging() -> None:
    """The per-period staging schemas (stg_<domain>_<YYYYMM>) dlt loads into."""


@staging.command("prune")
@click.option(
    "--keep", type=click.IntRange(1), required=True, help="Periods to keep per domain (the last N)."
)
@click.option("--execute", is_flag=True, help="Drop them. Without it, only show what would be dropped.")
def staging_prune(keep: int, execute: bool) -> None:
    """Drop each domain's staging schemas beyond its last N periods (published tables stay)."""
    from loader.config import load_config
    from loader.staging import prune
    from loader.warehouse import connection

    doomed = prune(connection(), list(load_config().domains), keep, execute)
    verb = "dropped" if execute else "would drop"
    for name in doomed:
        click.echo(f"{verb} {name}")
    if not doomed:
        click.echo(f"nothing to drop: no domain has more than {keep} staged period(s)")
    elif not execute:
        click.echo("plan only: run again with --execute to drop them")


@main.command()
@click.option(
    "--period",
    metavar="YYYYMM",
    help="The period whose staging tables the docs show as the sources [the last loaded].",
)
def docs(period: str | None) -> None:
    """Build the static dbt docs site (lineage browsing) and print its path.

    The staging sources are the tables of --period, else of the last period loaded, so
    the docs show their columns as loaded."""
    from loader.config import validate_period
    from loader.ledger import last_period
    from loader.transform import Dbt
    from loader.warehouse import connection, wdh_home

    conn = connection()
    period = validate_period(period) if period else last_period(conn)
    variables = {"period": period or "000000"}
    Dbt(conn, wdh_home() / "dbt").invoke("docs", "generate", "--static", variables=variables)
    click.echo(f"dbt docs: {wdh_home() / 'dbt' / 'target' / 'static_index.html'}")
    click.echo(f"staging sources: period {period}" if period else "staging sources: no period loaded yet")


# the commands of their own modules
main.add_command(auth)
main.add_command(eqc_refresh)
main.add_command(cleanse)
