"""`wdh auth refresh|status` and `wdh eqc-refresh`: the commands around the lookup service's
token and the freshness of enterprise.base_info (docs/identity.md). loader/cli.py registers
them on the main group, which turns a WdhError into its message, hint and exit code 1.

Only click is imported at start-up, so `wdh --help` stays instant; the work is in
loader/identity_ops.py, imported by each command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

PASTE_GUIDE = """\
To get a token:
  1. open {url} in a browser and log in;
  2. open the developer tools (F12), tab Network, and search for any company;
  3. click the request to /kg-api-hfd/api/search/… and copy its `token` request header."""


@click.group()
def auth() -> None:
    """The lookup service's token (WDH_EQC_TOKEN): get a new one, check it."""


@auth.command("refresh")
@click.option(
    "--timeout",
    type=click.IntRange(1),
    default=300,
    show_default=True,
    metavar="SECONDS",
    help="How long the browser login waits for your search.",
)
@click.option("--no-save", is_flag=True, help="Print the token instead of saving it.")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to update [the file WDH_ENV_FILE names, else .wdh_env].",
)
@click.option("--paste", is_flag=True, help="Paste the token even when the browser login is installed.")
def auth_refresh(timeout: int, no_save: bool, env_file: Path | None, paste: bool) -> None:
    """Get a new token, check it, save it in the env file.

    With the optional browser extra (pip install 'workdatahub-elt[browser]') a browser
    window opens on the service: log in and search for any company, and the token of
    that search is taken. Otherwise, or with --paste, paste the token (hidden input; read
    from stdin when it is not a terminal). A token the service refuses is not saved
    (exit 1); one it could not check is saved with a warning. Ctrl+C: exit 130.
    """
    from datetime import datetime

    from loader import identity_ops as ops
    from loader.errors import WdhError

    target = env_file or ops.default_env_file()
    try:
        token = ops.check_token(_obtain_token(timeout, paste))
        status, masked = ops.token_status(ops.settings_with(token))
    except (KeyboardInterrupt, click.Abort):
        click.echo("\ninterrupted: the token was not changed", err=True)
        sys.exit(130)
    if status == "invalid":
        raise WdhError(
            f"the lookup service refused the token {masked}; nothing was saved",
            hint="copy the `token` header of a search made just now (tokens expire after ~30 minutes idle)",
        )
    if status == "unknown":
        click.echo(f"warning: the service could not say whether {masked} works (unreachable?)", err=True)
    if no_save:
        click.echo(f"{ops.TOKEN_KEY}={token}")
        return
    ops.write_token(target, token, datetime.now())
    click.echo(f"token {masked} ({status}) saved to {target.resolve()}")
    import os

    if os.environ.get(ops.TOKEN_KEY):
        click.echo(
            f"note: {ops.TOKEN_KEY} is also set in your environment and wins over the file; "
            f"unset it (unset {ops.TOKEN_KEY})",
            err=True,
        )


def _obtain_token(timeout: int, paste: bool) -> str:
    """From the browser login when it is installed (and not --paste), else pasted."""
    from loader import identity_ops as ops
    from loader.errors import WdhError

    url = ops.service_url()
    if not paste and ops.browser_available():
        click.echo(
            f"A browser window opens on {url}: log in and search for any company "
            f"(waiting up to {timeout} s) …",
            err=True,
        )
        try:
            token = ops.browser_token(url + "/", timeout)
        except WdhError as exc:
            click.echo(f"{exc.message} ({exc.hint}); paste the token instead", err=True)
        else:
            if token is None:
                raise WdhError(
                    f"no search within {timeout} s: no token",
                    hint="run it again and search for a company after logging in, or use --paste",
                )
            return token
    elif not paste:
        click.echo(f"(the browser login needs the browser extra: {ops.BROWSER_EXTRA})", err=True)
    click.echo(PASTE_GUIDE.format(url=url), err=True)
    if sys.stdin.isatty():
        return str(click.prompt("token (input hidden)", hide_input=True, err=True))
    return sys.stdin.readline()


@auth.command("status")
def auth_status() -> None:
    """Does the configured token work? valid, invalid, unknown or missing.

    The token is shown masked (abcd…wxyz); one validation request. Exit 0 only when it
    is valid."""
    from loader import identity_ops as ops
    from loader.eqc import EqcSettings
    from loader.settings import setting

    settings = EqcSettings.from_env()
    status, masked = ops.token_status(settings)
    if settings is None:
        click.echo(f"token missing: {ops.TOKEN_KEY} is set neither in the environment nor in the env file")
        click.echo("  → get one with `wdh auth refresh`")
        sys.exit(1)
    found = setting(ops.TOKEN_KEY)
    origin = found.origin if found is not None else ops.TOKEN_KEY
    click.echo(f"token {status}: {masked} ({origin}), service {settings.base_url}")
    if status == "invalid":
        click.echo("  → the service refuses it; get a new one with `wdh auth refresh`")
    elif status == "unknown":
        click.echo("  → the service did not say (unreachable, or an unexpected answer); try again later")
    sys.exit(0 if status == "valid" else 1)


@click.command("eqc-refresh")
@click.option("--status", "show_status", is_flag=True, help="Count fresh, stale and never fetched companies.")
@click.option("--refresh-stale", is_flag=True, help="Fetch the stale and never fetched companies again.")
@click.option("--company-ids", metavar="ID1,ID2", help="Fetch these companies again.")
@click.option(
    "--refresh-all", "--initial-full-refresh", "refresh_all", is_flag=True, help="Fetch every company again."
)
@click.option(
    "--resume", "--resume-from-checkpoint", "resume", is_flag=True, help="Finish an interrupted refresh."
)
@click.option(
    "--threshold-days",
    type=click.IntRange(1),
    metavar="DAYS",
    help="Stale: fetched longer ago than this [WDH_EQC_DATA_FRESHNESS_THRESHOLD_DAYS, else 90].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(1),
    default=100,
    show_default=True,
    metavar="N",
    help="Companies per checkpoint.",
)
@click.option(
    "--rate-limit",
    type=click.FloatRange(0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="PER_SECOND",
    help="At most this many requests per second (3 per company).",
)
@click.option("--max-companies", type=click.IntRange(1), metavar="N", help="Refresh at most N companies.")
@click.option("--dry-run", is_flag=True, help="Show what would be refreshed; ask and write nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--checkpoint-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the checkpoint of a refresh is kept [<WDH_HOME>/checkpoints].",
)
@click.option("--checkpoint", "_checkpoint", is_flag=True, hidden=True, help="Always on.")
@click.pass_context
def eqc_refresh(
    ctx: click.Context,
    show_status: bool,
    refresh_stale: bool,
    company_ids: str | None,
    refresh_all: bool,
    resume: bool,
    threshold_days: int | None,
    batch_size: int,
    rate_limit: float,
    max_companies: int | None,
    dry_run: bool,
    yes: bool,
    checkpoint_dir: Path | None,
    _checkpoint: bool,
) -> None:
    """Keep enterprise.base_info fresh: fetch companies again from the lookup service.

    \b
    Exactly one action:
      --status                 fresh / stale / never fetched companies
      --refresh-stale          those fetched longer ago than --threshold-days, or never
      --company-ids ID1,ID2    these companies
      --refresh-all            every company of base_info
      --resume                 finish the refresh that was interrupted

    Each company costs 3 requests (findDepart, findLabels, the search by its stored
    name); base_info is updated by the COALESCE rule (a value is never erased), with
    data_source 'refresh'. A checkpoint is saved every --batch-size companies and when
    the refresh stops, so --resume continues where it stopped. Exit 1 when a company
    failed or the token was refused, 130 when interrupted.
    """
    from loader.warehouse import connection, wdh_home

    chosen = [
        name
        for name, on in (
            ("--status", show_status),
            ("--refresh-stale", refresh_stale),
            ("--company-ids", company_ids is not None),
            ("--refresh-all", refresh_all),
            ("--resume", resume),
        )
        if on
    ]
    if len(chosen) != 1:
        raise click.UsageError(
            "give exactly one of --status, --refresh-stale, --company-ids, --refresh-all, --resume"
            + (f" (got {', '.join(chosen)})" if chosen else "")
        )
    days = threshold_days or _default_threshold()
    checkpoint = (checkpoint_dir or wdh_home() / "checkpoints") / "eqc-refresh.json"
    conn = connection()
    if show_status:
        _print_status(conn, days, checkpoint)
        return
    arguments: dict[str, Any] = {"action": chosen[0], "threshold_days": days, "batch_size": batch_size}
    arguments["rate_limit"] = rate_limit
    ids, todo, arguments = _companies(ctx, conn, chosen[0], company_ids, days, checkpoint, arguments)
    if max_companies and not resume:
        ids = todo = ids[:max_companies]
    _refresh(conn, ids, todo, arguments, checkpoint, dry_run=dry_run, yes=yes, resume=resume)


def _default_threshold() -> int:
    from loader.errors import WdhError
    from loader.settings import setting

    found = setting("WDH_EQC_DATA_FRESHNESS_THRESHOLD_DAYS")
    if found is None:
        return 90
    if not found.value.strip().isdigit() or int(found.value) < 1:
        raise WdhError(f"{found.origin} is not a positive whole number of days: {found.value!r}")
    return int(found.value)


def _print_status(conn: Any, days: int, checkpoint: Path) -> None:
    from loader import identity_ops as ops

    counts = ops.refresh_status(conn, days)
    click.echo(f"enterprise.base_info: {counts['total']} companies")
    click.echo(f"  fresh (fetched within {days} days): {counts['fresh']}")
    click.echo(f"  stale (fetched more than {days} days ago): {counts['stale']}")
    click.echo(f"  never fetched: {counts['never fetched']}")
    state = ops.read_checkpoint(checkpoint)
    if state is not None:
        click.echo(
            f"an interrupted refresh ({state.arguments.get('action', '?')}, {state.updated_at}): "
            f"{len(state.remaining())} of {len(state.company_ids)} companies left "
            "— `wdh eqc-refresh --resume` finishes it"
        )


def _companies(
    ctx: click.Context,
    conn: Any,
    action: str,
    company_ids: str | None,
    days: int,
    checkpoint: Path,
    arguments: dict[str, Any],
) -> tuple[list[str], list[str], dict[str, Any]]:
    """The ids of the refresh, those still to do (all but for --resume), and its arguments
    (a resumed refresh's own, with --batch-size and --rate-limit given now winning)."""
    from loader import identity_ops as ops
    from loader.errors import WdhError

    if action == "--refresh-stale":
        ids = ops.stale_companies(conn, days)
        return ids, ids, arguments
    if action == "--refresh-all":
        ids = ops.all_companies(conn)
        return ids, ids, arguments
    if action == "--company-ids":
        ids = list(dict.fromkeys(part.strip() for part in (company_ids or "").split(",") if part.strip()))
        if not ids:
            raise click.UsageError("--company-ids wants ids separated by commas, e.g. 614810477,600000001")
        return ids, ids, arguments
    state = ops.read_checkpoint(checkpoint)
    if state is None:
        raise WdhError(
            f"no interrupted refresh to resume: {checkpoint} does not exist",
            hint="a refresh that finished removes its checkpoint; start a new one",
        )
    given = {
        name: arguments[name]
        for name in ("batch_size", "rate_limit")
        if ctx.get_parameter_source(name) is not click.core.ParameterSource.DEFAULT
    }
    return state.company_ids, state.remaining(), {**state.arguments, **given}


def _refresh(
    conn: Any,
    ids: list[str],
    todo: list[str],
    arguments: dict[str, Any],
    checkpoint: Path,
    *,
    dry_run: bool,
    yes: bool,
    resume: bool,
) -> None:
    import time

    from loader import identity_ops as ops
    from loader.errors import WdhError

    rate = float(arguments["rate_limit"])
    if not todo:
        click.echo("nothing to refresh")
        return
    cost = _cost(len(todo), rate)
    if not resume:
        _replacing(checkpoint, ask=not (yes or dry_run))
    if dry_run:
        shown = ", ".join(todo[:10]) + (" …" if len(todo) > 10 else "")
        click.echo(f"would refresh {len(todo)} companies ({cost}): {shown}")
        click.echo("dry run: nothing was asked or written")
        return
    if arguments["action"] in ("--refresh-stale", "--refresh-all") and not (yes or resume):
        click.confirm(f"refresh {len(todo)} companies ({cost})?", abort=True)
    client = ops.refresh_client(rate)
    from loader import interrupts

    interrupts.install()  # SIGTERM too: the checkpoint is saved on the way out
    started = time.monotonic()
    with click.progressbar(
        length=len(ids), label="refreshing", file=sys.stderr, hidden=not sys.stderr.isatty()
    ) as bar:
        try:
            result = ops.refresh_companies(
                conn,
                client,
                ids,
                batch_size=int(arguments["batch_size"]),
                checkpoint=checkpoint,
                progress=lambda done, total: bar.update(done - bar.pos),
                arguments=arguments,
                resume=resume,
            )
        except KeyboardInterrupt:
            click.echo(f"\ninterrupted; `wdh eqc-refresh --resume` continues ({checkpoint})", err=True)
            sys.exit(130)
    _print_result(result, time.monotonic() - started)
    if result.error:
        raise WdhError(
            f"{result.error}; the refresh stopped",
            hint="get a new token with `wdh auth refresh`, then `wdh eqc-refresh --resume`",
        )
    if result.failed:
        sys.exit(1)


def _replacing(checkpoint: Path, *, ask: bool) -> None:
    """A new refresh replaces the checkpoint of an interrupted one: say so, and ask."""
    from loader import identity_ops as ops

    state = ops.read_checkpoint(checkpoint)
    if state is None or not state.remaining():
        return
    click.echo(
        f"note: an interrupted refresh ({state.arguments.get('action', '?')}: {len(state.remaining())} of "
        f"{len(state.company_ids)} companies left) is replaced by this one; "
        "`wdh eqc-refresh --resume` would finish it instead",
        err=True,
    )
    if ask:
        click.confirm("replace it?", abort=True)


def _cost(companies: int, rate: float) -> str:
    requests = companies * 3
    seconds = requests / rate
    duration = f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"
    return f"{requests} requests, about {duration} at {rate:g}/s"


def _print_result(result: Any, seconds: float) -> None:
    earlier = f" ({result.already_done} done before the interruption)" if result.already_done else ""
    click.echo(
        f"refreshed {len(result.refreshed)} of {result.total} companies in {seconds:.1f} s{earlier}; "
        f"{len(result.failed)} failed"
    )
    for company_id, why in list(result.failed.items())[:20]:
        click.echo(f"  failed {company_id}: {why}")
    if len(result.failed) > 20:
        click.echo(f"  … and {len(result.failed) - 20} more")
