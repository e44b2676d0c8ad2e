"""`wdh cleanse` (cli-reference.md §4): the command line of loader.cleanse. It parses and
prints; only click is imported at start-up, so `wdh --help` stays instant. Registered on
the main group by loader/cli.py (`main.add_command(cleanse)`).
"""

from __future__ import annotations

import click

TABLE_CHOICES = ("business_info", "biz_label", "all")


@click.command("cleanse")
@click.option(
    "--table",
    type=click.Choice(TABLE_CHOICES),
    required=True,
    help="enterprise.business_info (from base_info.raw_business_info), enterprise.biz_label "
    "(from raw_biz_label), or both.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    help="Accepted for compatibility with the original command and ignored: the cleansing is "
    "set-based, one delete+insert per table.",
)
@click.option(
    "--limit", type=click.IntRange(1), help="Cleanse at most N companies per table (by company_id) [all]."
)
@click.option("--dry-run", is_flag=True, help="Count what would be written; write nothing to enterprise.")
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Re-cleanse every company (default: only companies without cleansed rows).",
)
def cleanse(table: str, batch_size: int, limit: int | None, dry_run: bool, full_refresh: bool) -> None:
    """Cleanse the lookup service's raw payloads in enterprise.base_info.

    \b
    business_info: texts trimmed, dates to the day, capital in yuan ("1,000万元" → 10000000),
                   unreadable values NULL and named in _cleansing_status
    biz_label:     one row per label, region labels (lv1 = 地区分类) moved up one level

    The rules are the dbt models of dbt_project/models/marts/enterprise; a company's rows
    are replaced as a whole. `dbt run --full-refresh` never drops these tables.
    """
    from loader.cleanse import TABLES
    from loader.cleanse import cleanse as run_cleanse
    from loader.warehouse import connection, describe_target

    del batch_size  # see its help
    conn = connection()
    click.echo(f"database: {describe_target(conn)}")
    tables = list(TABLES) if table == "all" else [table]
    counts = run_cleanse(conn, tables, dry_run=dry_run, full_refresh=full_refresh, limit=limit)
    verb = "would write" if dry_run else "wrote"
    for name, count in counts.items():
        click.echo(
            f"enterprise.{name}: {count['companies']} compan{'y' if count['companies'] == 1 else 'ies'} "
            f"to cleanse, {verb} {count['rows']} row{'' if count['rows'] == 1 else 's'}"
        )
    if dry_run:
        click.echo("dry run: nothing was written; run again without --dry-run to write")
