"""The dbt project keeps the rules dbt-project-evaluator would check (it cannot be
installed here): parsed from the manifest, without a database."""

from __future__ import annotations

import json
import os
import re
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


def _layer(node: dict[str, Any]) -> str | None:
    path = f"/{node['original_file_path']}"
    return next((layer for layer in ("staging", "intermediate", "marts") if f"/{layer}/" in path), None)


def _source_findings(model: dict[str, Any]) -> list[str]:
    """dbt-project-evaluator's rules: a source is read only in staging, and no model
    joins a source with models or seeds."""
    parents = model["depends_on"]["nodes"]
    sources = [p for p in parents if p.startswith("source.")]
    findings = []
    if sources and _layer(model) != "staging":
        findings.append(f"{model['name']} reads {', '.join(sources)} outside staging")
    if sources and len(sources) < len(parents):
        findings.append(f"{model['name']} joins a source with models")
    return findings


def test_sources_are_read_only_in_staging(manifest):
    findings = [finding for model in _models(manifest) for finding in _source_findings(model)]
    assert findings == []


def test_staging_models_are_named_and_filed_after_their_source(manifest):
    """The dbt Labs structure guide: one staging model per source table, named
    stg_<source>__<table> and kept in staging/<source>/ beside _<source>__sources.yml."""
    findings = []
    for model in _models(manifest):
        if _layer(model) != "staging":
            continue
        sources = [manifest["sources"][p] for p in model["depends_on"]["nodes"] if p.startswith("source.")]
        if len(sources) != 1:
            findings.append(f"{model['name']} reads {len(sources)} sources, not one")
            continue
        source, table = sources[0]["source_name"], sources[0]["name"]
        path = f"models/staging/{source}/stg_{source}__{table}.sql"
        if model["original_file_path"] != path:
            findings.append(f"{model['original_file_path']} should be {path}")
    for source in manifest["sources"].values():
        name = source["source_name"]
        if source["original_file_path"] != f"models/staging/{name}/_{name}__sources.yml":
            findings.append(f"source {name} is declared in {source['original_file_path']}")
    assert findings == []


IMPORT = re.compile(r"\{\{\s*(ref|source)\(([^)]*)\)\s*\}\}")
CTE = re.compile(r"^(\w+) as (?:materialized )?\([^\n]*\n(.*?)^\)", re.MULTILINE | re.DOTALL)
IMPORT_CTE = re.compile(r"select\s.+\sfrom\s+\{\{[^}]*\}\}(\s+where\s.+)?", re.DOTALL)


def _imported(model: dict[str, Any], manifest: dict[str, Any]) -> set[str]:
    """The unique ids of what a model's SQL reads in an import CTE: one whose body is
    `select … from {{ ref(..) }}` or `{{ source(..) }}`, at most with a `where`; no join,
    no aggregate. Jinja comments are not code."""
    nodes = manifest["nodes"].items()
    by_name = {(n["name"],): uid for uid, n in nodes if n["resource_type"] in ("model", "seed")}
    by_name |= {(s["source_name"], s["name"]): uid for uid, s in manifest["sources"].items()}
    code = re.sub(r"\{#.*?#\}", "", model["raw_code"], flags=re.DOTALL)
    imported = set()
    for _, body in CTE.findall(code):
        body, calls = body.strip(), IMPORT.findall(body)
        if len(calls) == 1 and IMPORT_CTE.fullmatch(body) and not re.search(r"\b(join|group by)\b", body):
            args = calls[0][1]
            imported.add(by_name.get(tuple(arg.strip(" '\"") for arg in args.split(",")), f"? {args}"))
    return imported


def test_every_model_imports_what_it_reads_in_its_own_sql(manifest):
    """jaffle-shop's import CTEs: each ref and source a model depends on is selected from in
    an import CTE of the model's own SQL, not inside a macro or a later step, so the docs'
    code view and sqlfluff see the whole model. Macros are column- and select-level rules
    over the CTEs a model names."""
    findings = []
    for model in _models(manifest):
        parents, imported = set(model["depends_on"]["nodes"]), _imported(model, manifest)
        findings += [f"{model['name']} reads {p} outside an import CTE" for p in sorted(parents - imported)]
    assert findings == []


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


def test_every_published_column_is_described(manifest):
    """A mart is under an enforced contract, so its yml lists every column the SQL returns
    (dbt refuses to build it otherwise): each has a type and a description."""
    marts = [n for n in _models(manifest) if _layer(n) == "marts"]
    assert marts
    findings = []
    for mart in marts:
        if not mart["config"]["contract"]["enforced"] or not mart["columns"]:
            findings.append(f"{mart['name']}: no enforced contract listing its columns")
        findings += [
            f"{mart['name']}.{name}: {'no data_type' if not column['data_type'] else 'no description'}"
            for name, column in mart["columns"].items()
            if not column["data_type"] or not column["description"].strip()
        ]
    assert findings == []


KEY_TESTS = ("unique_combination", "unique_nullable_combination")


def _has_key_test(tests: list[dict[str, Any]]) -> bool:
    """A unique_combination-style test, or unique and not_null on one column; a test
    limited by `where` (a gate over some rows) does not state a key."""
    whole = [t for t in tests if not t["config"].get("where")]
    if any(t["test_metadata"]["name"] in KEY_TESTS for t in whole):
        return True
    unique = {t["column_name"] for t in whole if t["test_metadata"]["name"] == "unique"}
    not_null = {t["column_name"] for t in whole if t["test_metadata"]["name"] == "not_null"}
    return bool(unique & not_null)


def _tests_by_node(manifest: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The generic data tests attached to each model or seed, by its unique id."""
    tests: dict[str, list[dict[str, Any]]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("attached_node") and node.get("test_metadata"):
            tests.setdefault(node["attached_node"], []).append(node)
    return tests


def test_every_model_and_seed_has_a_key_test(manifest):
    tests = _tests_by_node(manifest)
    keyless = [
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed") and not _has_key_test(tests.get(node["unique_id"], []))
    ]
    assert keyless == []


def test_every_staging_and_intermediate_model_states_its_grain(manifest):
    vague = [
        n["name"]
        for n in _models(manifest)
        if _layer(n) in ("staging", "intermediate") and "one row per" not in n["description"].lower()
    ]
    assert vague == []


def test_marts_are_public_and_owned_and_work_models_are_not(manifest):
    groups = {g["name"]: g for g in manifest["groups"].values()}
    assert groups and all(g["owner"].get("name") or g["owner"].get("email") for g in groups.values())
    findings = []
    for model in _models(manifest):
        layer, access, group = _layer(model), model["access"], model["group"]
        if layer == "marts" and (access != "public" or group not in groups):
            findings.append(f"{model['name']}: a mart must be public and in a group")
        if layer == "intermediate" and (access == "public" or group not in groups):
            findings.append(f"{model['name']}: an intermediate model belongs to a group and is not public")
    assert findings == []


def test_exposures_read_only_public_marts(manifest):
    models = {n["unique_id"]: n for n in _models(manifest)}
    exposures = list(manifest["exposures"].values())
    assert exposures
    for exposure in exposures:
        parents = exposure["depends_on"]["nodes"]
        assert parents and exposure["description"] and exposure["owner"]["name"], exposure["name"]
        assert all(models[p]["access"] == "public" for p in parents), exposure["name"]


def test_the_docs_site_opens_on_an_overview(manifest):
    assert any(d["name"] == "__overview__" and d["package_name"] == "wdh" for d in manifest["docs"].values())


# Models of two domains whose rules are the same (decision D24): each domain is staged,
# gated and published on its own, so each has its own models, written out as SQL; the
# twin is its original with these renames, so a rule is still written once.
TWINS = [
    # spec §4: the loss ledger is §3.2 with 流失日期
    (r"award", [(r"award(?!_loss_)", "loss"), ("中标", "流失")]),
    # enrichment.md §4.3: the same back-fill rules; spec §0.6: the same distinct names
    (
        r"int_scale_detail_(names|portfolio_candidates|product_line_candidates|branch_candidates)$",
        [
            ("annuity_performance", "annuity_income"),
            ("scale_detail", "income_detail"),
            ("规模明细", "收入明细"),
        ],
    ),
]


def _renamed(text: str, renames: list[tuple[str, str]]) -> str:
    for old, new in renames:
        text = re.sub(old, new, text)
    return text


def _twin_signature(
    model: dict[str, Any], tests: list[dict[str, Any]], renames: list[tuple[str, str]]
) -> Any:
    """What a model's yml gives it, renamed: its contract's columns and its data tests."""
    columns = [[name, column["data_type"]] for name, column in model["columns"].items()]
    tested = [
        [
            test["test_metadata"]["name"],
            test.get("column_name"),
            test["config"]["severity"],
            test["config"].get("where"),
            sorted(test["config"]["tags"]),
            test["test_metadata"]["kwargs"],
        ]
        for test in tests
    ]
    return [
        sorted(_renamed(json.dumps(item, ensure_ascii=False, sort_keys=True), renames) for item in items)
        for items in (columns, tested)
    ]


@pytest.mark.parametrize("pattern, renames", TWINS, ids=["ledgers", "annuity"])
def test_twin_models_of_two_domains_stay_the_same(manifest, pattern, renames):
    models, tests = {n["name"]: n for n in _models(manifest)}, _tests_by_node(manifest)
    originals = [name for name in models if re.search(pattern, name)]
    assert len(originals) >= 4
    for name in originals:
        original, twin = models[name], models[_renamed(name, renames)]
        assert twin["original_file_path"] == _renamed(original["original_file_path"], renames)
        assert twin["raw_code"] == _renamed(original["raw_code"], renames), twin["name"]
        assert _twin_signature(original, tests.get(original["unique_id"], []), renames) == _twin_signature(
            twin, tests.get(twin["unique_id"], []), []
        ), twin["name"]
