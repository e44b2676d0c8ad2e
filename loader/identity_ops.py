"""Identity operations around the lookup service (docs/identity.md): the token, the
freshness of enterprise.base_info, and the asynchronous lookup queue.

- the token (cli-reference.md §2): `write_token` puts `WDH_EQC_TOKEN=<token> # Updated: …`
  into the env file, keeping every other line; `token_status` asks the service whether a
  token works; `browser_token` reads one from a browser login (the optional Playwright).
- `eqc-refresh` (cli-reference.md §3): `refresh_companies` fetches companies again by id
  (findDepart, findLabels and the search by their stored name) and upserts base_info by
  the COALESCE rule of enrichment.md §2.3, with a checkpoint file so an interrupted refresh
  resumes where it stopped; `stale_companies`, `all_companies`, `refresh_status`.
- the queue `company_lookup_queue` (domains.md §6.2): `process_queue` looks the queued
  names up, caches what it finds and schedules retries; two workers never take the same
  request (`FOR UPDATE SKIP LOCKED`).

The writes reuse loader/identity.py (`upsert_base_info`, `upsert_cache`); the requests go
through loader/eqc.py's client, whose token never reaches a message, a log or a file but
the env file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loader.errors import WdhError
from loader.warehouse import Connection, connect

if TYPE_CHECKING:
    from loader.eqc import CompanyHit, EqcClient, EqcSettings

log = logging.getLogger(__name__)

TOKEN_KEY = "WDH_EQC_TOKEN"
BROWSER_EXTRA = "pip install 'workdatahub-elt[browser]' && playwright install chromium"
MIGRATE_HINT = (
    "`wdh dbt run-operation migrate_identity_tables` creates it (the first `wdh etl --execute` does too)"
)

# ----------------------------------------------------------------------------- the token

_TOKEN_LINE = re.compile(rf"^(\ufeff?[ \t]*(?:export[ \t]+)?){TOKEN_KEY}[ \t]*=")


def default_env_file() -> Path:
    """The env file `wdh auth refresh` updates: the one WDH_ENV_FILE names, else ./.wdh_env."""
    from loader.settings import ENV_FILE

    return Path(os.environ.get("WDH_ENV_FILE") or ENV_FILE)


def check_token(token: str) -> str:
    """The token without surrounding blanks; a WdhError when it cannot be an env-file value."""
    token = token.strip()
    if not token:
        raise WdhError("no token given", hint="paste the `token` header of a search in the browser")
    if any(c.isspace() for c in token) or token[0] in "'\"":
        raise WdhError(
            "that is not a token: it contains blanks or starts with a quote",
            hint="copy only the value of the `token` request header",
        )
    return token


def write_token(env_file: Path, token: str, now: datetime) -> None:
    """Set `WDH_EQC_TOKEN=<token> # Updated: YYYY-MM-DD HH:MM:SS` in `env_file`: the first
    WDH_EQC_TOKEN line (also `export WDH_EQC_TOKEN=`) is replaced, later ones removed (the
    last would win when the file is read), or the line is appended. Every other byte of the
    file stays as it was; the file is replaced atomically and keeps its mode (a new one is
    0600: it holds a secret)."""
    token = check_token(token)
    path = env_file.resolve()
    if not path.parent.is_dir():
        raise WdhError(f"cannot write {path}: its folder does not exist", hint="create the folder first")
    old = path.read_bytes().decode("utf-8", "surrogateescape") if path.exists() else ""
    entry = f"{TOKEN_KEY}={token} # Updated: {now:%Y-%m-%d %H:%M:%S}"
    lines, replaced = [], False
    for line in old.splitlines(keepends=True):
        match = _TOKEN_LINE.match(line)
        if match is None:
            lines.append(line)
        elif not replaced:
            body = line.rstrip("\r\n")
            lines.append(match[1] + entry + line[len(body) :])
            replaced = True
    if not replaced:
        newline = "\r\n" if "\r\n" in old else "\n"
        if lines and not lines[-1].endswith(("\n", "\r")):
            lines[-1] += newline
        lines.append(entry + newline)
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o600
    _replace_file(path, "".join(lines).encode("utf-8", "surrogateescape"), mode)


def _replace_file(path: Path, data: bytes, mode: int) -> None:
    """Write `data` to a private temporary file beside `path`, then rename it over `path`."""
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def mask_token(token: str) -> str:
    """`abcd…wxyz` for a token of 16 characters or more, `***` for a shorter one."""
    return f"{token[:4]}…{token[-4:]}" if len(token) >= 16 else "***"


def settings_with(token: str) -> EqcSettings:
    """The lookup-service settings of the environment and env file (address, rate limit),
    with `token` instead of the configured one."""
    from loader.eqc import EqcSettings

    saved = os.environ.get(TOKEN_KEY)
    os.environ[TOKEN_KEY] = token  # EqcSettings.from_env reads the address only when a token is set
    try:
        settings = EqcSettings.from_env()
    finally:
        if saved is None:
            del os.environ[TOKEN_KEY]
        else:
            os.environ[TOKEN_KEY] = saved
    assert settings is not None
    return settings


def service_url() -> str:
    """The configured address of the lookup service (WDH_EQC_BASE_URL, else the default)."""
    return settings_with("-").base_url


def token_status(settings: EqcSettings | None) -> tuple[str, str]:
    """('valid' | 'invalid' | 'unknown' | 'missing', the token masked): one validation request."""
    if settings is None:
        return "missing", ""
    from loader.eqc import EqcClient

    return EqcClient(settings).validate(), mask_token(settings.token)


def browser_available() -> bool:
    """Whether the optional Playwright (the `browser` extra) is installed."""
    import importlib.util

    return importlib.util.find_spec("playwright") is not None


def browser_token(login_url: str, timeout: float) -> str | None:
    """Open the service in a browser window and wait up to `timeout` seconds for the first
    request to the search API (cli-reference §2, enrichment.md §3.1): its `token` header is
    the token. The user logs in there (QR code or password) and runs any search. None when
    no search came in time. Raises WdhError when the browser cannot start."""
    from loader.eqc import SEARCH_PATH

    try:
        from playwright.sync_api import Error, sync_playwright
        from playwright.sync_api import TimeoutError as Timeout
    except ImportError:
        raise WdhError("the browser login needs Playwright", hint=BROWSER_EXTRA) from None
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(headless=False)
            try:
                context = browser.new_context()
                context.new_page().goto(login_url)
                request = context.wait_for_event(
                    "request",
                    predicate=lambda r: SEARCH_PATH in r.url and bool(r.headers.get("token")),
                    timeout=timeout * 1000,
                )
                return str(request.headers["token"])
            finally:
                browser.close()
    except Timeout:
        return None
    except Error as exc:
        first_line = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        raise WdhError(f"the browser login failed: {first_line}", hint=BROWSER_EXTRA) from None


# ---------------------------------------------------------------------- the identity tables


def ensure_identity_tables(conn: Connection) -> None:
    """Create the enterprise tables when one is missing, as `wdh etl --execute` does."""
    from loader import identity
    from loader.transform import Dbt
    from loader.warehouse import wdh_home

    def migrate() -> None:
        Dbt(conn, run_dir=wdh_home() / "dbt" / "identity").invoke("run-operation", "migrate_identity_tables")

    identity.ensure_identity_tables(conn, migrate)


def _exists(cur: Any, relation: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (relation,))
    return bool(cur.fetchone()[0])


# ---------------------------------------------------------------------------- eqc-refresh

REFRESH_REQUESTS_PER_COMPANY = 3  # findDepart, findLabels, the search by the stored name


def refresh_status(conn: Connection, threshold_days: int) -> dict[str, int]:
    """Companies of base_info: total, fresh (fetched within the threshold), stale (fetched
    before it), never fetched (no api_fetched_at). No table yet: all zero."""
    counts = {"total": 0, "fresh": 0, "stale": 0, "never fetched": 0}
    with connect(conn) as pg, pg.cursor() as cur:
        if not _exists(cur, "enterprise.base_info"):
            return counts
        cur.execute(
            "select count(*), "
            "count(*) filter (where api_fetched_at >= now() - make_interval(days => %(days)s)), "
            "count(*) filter (where api_fetched_at < now() - make_interval(days => %(days)s)), "
            "count(*) filter (where api_fetched_at is null) "
            "from enterprise.base_info",
            {"days": threshold_days},
        )
        total, fresh, stale, never = cur.fetchone()
    return {"total": total, "fresh": fresh, "stale": stale, "never fetched": never}


def stale_companies(conn: Connection, threshold_days: int) -> list[str]:
    """Ids of the companies fetched more than `threshold_days` ago or never, oldest first."""
    return _company_ids(
        conn,
        "where api_fetched_at is null or api_fetched_at < now() - make_interval(days => %(days)s) "
        "order by api_fetched_at nulls first, company_id",
        {"days": threshold_days},
    )


def all_companies(conn: Connection) -> list[str]:
    """Every company id of base_info, in id order."""
    return _company_ids(conn, "order by company_id", {})


def _company_ids(conn: Connection, clause: str, params: dict[str, Any]) -> list[str]:
    with connect(conn) as pg, pg.cursor() as cur:
        if not _exists(cur, "enterprise.base_info"):
            return []
        cur.execute(f"select company_id from enterprise.base_info {clause}", params)
        return [company_id for (company_id,) in cur.fetchall()]


def refresh_client(rate_limit: float) -> EqcClient:
    """The client of the configured service, at most `rate_limit` requests per second
    (the sliding window: one request per 1/rate seconds)."""
    from loader.eqc import EqcClient, EqcSettings

    settings = EqcSettings.from_env()
    if settings is None:
        raise WdhError(
            f"no {TOKEN_KEY}: the lookup service cannot be asked",
            hint="get a token with `wdh auth refresh` (see docs/identity.md)",
        )
    return EqcClient(replace(settings, rate_limit=1, rate_window=1 / rate_limit))


@dataclass
class Checkpoint:
    """The state of one refresh, saved as JSON after every batch: what it was asked to do,
    and which companies are done or failed, so `--resume` does only the rest."""

    database: str  # the target's URL, password masked
    company_ids: list[str]
    arguments: dict[str, Any] = field(default_factory=dict)  # action, batch size, rate limit, …
    done: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # company_id → why
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    updated_at: str = ""

    def remaining(self) -> list[str]:
        finished = set(self.done) | set(self.failed)
        return [company_id for company_id in self.company_ids if company_id not in finished]

    def save(self, path: Path) -> None:
        self.updated_at = datetime.now(UTC).isoformat(timespec="seconds")
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(asdict(self), ensure_ascii=False, indent=1) + "\n"
        _replace_file(path, text.encode("utf-8"), 0o644)


def read_checkpoint(path: Path) -> Checkpoint | None:
    """The checkpoint of an interrupted refresh; None when there is none."""
    if not path.is_file():
        return None
    try:
        return Checkpoint(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as exc:
        raise WdhError(
            f"{path} is not a checkpoint of `wdh eqc-refresh`: {exc}",
            hint="delete it and start the refresh again",
        ) from None


@dataclass
class RefreshResult:
    total: int  # companies of the refresh, also those an earlier (interrupted) run did
    already_done: int = 0  # done or failed before this run (--resume)
    refreshed: list[str] = field(default_factory=list)  # by this run
    failed: dict[str, str] = field(default_factory=dict)  # company_id → why, also an earlier run's
    error: str | None = None  # the refresh stopped: the token was refused


def refresh_companies(
    conn: Connection,
    client: EqcClient,
    company_ids: list[str],
    *,
    batch_size: int,
    checkpoint: Path | None,
    progress: Callable[[int, int], None],
    arguments: dict[str, Any] | None = None,
    resume: bool = False,
) -> RefreshResult:
    """Fetch each company again by id and upsert base_info (data_source 'refresh', COALESCE
    rule): one transaction per company, the checkpoint after every `batch_size` companies
    and whenever the refresh stops (an interrupt, a refused token). `resume`: continue the
    refresh `checkpoint` holds, which must be of these ids. A refused token stops the
    refresh (`error`); any other failure counts the company as failed and goes on."""
    from loader.eqc import EqcAuthError

    state = _start(conn, company_ids, checkpoint, arguments or {}, resume)
    todo = state.remaining()
    result = RefreshResult(
        total=len(company_ids), already_done=len(company_ids) - len(todo), failed=dict(state.failed)
    )
    progress(result.already_done, result.total)
    if todo:
        ensure_identity_tables(conn)
    finished = False
    try:
        with connect(conn) as pg:
            for position, company_id in enumerate(todo, start=1):
                why = _refresh_one(pg, client, company_id)
                if why is None:
                    state.done.append(company_id)
                    result.refreshed.append(company_id)
                else:
                    state.failed[company_id] = result.failed[company_id] = why
                progress(result.already_done + position, result.total)
                if checkpoint is not None and position % batch_size == 0:
                    state.save(checkpoint)
        finished = True
    except EqcAuthError as exc:
        result.error = f"the lookup service refused the token ({exc})"
    finally:
        if checkpoint is not None:
            if finished:
                checkpoint.unlink(missing_ok=True)
            else:
                state.save(checkpoint)
    return result


def _start(
    conn: Connection, company_ids: list[str], path: Path | None, arguments: dict[str, Any], resume: bool
) -> Checkpoint:
    if not resume or path is None:
        return Checkpoint(database=conn.redacted(), company_ids=list(company_ids), arguments=arguments)
    state = read_checkpoint(path)
    if state is None:
        raise WdhError(f"no interrupted refresh to resume ({path} does not exist)")
    if state.database != conn.redacted():
        raise WdhError(
            f"the interrupted refresh in {path} was of {state.database}, not of {conn.redacted()}",
            hint="point WDH_DATABASE_URL at that database, or start a new refresh",
        )
    if state.company_ids != company_ids:
        raise WdhError(f"{path} holds another refresh than the one to resume")
    return state


def _refresh_one(pg: Any, client: EqcClient, company_id: str) -> str | None:
    """Fetch one company and upsert it; None when done, else why it failed. A refused token
    (EqcAuthError) is raised."""
    from loader.eqc import EqcAuthError, EqcError
    from loader.identity import upsert_base_info

    with pg.cursor() as cur:
        cur.execute(
            "select coalesce(search_key_word, company_full_name) from enterprise.base_info "
            "where company_id = %s",
            (company_id,),
        )
        row = cur.fetchone()
    pg.commit()  # no transaction stays open while the service is asked
    keyword: str | None = row[0] if row else None
    depart = client._detail("findDepart", company_id)
    detail = depart.get("businessInfodto") if depart else None
    if not isinstance(detail, dict) or not detail:
        return "findDepart gave no detail (an unknown id, or the request failed: see the log)"
    labels = client._detail("findLabels", company_id)
    search: dict[str, Any] = {}
    if keyword:
        try:
            search = client.search(keyword) or {}
        except EqcAuthError:
            raise
        except EqcError as exc:
            log.warning("%s; raw_data of %s is kept", exc, company_id)
    try:
        with pg.cursor() as cur:
            upsert_base_info(cur, _refreshed_row(company_id, keyword, depart, labels, search))
        pg.commit()
    except Exception as exc:
        pg.rollback()
        return f"could not write base_info: {str(exc).strip().splitlines()[0]}"
    return None


def _refreshed_row(
    company_id: str,
    keyword: str | None,
    depart: dict[str, Any] | None,
    labels: dict[str, Any] | None,
    search: dict[str, Any],
) -> dict[str, Any]:
    """base_info's columns from the fresh answers. The search answer counts only when it lists
    this company (its entry then gives the search columns); otherwise raw_data and those
    columns keep their stored values (NULL never overwrites)."""
    from loader.eqc import CompanyHit

    found = search.get("list")
    items: list[Any] = found if isinstance(found, list) else []
    entry = next((i for i in items if isinstance(i, dict) and i.get("companyId") == company_id), None)
    hit = CompanyHit(
        query=keyword or "",
        company_id=company_id,
        full_name="",
        match_type=None,
        unite_code=None,
        former_names=[],
        search_body={**search, "list": [entry]} if entry else {},
        depart_body=depart,
        labels_body=labels,
    )
    row = hit.base_info_row()
    row.update(company_id=company_id, search_key_word=None, data_source="refresh")
    row["raw_data"] = search if entry else None
    return row


# -------------------------------------------------------------------- company_lookup_queue

STUCK_AFTER = timedelta(minutes=15)  # processing longer than this: its worker died
MAX_ATTEMPTS = 3  # failed lookups after which a request is `failed`
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5))  # after the 1st and the 2nd failure
QUEUE_CONFIDENCE = Decimal("0.80")  # enrichment.md §2.1 "EQC queue 0.80" (docs/identity.md)
QUEUE_WARNING_THRESHOLD = 10_000  # WDH_ENRICHMENT_QUEUE_WARNING_THRESHOLD
BATCH_SIZES = range(1, 501)


@dataclass
class QueueResult:
    """What a run of the queue found and did; a plan fills only the counts at the start."""

    execute: bool
    pending_before: int = 0  # pending requests at the start, due or waiting for their retry time
    due: int = 0  # of those, the ones whose retry time has come
    stuck: int = 0  # processing for more than 15 minutes at the start
    stuck_reset: int = 0  # of those, put back to pending
    taken: int = 0
    done: int = 0  # found: cached, resolved_company_id set
    retried: int = 0  # not found or failed: back to pending with a retry time
    failed: int = 0  # not found or failed for the 3rd time
    pending_after: int = 0
    warning: str | None = None  # more than 10,000 pending
    error: str | None = None  # the run stopped early: no token, or the token was refused
    note: str | None = None  # nothing to do: the queue does not exist yet


@dataclass(frozen=True)
class _Request:
    id: int
    name: str  # the normalised name: what is searched and the cache key
    attempts: int


def process_queue(
    conn: Connection,
    client: EqcClient | None,
    *,
    batch_size: int,
    execute: bool,
    now: Callable[[], datetime] | None = None,
) -> QueueResult:
    """Work off enterprise.enrichment_requests (domains.md §6.2): put requests stuck in
    processing for 15 minutes back to pending, then take up to `batch_size` due requests
    at a time — oldest first, `FOR UPDATE SKIP LOCKED`, committed as processing so no other
    worker takes them — until none is due; each request at most once per run. A plan
    (`execute` False) only counts and asks no one. `now` gives the time (tests); by default
    the database's clock."""
    if batch_size not in BATCH_SIZES:
        raise WdhError(f"--batch-size must be from 1 to 500, got {batch_size}")
    from loader.identity import identity_tables_ready

    result = QueueResult(execute=execute)
    if not identity_tables_ready(conn):
        if not execute:
            result.note = f"the lookup queue does not exist yet; {MIGRATE_HINT}"
            return result
        ensure_identity_tables(conn)
    with connect(conn) as pg:
        with pg.cursor() as cur:
            _count(cur, result, _clock(cur, now))
        pg.commit()
        result.warning = _depth_warning(result.pending_before)
        if not execute:
            result.pending_after = result.pending_before
            return result
        if client is None:
            result.error = f"no {TOKEN_KEY}: the queue needs the lookup service (see docs/identity.md)"
            result.pending_after = result.pending_before
            return result
        with pg.cursor() as cur:
            cur.execute(
                "update enterprise.enrichment_requests set status = 'pending', updated_at = %(now)s "
                "where status = 'processing' and updated_at < %(now)s - %(stuck)s",
                {"now": _clock(cur, now), "stuck": STUCK_AFTER},
            )
            result.stuck_reset = cur.rowcount
        pg.commit()
        _work_off(pg, client, batch_size, now, result)
        with pg.cursor() as cur:
            cur.execute("select count(*) from enterprise.enrichment_requests where status = 'pending'")
            result.pending_after = cur.fetchone()[0]
    return result


def _clock(cur: Any, now: Callable[[], datetime] | None) -> datetime:
    if now is not None:
        return now()
    cur.execute("select clock_timestamp()")
    at: datetime = cur.fetchone()[0]
    return at


def _count(cur: Any, result: QueueResult, at: datetime) -> None:
    cur.execute(
        "select count(*) filter (where status = 'pending'), "
        "count(*) filter (where status = 'pending' and (next_retry_at is null or next_retry_at <= %(now)s)), "
        "count(*) filter (where status = 'processing' and updated_at < %(now)s - %(stuck)s) "
        "from enterprise.enrichment_requests",
        {"now": at, "stuck": STUCK_AFTER},
    )
    result.pending_before, result.due, result.stuck = cur.fetchone()


def _depth_warning(pending: int) -> str | None:
    from loader.settings import setting

    found = setting("WDH_ENRICHMENT_QUEUE_WARNING_THRESHOLD")
    threshold = QUEUE_WARNING_THRESHOLD
    if found is not None:
        if not found.value.strip().isdigit():
            raise WdhError(f"{found.origin} is not a whole number: {found.value!r}")
        threshold = int(found.value)
    if pending <= threshold:
        return None
    return (
        f"{pending:,} lookup requests are pending, more than {threshold:,}: the queue grows faster "
        "than it is worked off; run it more often or with a larger --batch-size"
    )


def _work_off(
    pg: Any, client: EqcClient, batch_size: int, now: Callable[[], datetime] | None, result: QueueResult
) -> None:
    """Take, look up, record; batch after batch until nothing is due or the token is refused."""
    from loader.eqc import EqcAuthError, EqcError
    from loader.identity import match_confidence

    confidences = match_confidence()
    seen: list[int] = []
    while result.error is None:
        with pg.cursor() as cur:
            batch = _take(cur, batch_size, _clock(cur, now), seen)
        pg.commit()
        if not batch:
            return
        seen += [request.id for request in batch]
        result.taken += len(batch)
        untouched = [request.id for request in batch]
        try:
            for request in batch:
                hit: CompanyHit | None = None
                why = "not found by the lookup service"
                try:
                    hit = client.lookup(request.name)
                except EqcAuthError:
                    raise
                except EqcError as exc:
                    why = str(exc)
                untouched.remove(request.id)
                with pg.cursor() as cur:
                    at = _clock(cur, now)
                    if hit is not None:
                        _resolve(cur, request, hit, confidences, at)
                        result.done += 1
                    elif _retry(cur, request, why, at):
                        result.retried += 1
                    else:
                        result.failed += 1
                    _keep_alive(cur, untouched, at)
                pg.commit()
        except EqcAuthError as exc:
            result.error = (
                f"the lookup service refused the token ({exc}); {len(untouched)} request(s) "
                "went back to pending — get a new one with `wdh auth refresh`"
            )
        finally:
            _release(pg, untouched)


def _take(cur: Any, batch_size: int, at: datetime, seen: list[int]) -> list[_Request]:
    cur.execute(
        "update enterprise.enrichment_requests as taken set status = 'processing', updated_at = %(now)s "
        "from ("
        "    select id from enterprise.enrichment_requests"
        "    where status = 'pending' and (next_retry_at is null or next_retry_at <= %(now)s)"
        "    and id <> all(%(seen)s::bigint[])"
        "    order by created_at, id limit %(limit)s"
        "    for update skip locked"
        ") as due where taken.id = due.id "
        "returning taken.id, taken.normalized_name, taken.attempts, taken.created_at",
        {"now": at, "seen": seen, "limit": batch_size},
    )
    rows = sorted(cur.fetchall(), key=lambda row: (row[3], row[0]))
    return [_Request(id=row[0], name=row[1], attempts=row[2]) for row in rows]


def _resolve(
    cur: Any, request: _Request, hit: CompanyHit, confidences: dict[str, Decimal], at: datetime
) -> None:
    """A hit: base_info (§2.3), the cache entry name → company_id (§2.1, source EQC), done."""
    from loader.identity import MIN_CONFIDENCE_FOR_CACHE, upsert_base_info, upsert_cache

    upsert_base_info(cur, hit.base_info_row())
    confidence = min(QUEUE_CONFIDENCE, confidences.get(hit.match_type or "", confidences["default"]))
    if confidence >= MIN_CONFIDENCE_FOR_CACHE:
        upsert_cache(
            cur,
            [("customer_name", request.name, hit.company_id)],
            confidence=confidence,
            source="EQC",
            source_domain="company_lookup_queue",
            source_table=None,
        )
    cur.execute(
        "update enterprise.enrichment_requests set status = 'done', resolved_company_id = %s, "
        "last_error = null, next_retry_at = null, updated_at = %s where id = %s",
        (hit.company_id, at, request.id),
    )


def _retry(cur: Any, request: _Request, why: str, at: datetime) -> bool:
    """A miss or an error: one attempt more, and a retry time — or `failed` at the 3rd.
    True when the request will be retried."""
    attempts = request.attempts + 1
    again = attempts < MAX_ATTEMPTS
    next_retry_at = at + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1] if again else None
    cur.execute(
        "update enterprise.enrichment_requests set attempts = %s, last_error = %s, status = %s, "
        "next_retry_at = %s, updated_at = %s where id = %s",
        (attempts, why[:1000], "pending" if again else "failed", next_retry_at, at, request.id),
    )
    return again


def _keep_alive(cur: Any, ids: list[int], at: datetime) -> None:
    """The taken requests still waiting are this worker's: not stuck, however long the batch."""
    if ids:
        cur.execute(
            "update enterprise.enrichment_requests set updated_at = %s "
            "where id = any(%s) and status = 'processing'",
            (at, ids),
        )


def _release(pg: Any, ids: list[int]) -> None:
    """Requests taken but not looked up (the token was refused, an interrupt, an error) go
    back to pending as they were; if even that fails, the stuck reset frees them later."""
    if not ids:
        return
    try:
        pg.rollback()
        with pg.cursor() as cur:
            cur.execute(
                "update enterprise.enrichment_requests set status = 'pending', updated_at = now() "
                "where id = any(%s) and status = 'processing'",
                (ids,),
            )
        pg.commit()
    except Exception as exc:
        log.warning(
            "could not put %d request(s) back to pending (%s); they are retried after %d minutes",
            len(ids),
            exc,
            STUCK_AFTER.seconds // 60,
        )


def queue_lines(result: QueueResult) -> list[str]:
    """The lines that report a run of the lookup queue."""
    lines = []
    if result.note:
        lines.append(result.note)
    if result.execute:
        lines.append(
            f"lookup queue: {result.taken} taken, {result.done} resolved, {result.retried} to retry, "
            f"{result.failed} failed; {result.stuck_reset} stuck reset; "
            f"{result.pending_before} pending before, {result.pending_after} after"
        )
    else:
        lines.append(
            f"lookup queue: {result.pending_before} pending, {result.due} due now, "
            f"{result.stuck} stuck in processing (reset by --execute); plan only: nothing looked up"
        )
    lines += [f"warning: {result.warning}"] if result.warning else []
    lines += [f"error: {result.error}"] if result.error else []
    return lines
