"""`wdh`: the command line. It parses options and prints; loader.run decides."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from loader.errors import WdhError


def _fail(exc: WdhError) -> None:
    click.secho(f"error: {exc.message}", fg="red", err=True)
    if exc.hint:
        click.echo(f"  → {exc.hint}", err=True)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WdhError as exc:
            _fail(exc)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="workdatahub-elt", prog_name="wdh")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def main(verbose: int) -> None:
    """WorkDataHub ELT: load a month's enterprise-annuity workbooks into PostgreSQL.

    \b
    wdh etl --domains annuity_performance --period 202411            # plan only
    wdh etl --domains annuity_performance --period 202411 --execute  # write
    wdh sample --period 202411 --data-dir data                        # sample month
    wdh db start|stop|status|url                                      # embedded PostgreSQL
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s")


@main.command()
@click.option(
    "--domains", "domains", metavar="LIST", help="Comma-separated domains, e.g. annuity_performance."
)
@click.option("--all-domains", is_flag=True, help="Every configured data domain, in config order.")
@click.option("--period", metavar="YYYYMM", help="The month to load (fills {YYYYMM} in the folder template).")
@click.option("--execute", is_flag=True, help="Write to the database. Without it nothing is written.")
@click.option("--plan-only", is_flag=True, help="Read, validate and compile only (the default).")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data root [env WDH_DATA_BASE_DIR, default data/].",
)
@click.option(
    "--file-selection",
    type=click.Choice(["error", "newest", "oldest", "first"]),
    help="When several files match: fail (default), or take the newest/oldest/first.",
)
@click.option("--sheet", metavar="NAME|INDEX", help="Read this sheet instead of the configured one(s).")
def etl(
    domains: str | None,
    all_domains: bool,
    period: str | None,
    execute: bool,
    plan_only: bool,
    data_dir: Path | None,
    file_selection: str | None,
    sheet: str | None,
) -> None:
    """Load domains for a period: discover → read → stage → dbt → publish.

    Plan-only is the default: files are found and read, rows validated, dbt models
    compiled, and the database is not touched. --execute stages and publishes.
    """
    from loader.config import data_root, load_config, validate_period
    from loader.run import RunOptions, run

    config = load_config()
    if bool(domains) == bool(all_domains):
        raise click.UsageError("give exactly one of --domains or --all-domains")
    names = (
        config.data_domains() if all_domains else [d.strip() for d in (domains or "").split(",") if d.strip()]
    )
    for name in names:
        config.domain(name)
    if period:
        validate_period(period)
    if sheet and len(names) != 1:
        raise click.UsageError("--sheet needs exactly one domain")
    options = RunOptions(
        domains=names,
        period=period,
        execute=execute,
        data_dir=data_root(data_dir),
        file_selection=file_selection,
        sheet=sheet,
    )
    mode = "execute" if options.execute else "plan-only"
    click.echo(
        f"wdh etl · {', '.join(names)} · period {period or '-'} · mode {mode} · data {options.data_dir}"
    )
    result = run(config, options, _Printer())
    _summary(result)
    sys.exit(result.exit_code)


class _Printer:
    def __call__(self, event: str, fields: dict[str, Any]) -> None:
        domain = fields.get("domain", "")
        if event == "files_found":
            click.echo(f"  {domain}: {fields['version']} folder {fields['folder']}")
            for path in fields["files"]:
                click.echo(f"    • {Path(path).name}")
        elif event == "rows_read":
            click.echo(f"  {domain}: {fields['rows']} rows read")
        elif event == "scope":
            keys = fields["scope"]
            scope = ", ".join("/".join(str(v) for v in key) for key in keys[:6]) + (
                " …" if len(keys) > 6 else ""
            )
            label = "refresh scope as read (before cleaning)" if fields["raw"] else "refresh scope"
            click.echo(f"  {domain}: {label}: {scope or 'none'}")
        elif event == "staged":
            click.echo(f"  {domain}: staged {fields['rows']} rows into {fields['schema']}")
        elif event == "domain_finished":
            result = fields["result"]
            for note in result.notes:
                click.echo(f"  {domain}: note: {note}")
            if result.error:
                click.secho(f"  {domain}: FAILED: {result.error}", fg="red")


def _summary(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"run {result.run_id} · {result.mode}", title_justify="left")
    for column in (
        "domain",
        "target",
        "files",
        "read",
        "published",
        "dropped",
        "rejected",
        "seconds",
        "status",
    ):
        table.add_column(
            column,
            justify="right"
            if column in ("files", "read", "published", "dropped", "rejected", "seconds")
            else "left",
        )
    for d in result.domains:
        planned = d.status == "planned"
        table.add_row(
            d.domain,
            d.target,
            str(len(d.files)),
            str(d.rows_read),
            "-" if planned else str(d.rows_published),
            "-" if planned else str(d.rows_dropped),
            "-" if planned else str(d.rows_rejected),
            f"{d.total_seconds:.1f}",
            d.status,
        )
    console = Console(width=max(Console().width, 140))
    console.print(table)
    for d in result.domains:
        if d.seconds:
            stages = ", ".join(f"{k} {v:.2f}s" for k, v in d.seconds.items())
            console.print(f"  {d.domain}: {stages}", highlight=False)


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
    """Write a realistic sample month (every sheet, noise files, dirty values)."""
    from loader.config import data_root, validate_period
    from loader.sample import generate_month

    validate_period(period)
    root = data_root(data_dir)
    manifest = generate_month(root, period, rows=rows, seed=seed)
    click.echo(f"sample month {period} written under {root}")
    click.echo(f"  workbook {manifest['workbook']}")


@main.group()
def db() -> None:
    """The embedded PostgreSQL (data under .wdh/, or WDH_HOME)."""


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
def db_url() -> None:
    """Print the connection URL everything uses (password hidden)."""
    from loader.warehouse import connection

    click.echo(connection().redacted())


@main.command()
def docs() -> None:
    """Build the static dbt docs site (lineage browsing) and print its path."""
    from loader.transform import Dbt
    from loader.warehouse import connection, wdh_home

    Dbt(connection()).invoke("docs", "generate", "--static")
    click.echo(f"dbt docs: {wdh_home() / 'dbt' / 'target' / 'static_index.html'}")
