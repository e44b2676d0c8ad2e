"""The dbt project keeps the rules dbt-project-evaluator would check (it cannot be
installed here): parsed from the manifest, without a database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from loader.config import DBT_PROJECT_DIR, load_config


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    target = tmp_path_factory.mktemp("dbt-target")
    env = {**os.environ, "WDH_PG_PORT": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    dbt = str(Path(sys.executable).parent / "dbt")
    subprocess.run(
        [
            dbt,
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--log-path",
            str(target),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    return dict(json.loads((target / "manifest.json").read_text(encoding="utf-8")))


def _models(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_every_model_seed_source_and_macro_is_documented(manifest):
    undocumented = [
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in ("model", "seed") and not n["description"]
    ]
    undocumented += [s["name"] for s in manifest["sources"].values() if not s["description"]]
    undocumented += [
        m["name"] for m in manifest["macros"].values() if m["package_name"] == "wdh" and not m["description"]
    ]
    assert undocumented == []


def test_sources_are_read_only_in_staging(manifest):
    for model in _models(manifest):
        reads_source = any(d.startswith("source.") for d in model["depends_on"]["nodes"])
        staging = "/staging/" in f"/{model['original_file_path']}"
        # the verdict models join the company_resolution table Python writes beside the staging table
        resolution_only = all(
            d.endswith(".company_resolution") for d in model["depends_on"]["nodes"] if d.startswith("source.")
        )
        assert not reads_source or staging or resolution_only, model["name"]


def test_staging_models_never_read_staging_models(manifest):
    staging = {n["unique_id"] for n in _models(manifest) if "/staging/" in f"/{n['original_file_path']}"}
    for model in _models(manifest):
        if model["unique_id"] in staging:
            assert not staging & set(model["depends_on"]["nodes"]), model["name"]


def test_public_marts_are_under_enforced_contracts(manifest):
    marts = [n for n in _models(manifest) if "/marts/" in f"/{n['original_file_path']}"]
    assert marts
    for mart in marts:
        assert mart["config"]["contract"]["enforced"], mart["name"]


def test_every_configured_domain_names_existing_models(manifest):
    names = {n["name"] for n in _models(manifest)}
    for domain in load_config().domains.values():
        assert {domain.dbt.cleaned, domain.dbt.resolved, domain.dbt.mart} <= names, domain.name


def test_every_verdict_model_has_a_blocking_gate(manifest):
    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    for domain in load_config().domains.values():
        gate = [t for t in tests if f"model.wdh.{domain.dbt.resolved}" in t["depends_on"]["nodes"]]
        assert gate and all(t["config"]["severity"].lower() == "error" for t in gate), domain.name
