"""`make bench`: wdh etl --execute on generated months of 30k, 100k and 300k rows
(规模明细 + 收入明细), next to a floor measured in the same run on the same data:

    floor = fastexcel read of both sheets + COPY of them into PostgreSQL
            + the whole transformation of each domain as one CREATE TABLE AS
              (the compiled dbt SQL of every layer inlined as CTEs)

Reports seconds per stage, rows/s, peak RSS of the wdh process and the ratio to the
floor; writes bench/results/<timestamp>.json and bench/results/latest.md.

Then the reference workbooks of ../shared/bench (gen_workbook.py, N rows per sheet) next to
the replaced system's recorded figures on them: the first --execute on a new warehouse
(cold: dbt's full parse, every table created) and the rerun of the same month (warm: what
a team pays when it reruns a corrected month).

    BENCH_SIZES=30000,100000 make bench      # other sizes
    BENCH_REFERENCE=35000 make bench         # reference sizes (default 35000,100000; 0: none)
"""

from __future__ import annotations

import io
import json
import os
import re
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))

from loader.config import load_config  # noqa: E402
from loader.warehouse import APP_DATABASE, Connection, EmbeddedServer, connect  # noqa: E402

PERIOD = "202411"
REFERENCE_GENERATOR = PROJECT.parent / "shared" / "bench" / "gen_workbook.py"
ORIGINAL_WALL_S = {35000: 127.6, 100000: 340.8}  # ../shared/bench/README.md
DOMAINS = ("annuity_performance", "annuity_income")
WORK = PROJECT / "bench" / "work"
RESULTS = PROJECT / "bench" / "results"
TARGETS = {
    "ratio_to_floor": 2.0,
    "wall_300k_s": 30.0,
    "rss_300k_mb": 1536.0,
    "scaling_300k_30k": 11.0,
    "plan_over_execute_and_scratch": 1.0,
}


def server() -> Connection:
    url = os.environ.get("WDH_DATABASE_URL")
    if url:
        return Connection.from_url(url)
    embedded = EmbeddedServer(PROJECT / ".wdh")
    embedded.start()
    embedded.ensure_database(APP_DATABASE)
    return embedded.connection("postgres")


def fresh_database(admin: Connection, name: str) -> Connection:
    with connect(admin, autocommit=True) as pg, pg.cursor() as cur:
        cur.execute(f'drop database if exists "{name}" with (force)')
        cur.execute(f'create database "{name}"')
    return admin.with_database(name)


def generate(rows: int) -> Path:
    """A month of `rows` rows in all: 规模明细 4/7 of them, 收入明细 (¾ of that) the rest."""
    from loader.sample import generate_month

    root = WORK / f"data_{rows}"
    marker = root / f"sample_manifest_{PERIOD}.json"
    if not marker.exists():
        started = time.perf_counter()
        generate_month(root, PERIOD, rows=round(rows / 1.75), seed=rows)
        print(f"  generated {rows} rows in {time.perf_counter() - started:.0f}s", flush=True)
    return root


def run_wdh(conn: Connection, data: Path, home: Path, execute: bool = True) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WDH_", "DBT_"))}
    env.update(WDH_DATABASE_URL=conn.url(), WDH_HOME=str(home))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loader",
            "etl",
            "--domains",
            ",".join(DOMAINS),
            "--period",
            PERIOD,
            "--data-dir",
            str(data),
            *(["--execute"] if execute else []),
            "--log-format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT,
        check=False,
    )
    wall = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if result.returncode != 0:
        raise SystemExit(f"wdh etl failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    stages: dict[str, float] = {}
    rows = 0
    for line in result.stdout.splitlines():
        event = json.loads(line)
        if event["event"] == "domain_finished":
            rows += event["result"]["rows_read"]
            for stage, seconds in event["result"]["seconds"].items():
                stages[stage] = stages.get(stage, 0.0) + seconds
    # ru_maxrss of children is the largest child so far (KiB on Linux); a new maximum is ours
    return {
        "wall_s": wall,
        "stages_s": stages,
        "rows": rows,
        "peak_rss_mb": max(peak, before) / 1024,
        "peak_rss_is_new_max": peak > before,
    }


def scratch_start_s() -> float:
    """What a plan pays on top of --execute: starting (and removing) its scratch server."""
    from loader.plan import Scratch

    started = time.perf_counter()
    scratch = Scratch()
    scratch.connection()
    seconds = time.perf_counter() - started
    scratch.close()
    return seconds


def floor(conn: Connection, data: Path, home: Path) -> dict[str, float]:
    """The same work done the fastest way we know, on the database wdh just loaded."""
    import fastexcel
    import pyarrow as pa
    import pyarrow.csv as pacsv

    config = load_config()
    [workbook] = (data / "real_data" / PERIOD / "收集数据" / "数据采集" / "V2").glob("【*.xlsx")
    timings = {"read_s": 0.0, "copy_s": 0.0, "transform_s": 0.0}
    tables: dict[str, pa.Table] = {}
    started = time.perf_counter()
    reader = fastexcel.read_excel(str(workbook))
    for name in DOMAINS:
        sheet = config.domain(name).sheet_names[0]
        tables[name] = reader.load_sheet(sheet, dtypes="string").to_arrow()
    timings["read_s"] = time.perf_counter() - started

    with connect(conn) as pg, pg.cursor() as cur:
        for name, table in tables.items():
            table = table.rename_columns([f"c{i}" for i in range(table.num_columns)])
            buffer = io.BytesIO()
            pacsv.write_csv(table, buffer)
            started = time.perf_counter()
            columns = ", ".join(f"c{i} text" for i in range(table.num_columns))
            cur.execute(f"create temporary table floor_{name} ({columns})")
            buffer.seek(0)
            cur.copy_expert(f"copy floor_{name} from stdin with (format csv, header true)", buffer)
            timings["copy_s"] += time.perf_counter() - started
        for name in DOMAINS:
            sql = one_statement(config.domain(name), home)
            started = time.perf_counter()
            cur.execute(f"create temporary table floor_mart_{name} as {sql}")
            timings["transform_s"] += time.perf_counter() - started
        pg.rollback()
    timings["total_s"] = sum(timings.values())
    return timings


def one_statement(domain: Any, home: Path) -> str:
    """The compiled SQL of the domain's layers (staging → names → cleaned → resolved →
    mart) inlined as CTEs of one statement. Sources and seeds stay tables."""
    target = sorted((home / "dbt" / "runs").glob("*/target"))[-1]  # the execute's dbt target
    compiled = {path.stem: path.read_text(encoding="utf-8") for path in (target / "compiled").rglob("*.sql")}
    reads = {name: re.findall(r'"[^"]+"\."wdh_work"\."(\w+)"', sql) for name, sql in compiled.items()}
    order: list[str] = []

    def visit(name: str) -> None:
        for parent in reads[name]:
            if parent in compiled and parent not in order:
                visit(parent)
        if name not in order:
            order.append(name)

    visit(domain.dbt.mart)
    ctes = []
    for name in order:
        sql = compiled[name]
        for other in order:
            sql = re.sub(rf'"[^"]+"\."wdh_work"\."{other}"', f"inline_{other}", sql)
        ctes.append(f"inline_{name} as (\n{sql}\n)")
    return "with " + ",\n".join(ctes) + f"\nselect * from inline_{domain.dbt.mart}"


def main() -> None:
    sizes = [int(s) for s in os.environ.get("BENCH_SIZES", "30000,100000,300000").split(",")]
    admin = server()
    results = []
    for rows in sizes:
        print(f"{rows} rows", flush=True)
        data = generate(rows)
        conn = fresh_database(admin, f"wdh_bench_{rows}")
        home = WORK / f"home_{rows}"
        run = run_wdh(conn, data, home)
        plan = run_wdh(conn, data, home, execute=False)  # over the month just published
        base = floor(conn, data, home)
        entry = {
            "rows_total": rows,
            **run,
            "plan_wall_s": plan["wall_s"],
            "scratch_start_s": scratch_start_s(),
            "floor": base,
            "ratio_to_floor": run["wall_s"] / base["total_s"],
            "rows_per_s": run["rows"] / run["wall_s"],
        }
        results.append(entry)
        print(
            f"  wdh {run['wall_s']:.1f}s ({entry['rows_per_s']:.0f} rows/s, "
            f"peak RSS {run['peak_rss_mb']:.0f} MB); "
            f"floor {base['total_s']:.1f}s; ratio {entry['ratio_to_floor']:.2f}; "
            f"plan {plan['wall_s']:.1f}s (scratch start {entry['scratch_start_s']:.1f}s)",
            flush=True,
        )
    reference_results = [reference(admin, rows) for rows in reference_sizes()]
    report(results, reference_results)


def reference_sizes() -> list[int]:
    sizes = os.environ.get("BENCH_REFERENCE", "35000,100000")
    if sizes.strip() in ("", "0") or not REFERENCE_GENERATOR.exists():
        return []
    return [int(s) for s in sizes.split(",")]


def reference(admin: Connection, rows: int) -> dict[str, Any]:
    """The reference workbook of `rows` rows per sheet: cold and warm --execute."""
    print(f"reference workbook, {rows} rows per sheet", flush=True)
    root = WORK / f"reference_{rows}"
    folder = root / "real_data" / PERIOD / "收集数据" / "数据采集" / "V1"
    workbook = folder / f"reference_{rows}_规模收入数据.xlsx"
    if not workbook.exists():
        folder.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, str(REFERENCE_GENERATOR), "--rows", str(rows), "--out", str(workbook)],
            check=True,
            capture_output=True,
        )
    conn = fresh_database(admin, f"wdh_bench_reference_{rows}")
    home = WORK / f"home_reference_{rows}"
    cold = run_wdh(conn, root, home)
    warm = run_wdh(conn, root, home)
    original = ORIGINAL_WALL_S.get(rows)
    entry = {"rows_per_sheet": rows, "cold": cold, "warm": warm, "original_wall_s": original}
    speedup = f"; {original / warm['wall_s']:.1f}x the original's {original}s" if original else ""
    print(f"  cold {cold['wall_s']:.1f}s, warm {warm['wall_s']:.1f}s{speedup}", flush=True)
    return entry


def report(results: list[dict[str, Any]], reference_results: list[dict[str, Any]]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    by_size = {r["rows_total"]: r for r in results}
    summary: dict[str, Any] = {}
    if 300000 in by_size:
        summary["wall_300k_s"] = by_size[300000]["wall_s"]
        summary["rss_300k_mb"] = by_size[300000]["peak_rss_mb"]
        if 30000 in by_size:
            summary["scaling_300k_30k"] = by_size[300000]["wall_s"] / by_size[30000]["wall_s"]
    summary["ratio_to_floor"] = max(r["ratio_to_floor"] for r in results)
    # a plan costs at most the execute plus its scratch server's start
    summary["plan_over_execute_and_scratch"] = max(
        r["plan_wall_s"] / (r["wall_s"] + r["scratch_start_s"]) for r in results
    )
    document = {
        "timestamp": stamp,
        "machine": os.uname().nodename,
        "cpus": os.cpu_count(),
        "results": results,
        "reference": reference_results,
        "summary": summary,
        "targets": TARGETS,
    }
    (RESULTS / f"{stamp}.json").write_text(json.dumps(document, indent=2), encoding="utf-8")

    stages = ["discover", "read", "stage", "transform", "publish"]
    lines = [
        f"# Benchmark {stamp}",
        "",
        "rows = 规模明细 + 收入明细 (4 : 3); seconds; the floor is the fast read + COPY + each "
        "domain's whole transformation as one statement, measured in the same run on the same data.",
        "",
        "| rows | rows read | wall s | "
        + " | ".join(f"{s} s" for s in stages)
        + " | rows/s | peak RSS MB | floor s (read/copy/sql) | ratio to floor | plan s (scratch start s) |",
        "|---|---|---|" + "---|" * len(stages) + "---|---|---|---|---|",
    ]
    for r in results:
        f = r["floor"]
        lines.append(
            f"| {r['rows_total']:,} | {r['rows']:,} | {r['wall_s']:.1f} | "
            + " | ".join(f"{r['stages_s'].get(s, 0.0):.2f}" for s in stages)
            + f" | {r['rows_per_s']:,.0f} | {r['peak_rss_mb']:.0f} | {f['total_s']:.1f} "
            f"({f['read_s']:.1f}/{f['copy_s']:.1f}/{f['transform_s']:.1f}) | {r['ratio_to_floor']:.2f} | "
            f"{r['plan_wall_s']:.1f} ({r['scratch_start_s']:.1f}) |"
        )
    if reference_results:
        lines += [
            "",
            "Reference workbooks (../shared/bench/gen_workbook.py, rows per sheet, both domains, --execute); "
            "cold = first run on a new warehouse, warm = the same month rerun.",
            "",
            "| rows per sheet | cold wall s | warm wall s | warm "
            + " | warm ".join(f"{s} s" for s in stages)
            + " | peak RSS MB | original wall s | original / warm |",
            "|---|---|---|" + "---|" * len(stages) + "---|---|---|",
        ]
        for r in reference_results:
            cold, warm, original = r["cold"], r["warm"], r["original_wall_s"]
            lines.append(
                f"| {r['rows_per_sheet']:,} | {cold['wall_s']:.1f} | {warm['wall_s']:.1f} | "
                + " | ".join(f"{warm['stages_s'].get(s, 0.0):.2f}" for s in stages)
                + f" | {max(cold['peak_rss_mb'], warm['peak_rss_mb']):.0f} | {original or '-'} | "
                + (f"{original / warm['wall_s']:.1f}x |" if original else "- |")
            )
    lines += ["", "| target | limit | measured | met |", "|---|---|---|---|"]
    for key, limit in TARGETS.items():
        if key in summary:
            lines.append(
                f"| {key} | ≤ {limit} | {summary[key]:.2f} | {'yes' if summary[key] <= limit else 'NO'} |"
            )
    text = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
