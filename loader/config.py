"""Domain configuration: config/data_sources.yml, inheritance and validation."""

from __future__ import annotations

import copy
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loader.errors import WdhError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "data_sources.yml"
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

# Special orchestration domains: accepted only as a single --domains value.
SPECIAL_DOMAINS = ("company_lookup_queue", "reference_sync")

_DOMAIN_KEYS = {
    "description",
    "kind",
    "base_path",
    "file_patterns",
    "exclude_patterns",
    "version_strategy",
    "fallback",
    "file_selection",
    "sheet_names",
    "staging_table",
    "requires_backfill",
    "company_ids",
    "company_lookup",
    "columns",
    "dbt",
    "output",
}
_DBT_KEYS = {"cleaned", "resolved", "mart"}
_COLUMN_KEYS = {"aliases", "required", "optional"}
_OUTPUT_KEYS = {"schema_name", "table", "refresh_key", "mode", "amounts"}
_CHOICES = {
    "kind": ("data", "sandbox"),
    "version_strategy": ("highest_number", "latest_modified"),
    "fallback": ("error", "use_latest_modified"),
    "file_selection": ("error", "newest", "oldest", "first"),
}
_IDENTIFIER_LIMIT = 63  # PostgreSQL cuts identifiers at 63 bytes


@dataclass(frozen=True)
class Output:
    schema_name: str
    table: str
    refresh_key: tuple[str, ...]
    mode: str
    amounts: tuple[str, ...] = ()  # the main amount columns a plan sums before and after


@dataclass(frozen=True)
class DbtNodes:
    cleaned: str  # yields the distinct names still without a company_id
    resolved: str  # the publishing gate: blocking data tests run on it
    mart: str  # publishes


@dataclass(frozen=True)
class Domain:
    name: str
    description: str
    kind: str
    base_path: str
    file_patterns: tuple[str, ...]
    exclude_patterns: tuple[str, ...]
    version_strategy: str
    fallback: str
    file_selection: str
    sheet_names: tuple[str | int, ...]
    staging_table: str
    requires_backfill: bool
    company_ids: bool
    company_lookup: bool  # the lookup service may be asked (enrichment.md §1: not for annuity_income)
    aliases: dict[str, str]
    required_columns: tuple[str, ...]
    optional_columns: tuple[str, ...]
    dbt: DbtNodes
    output: Output

    @property
    def columns(self) -> tuple[str, ...]:
        return self.required_columns + self.optional_columns

    @property
    def periodic(self) -> bool:
        return bool(re.search(r"\{(YYYYMM|YYYY|MM)\}", self.base_path))

    def staging_schema(self, period: str | None) -> str:
        return f"stg_{self.name}_{period}" if period and self.periodic else f"stg_{self.name}"

    @property
    def target(self) -> str:
        return f"{self.output.schema_name}.{self.output.table}"


@dataclass(frozen=True)
class Config:
    path: Path
    domains: dict[str, Domain]

    def data_domains(self) -> list[str]:
        """Domains `--all-domains` runs, in file order (sandbox domains excluded)."""
        return [name for name, domain in self.domains.items() if domain.kind == "data"]

    def domain(self, name: str) -> Domain:
        try:
            return self.domains[name]
        except KeyError:
            raise WdhError(
                f"unknown domain {name!r}",
                hint=f"valid domains: {', '.join(self.domains)}",
            ) from None


def merge(base: Any, override: Any) -> Any:
    """Spec §0.1.7: scalars override; lists replace unless items start with '+'; dicts deep-merge."""
    if isinstance(base, dict) and isinstance(override, dict):
        merged = copy.deepcopy(base)
        for key, value in override.items():
            merged[key] = merge(base[key], value) if key in base else copy.deepcopy(value)
        return merged
    if isinstance(base, list) and isinstance(override, list):
        extends = [item for item in override if isinstance(item, str) and item.startswith("+")]
        if extends and len(extends) == len(override):
            return [*base, *(item[1:] for item in extends if item[1:] not in base)]
        if extends:
            raise ValueError("a list must either extend (every item starts with '+') or replace (none does)")
        return list(override)
    return copy.deepcopy(override)


def load_config(path: Path | None = None) -> Config:
    path = Path(path or os.environ.get("WDH_DATA_SOURCES_CONFIG") or DEFAULT_CONFIG)
    import yaml

    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WdhError(f"configuration file {path} not found", hint="set WDH_DATA_SOURCES_CONFIG") from None
    except yaml.YAMLError as exc:
        raise WdhError(f"{path} is not valid YAML: {exc}") from None

    def fail(key: str, problem: str) -> WdhError:
        return WdhError(f"{path}: {key}: {problem}", hint="fix the key in the configuration file")

    if not isinstance(raw, dict) or not isinstance(raw.get("domains"), dict):
        raise fail("domains", "missing or not a mapping of domain name to settings")
    unknown_top = set(raw) - {"schema_version", "defaults", "domains"}
    if unknown_top:
        raise fail(", ".join(sorted(unknown_top)), "unknown top-level key")
    defaults = raw.get("defaults") or {}
    domains: dict[str, Domain] = {}
    for name, settings in raw["domains"].items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            raise fail(f"domains.{name}", "domain names are lower-case ASCII, digits and underscores")
        if name in SPECIAL_DOMAINS:
            raise fail(f"domains.{name}", "this name is reserved for a special orchestration domain")
        if not isinstance(settings, dict):
            raise fail(f"domains.{name}", "must be a mapping")
        try:
            merged = merge(defaults, settings)
        except ValueError as exc:
            raise fail(f"domains.{name}", str(exc)) from None
        domains[name] = _domain(
            name, merged, lambda key, problem, n=name: fail(f"domains.{n}.{key}", problem)
        )
    return Config(path=path, domains=domains)


def _domain(name: str, s: dict[str, Any], fail: Any) -> Domain:
    unknown = set(s) - _DOMAIN_KEYS
    if unknown:
        raise fail(sorted(unknown)[0], f"unknown key (known: {', '.join(sorted(_DOMAIN_KEYS))})")
    for key in ("base_path", "file_patterns", "sheet_names", "staging_table", "dbt", "output"):
        if not s.get(key):
            raise fail(key, "is required")
    for key, choices in _CHOICES.items():
        if s.get(key) not in choices:
            raise fail(key, f"must be one of {', '.join(choices)}, got {s.get(key)!r}")
    base_path = str(s["base_path"])
    if ".." in Path(base_path).parts or Path(base_path).is_absolute():
        raise fail("base_path", "must be relative to the data root and may not contain '..'")
    leftover = re.sub(r"\{(YYYYMM|YYYY|MM)\}", "", base_path)
    if "{" in leftover or "}" in leftover:
        raise fail("base_path", "only {YYYYMM}, {YYYY} and {MM} may be used")
    columns = s.get("columns") or {}
    if set(columns) - _COLUMN_KEYS:
        raise fail("columns", f"unknown key (known: {', '.join(sorted(_COLUMN_KEYS))})")
    dbt = s["dbt"]
    if not isinstance(dbt, dict) or set(dbt) != _DBT_KEYS:
        raise fail("dbt", f"must name exactly: {', '.join(sorted(_DBT_KEYS))}")
    output = s["output"]
    if set(output) - _OUTPUT_KEYS:
        raise fail("output", f"unknown key (known: {', '.join(sorted(_OUTPUT_KEYS))})")
    for key in ("table", "refresh_key"):
        if not output.get(key):
            raise fail(f"output.{key}", "is required")
    if output.get("mode") not in ("delete_insert", "append"):
        raise fail("output.mode", "must be delete_insert or append")
    for key, value in [("staging_table", s["staging_table"]), *((f"dbt.{k}", v) for k, v in dbt.items())]:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(value)):
            raise fail(
                key, f"{value!r}: lower-case ASCII letters, digits and underscores only (it reaches SQL)"
            )
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", str(output.get("schema_name", "business"))):
        raise fail("output.schema_name", "lower-case ASCII letters, digits and underscores only")
    aliases = {str(k): str(v) for k, v in (columns.get("aliases") or {}).items()}
    required = tuple(str(c) for c in columns.get("required") or ())
    optional = tuple(str(c) for c in columns.get("optional") or ())
    for column in (*required, *optional, *aliases.values(), output["table"], s["staging_table"]):
        if len(column.encode("utf-8")) > _IDENTIFIER_LIMIT:
            raise fail("columns", f"{column!r} is longer than PostgreSQL's {_IDENTIFIER_LIMIT}-byte limit")
    return Domain(
        name=name,
        description=str(s.get("description", "")),
        kind=s["kind"],
        base_path=base_path,
        file_patterns=tuple(str(p) for p in s["file_patterns"]),
        exclude_patterns=tuple(str(p) for p in s.get("exclude_patterns") or ()),
        version_strategy=s["version_strategy"],
        fallback=s["fallback"],
        file_selection=s["file_selection"],
        sheet_names=tuple(s["sheet_names"]),
        staging_table=str(s["staging_table"]),
        requires_backfill=bool(s.get("requires_backfill", True)),
        company_ids=bool(s.get("company_ids", True)),
        company_lookup=bool(s.get("company_lookup", True)),
        aliases=aliases,
        required_columns=required,
        optional_columns=optional,
        dbt=DbtNodes(**{key: str(value) for key, value in dbt.items()}),
        output=Output(
            schema_name=str(output.get("schema_name", "business")),
            table=str(output["table"]),
            refresh_key=tuple(str(c) for c in output["refresh_key"]),
            mode=str(output["mode"]),
            amounts=tuple(str(c) for c in output.get("amounts") or ()),
        ),
    )


def data_root(cli_value: str | Path | None = None) -> Path:
    return Path(cli_value or os.environ.get("WDH_DATA_BASE_DIR") or "data").resolve()


def validate_period(period: str) -> str:
    if not re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", period or ""):
        raise WdhError(
            f"--period must be YYYYMM with a month 01–12, got {period!r}", hint="e.g. --period 202411"
        )
    return period
