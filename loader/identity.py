"""Company identity: the steps of enrichment.md §1 that SQL cannot do on its own.

dbt's cleaned model applies the override layers (step 1) and gives every row the
override left open its identity — plan code, usable normalised name, the source's own
id (macro identity_columns). Here each distinct identity gets its company_id, set-based,
one query per layer for the whole batch:

    2. the cache enterprise.enrichment_index, keys in the spec's order (plan_code,
       customer_name, plan_customer, former_name), placeholder ids ignored;
    3. the source's own id — and its back-flow into the cache;
    4. the lookup service (loader/eqc.py), one lookup per distinct name within the
       domain's budget; each hit is kept at once (§3.4), so the next domain of the run
       finds it in the cache;
    5. the temporary id `IN…` (HMAC of the name), and a request in the queue
       enterprise.enrichment_requests for a later lookup.

The result goes back as `<staging schema>.company_resolution`, which the verdict model
joins. The bookkeeping of a published domain — cache hit counts, back-flow, queued
requests — is written after its publish (`record`), so a domain that fails writes none
of it. A plan reads the target's cache read-only, makes no lookups and writes nothing
there; what --execute would have cached earlier in the same run is kept in memory, so
the plan of the next domain sees it as --execute would.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import logging
import os
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from loader.config import DBT_PROJECT_DIR, Domain
from loader.errors import WdhError
from loader.warehouse import Connection, connect

log = logging.getLogger(__name__)

DEFAULT_SALT = "default_dev_salt_change_in_prod"
CACHE_ORDER = ("plan_code", "customer_name", "plan_customer", "former_name")
PLACEHOLDER_IDS = ["", "N", "NA", "N/A", "NONE", "NULL", "NAN"]
MIN_CONFIDENCE_FOR_CACHE = Decimal("0.60")  # enrichment.md §3.4 (mappings/eqc_match_confidence.yml)
# what macro migrate_identity_tables creates; a missing one makes --execute run it
IDENTITY_RELATIONS = (
    "enterprise.enrichment_index",
    "enterprise.enrichment_requests",
    "enterprise.base_info",
    "enterprise.business_info",
    "enterprise.biz_label",
    "enterprise.ux_enrichment_requests_active_name",
)


def temporary_company_id(normalised_name: str, salt: str) -> str:
    """'IN' + Base32(HMAC-SHA1(salt, name)[:10]): 18 characters, A–Z and 2–7."""
    message = normalised_name or "__empty__"
    digest = hmac.new(salt.encode("utf-8"), message.encode("utf-8"), hashlib.sha1).digest()
    return "IN" + base64.b32encode(digest[:10]).decode("ascii")


def alias_salt() -> str:
    salt = os.environ.get("WDH_ALIAS_SALT") or DEFAULT_SALT
    if salt == DEFAULT_SALT and os.environ.get("ENVIRONMENT", "").lower() in ("prod", "production"):
        log.warning("WDH_ALIAS_SALT is not set in a production environment; temporary ids use the dev salt")
    return salt


def identity_tables_ready(conn: Connection) -> bool:
    with connect(conn) as pg, pg.cursor() as cur:
        cur.execute(
            "select bool_and(to_regclass(name) is not null) "
            "and to_regprocedure('enterprise.customer_name(text)') is not null "
            "from unnest(%s::text[]) as name",
            (list(IDENTITY_RELATIONS),),
        )
        return bool(cur.fetchone()[0])


def ensure_identity_tables(conn: Connection, migrate: Callable[[], Any]) -> None:
    """Run `migrate` (dbt's run-operation migrate_identity_tables, invoked by the caller's
    dbt) under the shared lock when a relation of the identity tables is missing."""
    if identity_tables_ready(conn):
        return
    from loader.warehouse import shared_lock

    with shared_lock(conn):
        if not identity_tables_ready(conn):  # another run may have created them meanwhile
            migrate()


def match_confidence() -> dict[str, Decimal]:
    """The seed eqc_match_confidence: match type → confidence (`default` for the rest)."""
    path = DBT_PROJECT_DIR / "seeds" / "mapping" / "eqc_match_confidence.csv"
    with path.open(encoding="utf-8") as handle:
        return {row["match_type"]: Decimal(row["confidence"]) for row in csv.DictReader(handle)}


Identity = tuple[str | None, str | None, str | None]  # plan code, name, source id
CacheKey = tuple[str, str]  # lookup_type, lookup_key


@dataclass
class IdentityReport:
    """What the resolution did for one domain: shown in the summary, the JSON log, the ledger."""

    rows: dict[str, int] = field(default_factory=dict)  # published rows per company_id_source
    identities: int = 0  # distinct identities the overrides left open
    cache_hits: dict[str, int] = field(default_factory=dict)  # identities per cache key type
    names_to_look_up: int = 0  # distinct names that reached the lookup layer
    budget: int = 0
    lookups: int = 0  # names looked up (each costs one unit of the budget)
    lookup_hits: int = 0
    lookup_errors: int = 0
    service: str = ""
    temporary_ids: int = 0  # distinct names given a temporary id
    backflow: int = 0  # cache entries from the source's own ids
    queued: int = 0  # requests added to enterprise.enrichment_requests


@dataclass
class Resolution:
    report: IdentityReport
    hits: list[CacheKey] = field(default_factory=list)
    backflow: list[tuple[str, str, str]] = field(default_factory=list)  # type, key, company_id
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # raw name, normalised, temp id


class LookupService:
    """The lookup service for one run: its state carries over from domain to domain (an
    expired token disables it for the rest of the run)."""

    def __init__(self, *, execute: bool, wanted: bool) -> None:
        """`wanted`: some domain of the run may look names up; --execute then checks the
        token once at the start — a rejected token is a warning, never the run's end."""
        from loader.eqc import EqcClient, EqcSettings

        settings = EqcSettings.from_env()
        self.configured = settings is not None  # --execute would look names up
        self.client: EqcClient | None = None
        if settings is None:
            self.state = "not configured (no WDH_EQC_TOKEN)"
        elif not execute:
            self.state = "plan-only: no lookups"
        else:
            self.client = EqcClient(settings)
            self.state = "ready"
            if wanted and self.client.validate() == "invalid":
                self._disable("the token was refused at the start of the run")

    def _disable(self, why: str) -> None:
        self.client = None
        self.state = (
            f"token rejected: {why}; the run gives temporary ids instead — "
            "put a fresh WDH_EQC_TOKEN in .wdh_env (see docs/identity.md)"
        )
        log.warning("lookup service: %s", self.state)

    @property
    def usable(self) -> bool:
        return self.client is not None

    def lookup(self, name: str, report: IdentityReport) -> Any:
        """The top hit for `name`, or None (not found, failed, or the service is off)."""
        from loader.eqc import EqcAuthError, EqcError

        if self.client is None:
            return None
        try:
            return self.client.lookup(name)
        except EqcAuthError as exc:
            self._disable(str(exc))
        except EqcError as exc:
            report.lookup_errors += 1
            log.warning("lookup of %r failed: %s", name, exc)
        return None


class Resolver:
    """company_id resolution for the domains of one run."""

    def __init__(self, cache: Connection | None, *, execute: bool, budget: int, lookups_wanted: bool) -> None:
        self.cache = cache  # the target warehouse (None: a plan with no target to read)
        self.execute = execute
        self.budget = budget
        self.salt = alias_salt()
        self.service = LookupService(execute=execute, wanted=lookups_wanted and budget > 0)
        self.learned: dict[CacheKey, str] = {}  # cache entries this run wrote (or a plan would)
        self._confidence: dict[str, Decimal] | None = None

    def resolve(self, work: Connection, domain: Domain, *, cleaned: str, schema: str) -> Resolution:
        """Resolve the open identities of `cleaned` (in `work`: the target, or a plan's
        scratch) and write them to `<schema>.company_resolution` there."""
        with connect(work) as pg, pg.cursor() as cur:
            cur.execute(  # in workbook order of each identity's first row
                "select _identity_plan_code, _identity_name, _identity_source_id, "
                "bool_and(_identity_single_plan) from (select *, row_number() over "
                "(order by _source_file, _source_sheet, _source_row) as input_order "
                f"from {cleaned} where _needs_company_id) as open_rows "
                "group by 1, 2, 3 order by min(input_order)"
            )
            rows = cur.fetchall()
        identities: list[Identity] = [row[:3] for row in rows]
        single_plan = {row[:3] for row in rows if row[3]}
        report = IdentityReport(identities=len(identities))
        resolution = Resolution(report)
        resolved: dict[Identity, tuple[str, str]] = {}

        cached = self._read_cache(identities)
        for identity in identities:
            for lookup_type, key in _cache_keys(identity):
                company_id = cached.get((lookup_type, key))
                if company_id is not None:
                    resolved[identity] = (company_id, f"cache_{lookup_type}")
                    report.cache_hits[lookup_type] = report.cache_hits.get(lookup_type, 0) + 1
                    resolution.hits.append((lookup_type, key))
                    break

        # back-flow; a plan code only of a 单一计划 (D19). A key that two rows give different
        # ids keeps the first in workbook order, as the original's row-by-row writes did.
        backflow: dict[CacheKey, str] = {}
        for identity in identities:
            plan_code, name, source_id = identity
            if identity in resolved or source_id is None:
                continue
            resolved[identity] = (source_id, "source_column")
            if not source_id.startswith("IN"):
                if plan_code is not None and identity in single_plan:
                    backflow.setdefault(("plan_code", plan_code), source_id)
                if name is not None:
                    backflow.setdefault(("customer_name", name), source_id)
        resolution.backflow = [(kind, key, company_id) for (kind, key), company_id in backflow.items()]

        open_names = sorted({i[1] for i in identities if i not in resolved and i[1] is not None})
        self._look_up(domain, open_names, resolved, identities, resolution)

        temporary: dict[str, str] = {}
        for identity in identities:
            name = identity[1]
            if identity not in resolved and name is not None:
                temporary.setdefault(name, temporary_company_id(name, self.salt))
                resolved[identity] = (temporary[name], "temporary")
        report.temporary_ids = len(temporary)
        resolution.requests = [(name, name, temp_id) for name, temp_id in sorted(temporary.items())]
        report.backflow = len(resolution.backflow)
        _write_resolution(work, schema, resolved)
        return resolution

    def _read_cache(self, identities: list[Identity]) -> dict[CacheKey, str]:
        """One query for every cache key of the batch; what this run learned fills gaps."""
        wanted: dict[str, set[str]] = {t: set() for t in CACHE_ORDER}
        for identity in identities:
            for lookup_type, key in _cache_keys(identity):
                wanted[lookup_type].add(key)
        found: dict[CacheKey, str] = {}
        if self.cache is not None and any(wanted.values()):
            with connect(self.cache) as pg, pg.cursor() as cur:
                cur.execute("select to_regclass('enterprise.enrichment_index') is not null")
                if cur.fetchone()[0]:
                    cur.execute(
                        "select lookup_type, lookup_key, company_id from enterprise.enrichment_index "
                        "where lookup_type in ('plan_code', 'customer_name', 'plan_customer', 'former_name') "
                        "and lookup_key = any(%(keys)s) "
                        "and upper(btrim(company_id)) <> all(%(placeholders)s)",
                        {"keys": sorted(set().union(*wanted.values())), "placeholders": PLACEHOLDER_IDS},
                    )
                    found = {
                        (lookup_type, key): company_id.strip()
                        for lookup_type, key, company_id in cur.fetchall()
                        if key in wanted[lookup_type]
                    }
        for cache_key, company_id in self.learned.items():
            found.setdefault(cache_key, company_id)
        return found

    def _look_up(
        self,
        domain: Domain,
        names: list[str],
        resolved: dict[Identity, tuple[str, str]],
        identities: list[Identity],
        resolution: Resolution,
    ) -> None:
        """Step 4: one lookup per distinct open name, within the domain's budget."""
        report = resolution.report
        budget = self.budget if domain.company_lookup else 0
        report.budget, report.names_to_look_up = budget, len(names)
        if not domain.company_lookup:
            report.service = "not used by this domain"
            return
        if budget == 0:
            report.service = "off (--enrichment-sync-budget 0)"
            return
        found: dict[str, str] = {}
        for name in names[:budget]:
            if not self.service.usable:
                break
            report.lookups += 1
            hit = self.service.lookup(name, report)
            if hit is None:
                continue
            report.lookup_hits += 1
            found[name] = hit.company_id
            self._keep(hit, name, domain)
        report.service = self.service.state
        for identity in identities:
            if identity not in resolved and identity[1] in found:
                resolved[identity] = (found[identity[1]], "lookup")

    def _keep(self, hit: Any, name: str, domain: Domain) -> None:
        """§3.4: base_info always; the cache when confident enough; former names. One
        connection, each write in its own savepoint: a failed write is a warning and never
        takes the others, or the run, with it."""
        if self._confidence is None:
            self._confidence = match_confidence()
        confidence = self._confidence.get(hit.match_type or "", self._confidence["default"])
        cached = confidence >= MIN_CONFIDENCE_FOR_CACHE
        if cached:
            self.learned[("customer_name", name)] = hit.company_id
        if self.cache is None or not self.execute:
            return

        def former_names(cur: Any) -> None:
            cur.execute(
                "select distinct enterprise.customer_name(n) from unnest(%s) as n", (hit.former_names,)
            )
            for (former,) in cur.fetchall():
                if former:
                    write_former_name(cur, former, hit.company_id, Decimal("0.9") * confidence)

        writes: list[tuple[str, Callable[[Any], None]]] = [
            ("base_info", lambda cur: upsert_base_info(cur, hit.base_info_row()))
        ]
        if cached:
            entry = [("customer_name", name, hit.company_id)]
            writes.append(
                (
                    "cache",
                    lambda cur: upsert_cache(
                        cur,
                        entry,
                        confidence=confidence,
                        source="eqc_api",
                        source_domain="eqc_sync_lookup",
                        source_table=domain.target,
                    ),
                )
            )
        if hit.former_names:
            writes.append(("former names", former_names))
        try:
            with connect(self.cache) as pg, pg.cursor() as cur:
                for what, write in writes:
                    cur.execute("savepoint keep_lookup")
                    try:
                        write(cur)
                        cur.execute("release savepoint keep_lookup")
                    except Exception as exc:  # §3.4: persistence failures never stop the ETL
                        cur.execute("rollback to savepoint keep_lookup")
                        log.warning("could not keep the %s of the lookup of %r: %s", what, name, exc)
        except WdhError as exc:
            log.warning("could not keep the lookup of %r (%s): %s", name, hit.company_id, exc)

    def record(self, resolution: Resolution, domain: Domain) -> None:
        """After the domain's publish: the back-flow becomes a cache entry for the next
        domains of the run; with --execute, hit counts, back-flow and queued requests are
        written in one transaction (the caller turns a failure into a warning: the month
        is published either way)."""
        for lookup_type, key, company_id in resolution.backflow:
            self.learned.setdefault((lookup_type, key), company_id)
        if not self.execute or self.cache is None:
            return
        with connect(self.cache) as pg, pg.cursor() as cur:
            if resolution.hits:
                cur.execute(
                    "update enterprise.enrichment_index set hit_count = hit_count + 1, "
                    "last_hit_at = now(), updated_at = now() "
                    "where (lookup_type, lookup_key) in (select * from unnest(%s::text[], %s::text[]))",
                    ([t for t, _ in resolution.hits], [k for _, k in resolution.hits]),
                )
            upsert_cache(
                cur,
                resolution.backflow,
                confidence=Decimal("1.00"),
                source="backflow",
                source_domain=domain.name,
                source_table=domain.target,
            )
            if resolution.requests:
                from psycopg2.extras import execute_values

                added = execute_values(
                    cur,
                    "insert into enterprise.enrichment_requests (raw_name, normalized_name, temp_id) "
                    "values %s on conflict (normalized_name) where status in ('pending', 'processing') "
                    "do nothing returning id",
                    resolution.requests,
                    fetch=True,
                )
                resolution.report.queued = len(added)


def _cache_keys(identity: Identity) -> Iterable[CacheKey]:
    """The identity's cache keys in the spec's priority order (DB-P1 … DB-P4)."""
    plan_code, name, _ = identity
    if plan_code is not None:
        yield "plan_code", plan_code
    if name is not None:
        yield "customer_name", name
    if plan_code is not None and name is not None:
        yield "plan_customer", f"{plan_code}|{name}"
    if name is not None:
        yield "former_name", name


def _write_resolution(work: Connection, schema: str, resolved: dict[Identity, tuple[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for (plan_code, name, source_id), (company_id, source) in resolved.items():
        writer.writerow((plan_code, name, source_id, company_id, source))
    buffer.seek(0)
    table = f'"{schema}".company_resolution'
    with connect(work) as pg, pg.cursor() as cur:
        cur.execute(f'create schema if not exists "{schema}"')
        # emptied, not dropped: dbt's view stg_<domain>__company_resolution depends on it
        cur.execute(
            f"create table if not exists {table} (_identity_plan_code text, _identity_name text, "
            "_identity_source_id text, company_id text not null, company_id_source text not null, "
            "unique nulls not distinct (_identity_plan_code, _identity_name, _identity_source_id))"
        )
        cur.execute(f"truncate {table}")
        cur.copy_expert(f"copy {table} from stdin with (format csv)", buffer)


UPSERT_CACHE = """
insert into enterprise.enrichment_index as cached
    (lookup_type, lookup_key, company_id, confidence, source, source_domain, source_table)
values %s
on conflict (lookup_key, lookup_type) do update set
    confidence = greatest(cached.confidence, excluded.confidence),
    company_id = case when excluded.confidence > cached.confidence
        then excluded.company_id else cached.company_id end,
    source = case when excluded.confidence > cached.confidence
        then excluded.source else cached.source end,
    source_domain = case when excluded.confidence > cached.confidence
        then excluded.source_domain else cached.source_domain end,
    source_table = case when excluded.confidence > cached.confidence
        then excluded.source_table else cached.source_table end,
    hit_count = cached.hit_count + 1,
    last_hit_at = now(),
    updated_at = now()
"""


def upsert_cache(
    cur: Any,
    entries: list[tuple[str, str, str]],
    *,
    confidence: Decimal,
    source: str,
    source_domain: str | None,
    source_table: str | None,
) -> None:
    """§2.1's upsert: confidence is the max; company_id and its source are replaced only
    on a strictly higher confidence; every write counts a hit."""
    if not entries:
        return
    from psycopg2.extras import execute_values

    execute_values(
        cur,
        UPSERT_CACHE,
        [(t, k, c, confidence, source, source_domain, source_table) for t, k, c in entries],
    )


def write_former_name(cur: Any, key: str, company_id: str, confidence: Decimal) -> None:
    """§2.1's former-name writer: a former name claimed by two companies is ambiguous, so
    every entry of it is removed and none written; the same company counts a hit."""
    cur.execute(
        "select company_id from enterprise.enrichment_index "
        "where lookup_type = 'former_name' and lookup_key = %s",
        (key,),
    )
    existing = {row[0] for row in cur.fetchall()}
    if existing - {company_id}:
        cur.execute(
            "delete from enterprise.enrichment_index where lookup_type = 'former_name' and lookup_key = %s",
            (key,),
        )
        return
    upsert_cache(
        cur,
        [("former_name", key, company_id)],
        confidence=confidence.quantize(Decimal("0.01")),
        source="eqc_api",
        source_domain="eqc_sync_former_name",
        source_table=None,
    )


def upsert_base_info(cur: Any, row: dict[str, Any]) -> None:
    """§2.3: one row per company; a later partial payload never erases a value."""
    columns = [f'"{c}"' for c in row]
    values = [json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v for v in row.values()]
    updates = ", ".join(
        f"{c} = coalesce(excluded.{c}, base_info.{c})" for c in columns if c != '"company_id"'
    )
    cur.execute(
        f"insert into enterprise.base_info ({', '.join(columns)}, api_fetched_at) "
        f"values ({', '.join(['%s'] * len(columns))}, now()) "
        f"on conflict (company_id) do update set {updates}, api_fetched_at = now(), updated_at = now()",
        values,
    )


def count_layers(rows: Iterable[tuple[str | None, int]]) -> dict[str, int]:
    """Published rows per company_id_source, `none` for rows without a company."""
    counts: Counter[str] = Counter()
    for source, count in rows:
        counts[source or "none"] += count
    return dict(counts)
