"""Run dbt in-process (dbtRunner) and turn its per-node results into plain data."""

from __future__ import annotations

import logging
import os
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


@dataclass(frozen=True)
class NodeResult:
    name: str
    kind: str  # model, seed, test, unit_test
    status: str
    seconds: float
    message: str


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
    ):
        detail = "; ".join(f"{f.kind} {f.name}: {f.message}" for f in failures[:5]) or "see the dbt log"
        super().__init__(
            f"dbt {command} failed: {detail}",
            hint=f"nothing was published for this domain; the dbt log is {dbt_log_dir() / 'dbt.log'}",
        )
        self.failures = failures
        self.results = results
        self.tests = tests or []


def dbt_log_dir() -> Path:
    return wdh_home() / "dbt" / "logs"


class Dbt:
    """One dbtRunner for a whole `wdh` run: the first invocation parses, later ones reuse it."""

    def __init__(self, conn: Connection, target: str = "target"):
        for key, value in DBT_SETTINGS.items():
            os.environ.setdefault(key, value)
        os.environ.update(conn.dbt_env())
        self.target_path = wdh_home() / "dbt" / target  # a plan keeps its own: another profile
        from dbt.cli.main import dbtRunner

        self._runner = dbtRunner()

    def invoke(self, command: str, *args: str, variables: dict[str, Any] | None = None) -> list[NodeResult]:
        argv = [
            command,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--log-path",
            str(dbt_log_dir()),
            "--log-level",
            "none",  # results come back as data; the file log keeps detail
            "--log-level-file",
            "info",
        ]
        if command != "debug":  # the one command without a target path
            argv += ["--target-path", str(self.target_path)]
        for key, value in (variables or {}).items():  # read by the project through env_var()
            os.environ[f"WDH_{key.upper()}"] = str(value)
        log.debug("dbt %s", " ".join(argv))
        outcome = self._runner.invoke(argv)
        if isinstance(outcome.exception, KeyboardInterrupt):
            raise KeyboardInterrupt
        results = _node_results(outcome.result)
        if not outcome.success:
            failures = [r for r in results if r.status in ("error", "fail", "runtime error")]
            if outcome.exception is not None and not failures:
                failures = [NodeResult(command, "dbt", "error", 0.0, str(outcome.exception).strip())]
            raise DbtFailed(command, failures, results, _failed_tests(outcome.result))
        return results


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
