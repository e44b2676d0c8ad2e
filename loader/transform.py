"""Run dbt in-process (dbtRunner) and turn its per-node results into plain data."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loader.config import DBT_PROJECT_DIR
from loader.errors import WdhError
from loader.warehouse import Connection, wdh_home

log = logging.getLogger(__name__)

DBT_SETTINGS = {
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    "DBT_USE_COLORS": "false",
    "DBT_PRINTER_WIDTH": "100",
}


PARTIAL_PARSE = "partial_parse.msgpack"
# what the profile shows while the project is parsed; the database name stays real, since
# every parsed node carries it
PARSE_PROFILE = {
    "WDH_PG_HOST": "127.0.0.1",
    "WDH_PG_PORT": "5432",
    "WDH_PG_USER": "wdh",
    "WDH_PG_PASSWORD": "",
}


@dataclass(frozen=True)
class NodeResult:
    name: str
    kind: str  # model, seed, test, unit_test
    status: str
    seconds: float
    message: str
    checksum: str = ""  # dbt's checksum of a model's SQL (provenance)


@dataclass(frozen=True)
class FailedTest:
    """A data test that found rows: what the gate explains to the user (loader/gate.py)."""

    name: str
    column: str | None
    rule: str  # words from the test's meta, with {column}, {values}, {period} to fill
    fix: str
    sql: str  # the compiled test query: it returns the failing rows
    failures: int


class DbtFailed(WdhError):
    def __init__(
        self,
        command: str,
        failures: list[NodeResult],
        results: list[NodeResult],
        tests: list[FailedTest] | None = None,
        log_file: Path | None = None,
    ):
        detail = "; ".join(f"{f.kind} {f.name}: {f.message}" for f in failures[:5]) or "see the dbt log"
        super().__init__(
            f"dbt {command} failed: {detail}",
            hint=f"nothing was published for this domain; the dbt log is {log_file}",
        )
        self.failures = failures
        self.results = results
        self.tests = tests or []


class Dbt:
    """One dbtRunner for a whole `wdh` run, with its own target and log folder (`run_dir`),
    so runs of different domains never share dbt's files. The project is parsed once per
    run and the manifest handed to every later invocation. dbt's partial parse is cached
    per database name under `<WDH_HOME>/dbt/parse-cache/` and copied into each run's
    target, so a run parses only what changed since the last run: the parse sees a fixed
    host, port and user (`PARSE_PROFILE`; dbt drops a partial parse whenever the profile
    changes, and nothing parsed depends on them), so a plan's scratch server and the
    target share it. Invocations write no JSON artifacts (manifest.json alone costs ~0.7 s
    each time); the results come back in-process and the compiled SQL stays on disk."""

    def __init__(self, conn: Connection | None, run_dir: Path, *, dbname: str | None = None):
        """`conn`: the database every invocation works on. Parsing needs only its name:
        without `conn` (a plan whose scratch server is still starting), give `dbname` and
        call connect() before the first invocation."""
        for key, value in DBT_SETTINGS.items():
            os.environ.setdefault(key, value)
        self.dbname = conn.dbname if conn is not None else str(dbname)
        if conn is not None:
            self.connect(conn)
        self.target_path, self.log_path = run_dir / "target", run_dir / "logs"
        key = hashlib.sha256(self.dbname.encode()).hexdigest()[:16]
        self._parse_cache = wdh_home() / "dbt" / "parse-cache" / f"{key}.msgpack"
        if self._parse_cache.exists() and not (self.target_path / PARTIAL_PARSE).exists():
            self.target_path.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self._parse_cache, self.target_path / PARTIAL_PARSE)
        self._cached = False
        self.invocation_ids: list[str] = []
        self._runner: Any = None
        self.manifest: Any = None
        self._parsed_for: tuple[tuple[str, Any], ...] | None = None

    def connect(self, conn: Connection) -> None:
        """Point the profile (dbt_project/profiles.yml reads these) at `conn`."""
        os.environ.update(conn.dbt_env())

    def invoke(self, command: str, *args: str, variables: dict[str, Any] | None = None) -> list[NodeResult]:
        if command == "debug":  # checks the connection; needs no project parse
            from dbt.cli.main import dbtRunner

            return list(self._invoke(dbtRunner(), command, *args))
        self.prepare(variables)
        return self._invoke(self._runner, command, *args)

    def prepare(self, variables: dict[str, Any] | None) -> None:
        """Parse the project for these variables unless it is parsed for them already."""
        for key, value in (variables or {}).items():  # read by the project through env_var()
            os.environ[f"WDH_{key.upper()}"] = str(value)
        parsed_for = tuple(sorted((variables or {}).items()))
        if self._runner is None or parsed_for != self._parsed_for:
            self._parse()
            self._parsed_for = parsed_for

    def shared_fingerprint(self) -> tuple[str, list[str]]:
        """What the seeds and the shared models are built from — each one's checksum (a
        seed's is its file's), config and relation — as one hash, and their relations.
        When the warehouse holds a build of the same fingerprint, a run need not load them
        again (loader/run.py)."""
        nodes = [
            node
            for node in self.manifest.nodes.values()
            if node.resource_type == "seed" or (node.resource_type == "model" and "shared" in node.tags)
        ]
        parts = sorted(
            json.dumps(
                [node.unique_id, node.checksum.checksum, node.schema, node.alias, node.config.to_dict()],
                sort_keys=True,
                default=str,
            )
            for node in nodes
        )
        digest = hashlib.sha256("\n".join(parts).encode()).hexdigest()
        return digest, sorted(f"{node.schema}.{node.alias}" for node in nodes)

    def _parse(self) -> None:
        """Parse the project once for the run's variables and hand the manifest to every
        later invocation (dbtRunner does not reuse a parse by itself)."""
        from dbt.cli.main import dbtRunner

        parsing = {**PARSE_PROFILE, "WDH_PG_DBNAME": self.dbname}
        real = {key: os.environ.get(key) for key in parsing}
        os.environ.update(parsing)
        try:
            self.manifest = self._invoke(dbtRunner(), "parse", result=True)
        finally:
            for key, value in real.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
        self._runner = dbtRunner(manifest=self.manifest)

    def source_columns(self, source: str) -> dict[str, list[str]]:
        """The declared columns of each table of `source` (its _*__sources.yml)."""
        if self.manifest is None:
            self._parse()
        return {
            node.name: list(node.columns)
            for node in self.manifest.sources.values()
            if node.source_name == source
        }

    def reference_models(
        self, *, parent: str | None = None, tag: str | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """The models that write reference tables (meta `reference`: table, key, order,
        mode; macros/backfill/write_references.sql) among the children of `parent` or the
        models tagged `tag`, in write order."""
        if self.manifest is None:
            self._parse()
        found = [
            (node.name, node.config.meta["reference"])
            for node in self.manifest.nodes.values()
            if node.resource_type == "model"
            and "reference" in node.config.meta
            and (parent is None or f"model.wdh.{parent}" in node.depends_on.nodes)
            and (tag is None or tag in node.tags)
        ]
        return sorted(found, key=lambda item: item[1]["order"])

    def models_after(self, mart: str) -> dict[str, list[str]]:
        """The models built on `mart` (its children, e.g. the status view over both
        ledgers), each with the relations of its other model parents."""
        if self.manifest is None:
            self._parse()
        nodes, mart_id = self.manifest.nodes, f"model.wdh.{mart}"
        return {
            child.name: sorted(
                f"{nodes[parent].schema}.{nodes[parent].alias}"
                for parent in child.depends_on.nodes
                if parent.startswith("model.") and parent != mart_id
            )
            for child in nodes.values()
            if child.resource_type == "model" and mart_id in child.depends_on.nodes
        }

    def _invoke(self, runner: Any, command: str, *args: str, result: bool = False) -> Any:
        argv = [
            command,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--log-path",
            str(self.log_path),
            "--log-level",
            "none",  # results come back as data; the file log keeps detail
            "--log-level-file",
            "info",
        ]
        if command != "debug":  # the one command without a target path
            # no JSON artifacts (manifest.json alone is ~0.7 s a time); relations are
            # looked up per schema when a model needs them, not all listed up front
            argv += ["--target-path", str(self.target_path), "--no-write-json", "--no-populate-cache"]
        log.debug("dbt %s", " ".join(argv))
        outcome = runner.invoke(argv)
        from dbt_common.invocation import get_invocation_id

        self.invocation_ids.append(get_invocation_id())
        if isinstance(outcome.exception, KeyboardInterrupt):
            raise KeyboardInterrupt
        self._save_parse()
        results = _node_results(outcome.result)
        if not outcome.success:
            failures = [r for r in results if r.status in ("error", "fail", "runtime error")]
            if outcome.exception is not None and not failures:
                failures = [NodeResult(command, "dbt", "error", 0.0, str(outcome.exception).strip())]
            log_file = self.log_path / "dbt.log"
            raise DbtFailed(command, failures, results, _failed_tests(outcome.result), log_file)
        return outcome.result if result else results

    def _save_parse(self) -> None:
        """After the first invocation: this run's parse becomes the cache (atomic replace)."""
        parsed = self.target_path / PARTIAL_PARSE
        if self._cached or not parsed.exists():
            return
        self._parse_cache.parent.mkdir(parents=True, exist_ok=True)
        partial = self._parse_cache.with_suffix(f".{os.getpid()}.tmp")
        shutil.copyfile(parsed, partial)
        os.replace(partial, self._parse_cache)
        self._cached = True


def _node_results(result: Any) -> list[NodeResult]:
    nodes = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None:
            continue
        message = str(getattr(item, "message", "") or "")
        failures = getattr(item, "failures", None)
        if failures:
            message = f"{failures} failing row(s) {message}".strip()
        nodes.append(
            NodeResult(
                name=node.name,
                kind=str(node.resource_type).split(".")[-1].lower(),
                status=str(item.status).split(".")[-1].lower(),
                seconds=float(getattr(item, "execution_time", 0.0) or 0.0),
                message=message.strip(),
                checksum=str(node.checksum.checksum) if node.resource_type == "model" else "",
            )
        )
    return nodes


def _failed_tests(result: Any) -> list[FailedTest]:
    tests = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        if node is None or str(item.status).split(".")[-1].lower() != "fail":
            continue
        meta = getattr(node.config, "meta", None) or {}
        tests.append(
            FailedTest(
                name=node.name,
                column=getattr(node, "column_name", None),
                rule=str(meta.get("rule", f"fail the data test {node.name}")),
                fix=str(meta.get("fix", "see the dbt log")),
                sql=str(getattr(node, "compiled_code", "") or ""),
                failures=int(getattr(item, "failures", 0) or 0),
            )
        )
    return tests


SELECTORS = ("--select", "-s", "--models", "-m", "--selector")


def passthrough(
    conn: Connection, args: tuple[str, ...], period: str | None, unpublished: list[str]
) -> tuple[list[str], dict[str, str]]:
    """`wdh dbt ARGS…`: dbt's own command line with the connection and the run variables
    `wdh etl` would set (as environment, so the user's own options still win). Returns
    (argv, environment). `test` without a selection checks the published tables — those
    that exist: `unpublished` names the marts never published (and so what is built on
    them)."""
    argv = list(args)
    if argv[:1] == ["test"] and not any(a.split("=")[0] in SELECTORS for a in argv):
        argv += ["--select", "tag:published"]
        if unpublished:
            argv += ["--exclude", *(f"{mart}+" for mart in unpublished)]
    env = {
        **os.environ,
        **DBT_SETTINGS,
        **conn.dbt_env(),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET_PATH": str(wdh_home() / "dbt" / "target"),
        "DBT_LOG_PATH": str(wdh_home() / "dbt" / "logs"),
        "WDH_PERIOD": period or "000000",
    }
    return argv, env
