"""`make bench`: the speed targets of the issue, each measured in one run and printed (and
written to bench/results/<timestamp>.json and bench/results/latest.md) with its limit:

1. Size runs (BENCH_SIZES, rows of 规模明细, default 30000,100000,300000): a month from
   loader.sample.generate_month(rows=N, seed=N), of which only 规模明细 is loaded
   (`wdh etl --domains annuity_performance --execute`, a fresh database per size), next to
   a floor measured in the same run on the same data:

       floor = fastexcel read of the 规模明细 sheet + COPY of it into PostgreSQL
               + the domain's whole transformation as one CREATE TABLE AS
                 (the compiled dbt SQL of every layer inlined as CTEs)

   Per size: wall, seconds per stage, rows/s, peak RSS of the wdh process, floor and the
   ratio wall / floor. Targets: 100k ≤ 2 × floor; 300k ≤ 1 GB peak RSS; 300k/30k wall ≤ 10.
2. Small month (BENCH_SMALL rows of 规模明细, default 2000: a few thousand rows over the
   four data domains): `wdh etl --all-domains --execute` on a fresh database (cold), again
   (warm: target ≤ 4 s), then the plan (no --execute; target ≤ warm execute + 1 s).
3. `wdh --help`: best of 5 runs (target ≤ 0.3 s).
4. Reference workbooks of ../shared/bench (gen_workbook.py, N rows per sheet, 规模明细 +
   收入明细 loaded together) next to the replaced system's recorded figures on them: the
   first --execute on a new warehouse (cold: every table created) and the rerun of the
   same month (warm: the figure of the targets — 35k ≤ 5 s and ≥ 25× the original,
   100k ≤ 12 s and ≥ 28×).

Peak RSS is each wdh process's own peak (GNU time's %M), not the maximum over all children
of the bench. A target whose run was skipped is reported as "not measured". Every database
is new and every cold run starts from an empty WDH_HOME (bench/work/home_*): a full dbt
parse, as on a new install.

    BENCH_SIZES=30000,100000 make bench      # other sizes (0: none)
    BENCH_SMALL=0 make bench                 # no small month (or its rows of 规模明细)
    BENCH_REFERENCE=35000 make bench         # reference sizes (default 35000,100000; 0: none)
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
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
SCALE_DOMAINS = ("annuity_performance",)  # a size run loads 规模明细 alone
REFERENCE_DOMAINS = ("annuity_performance", "annuity_income")  # as the original was timed
SMALL_DOMAINS = ("annuity_performance", "annuity_income", "annual_award", "annual_loss")
STAGES = ("discover", "read", "stage", "transform", "publish")
WORK = PROJECT / "bench" / "work"
RESULTS = PROJECT / "bench" / "results"


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


def generate(root: Path, rows: int, seed: int | None) -> Path:
    """A month under `root`: `rows` rows of 规模明细, ¾ of that of 收入明细, and the ledgers."""
    from loader.sample import generate_month

    if not (root / f"sample_manifest_{PERIOD}.json").exists():
        started = time.perf_counter()
        if seed is None:
            generate_month(root, PERIOD, rows=rows)
        else:
            generate_month(root, PERIOD, rows=rows, seed=seed)
        print(f"  generated {rows} rows of 规模明细 in {time.perf_counter() - started:.0f}s", flush=True)
    return root


def measured(argv: list[str], env: dict[str, str]) -> tuple[int, float, float, str, str]:
    """Run argv; return its exit code, wall seconds, its own peak RSS (MB), stdout, stderr.
    The peak comes from GNU time (`%M`), a small process that forks the command: Linux
    keeps a process's peak RSS across exec, so a child forked by this (large) bench process
    would report the bench's own size; getrusage(RUSAGE_CHILDREN) would report the largest
    child so far."""
    time_bin = shutil.which("time", path="/usr/bin:/bin")
    if time_bin is None:
        raise SystemExit("make bench needs GNU time (/usr/bin/time; Debian package `time`)")
    with tempfile.TemporaryDirectory() as folder:
        peak_file = Path(folder) / "peak_kib"
        started = time.perf_counter()
        result = subprocess.run(
            [time_bin, "-f", "%M", "-o", str(peak_file), *argv],
            capture_output=True,
            text=True,
            env=env,
            cwd=PROJECT,
            check=False,
        )
        wall = time.perf_counter() - started
        peak_kib = int(peak_file.read_text().split()[-1])
    return result.returncode, wall, peak_kib / 1024, result.stdout, result.stderr


def wdh_env(conn: Connection | None = None, home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WDH_", "DBT_"))}
    if conn is not None:
        env["WDH_DATABASE_URL"] = conn.url()
    if home is not None:
        env["WDH_HOME"] = str(home)
    return env


def run_wdh(
    conn: Connection, data: Path, home: Path, selection: list[str], execute: bool = True
) -> dict[str, Any]:
    """`wdh etl <selection> --period … [--execute]`: wall, stages, per domain, rows, peak RSS."""
    argv = [sys.executable, "-m", "loader", "etl", *selection, "--period", PERIOD, "--data-dir", str(data)]
    argv += [*(["--execute"] if execute else []), "--log-format", "json"]
    code, wall, peak_mb, stdout, stderr = measured(argv, wdh_env(conn, home))
    if code != 0:
        raise SystemExit(f"wdh etl failed ({code}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
    stages: dict[str, float] = {}
    per_domain: dict[str, dict[str, Any]] = {}
    rows = 0
    for line in stdout.splitlines():
        event = json.loads(line)
        if event["event"] == "domain_finished":
            result = event["result"]
            rows += result["rows_read"]
            per_domain[event["domain"]] = {
                "rows_read": result["rows_read"],
                "seconds": result["seconds"],
                "total_s": sum(result["seconds"].values()),
            }
            for stage, seconds in result["seconds"].items():
                stages[stage] = stages.get(stage, 0.0) + seconds
    return {
        "wall_s": wall,
        "stages_s": stages,
        "outside_stages_s": wall - sum(stages.values()),  # start-up, imports, run ledger, exit
        "domains": per_domain,
        "rows": rows,
        "peak_rss_mb": peak_mb,
    }


def help_seconds(times: int = 5) -> float:
    """`wdh --help`, best of `times` runs."""
    entry = Path(sys.executable).parent / "wdh"
    argv = [str(entry), "--help"] if entry.exists() else [sys.executable, "-m", "loader", "--help"]
    best = float("inf")
    for _ in range(times):
        code, wall, _, stdout, stderr = measured(argv, wdh_env())
        if code != 0:
            raise SystemExit(f"wdh --help failed ({code}):\n{stdout[-3000:]}\n{stderr[-3000:]}")
        best = min(best, wall)
    return best


def floor(conn: Connection, data: Path, home: Path, domains: tuple[str, ...]) -> dict[str, float]:
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
    for name in domains:
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
        for name in domains:
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


def sizes_from(variable: str, default: str) -> list[int]:
    value = os.environ.get(variable, default).strip()
    if value in ("", "0"):
        return []
    return [int(s) for s in value.split(",") if s.strip()]


def size_run(admin: Connection, rows: int) -> dict[str, Any]:
    """规模明细 of `rows` rows, loaded alone, and the floor on the same data."""
    print(f"规模明细, {rows} rows", flush=True)
    data = generate(WORK / f"scale_{rows}", rows, seed=rows)
    conn = fresh_database(admin, f"wdh_bench_scale_{rows}")
    home = WORK / f"home_scale_{rows}"
    shutil.rmtree(home, ignore_errors=True)
    selection = ["--domains", ",".join(SCALE_DOMAINS)]
    cold = run_wdh(conn, data, home, selection)  # a new install: full dbt parse, every table created
    run = run_wdh(conn, data, home, selection)  # the month rerun: what the targets judge
    base = floor(conn, data, home, SCALE_DOMAINS)
    entry = {
        "rows_scale": rows,
        **run,
        "cold_wall_s": cold["wall_s"],
        "floor": base,
        "ratio_to_floor": run["wall_s"] / base["total_s"],
        "rows_per_s": run["rows"] / run["wall_s"],
    }
    print(
        f"  wdh cold {cold['wall_s']:.1f}s, warm {run['wall_s']:.1f}s ({entry['rows_per_s']:,.0f} rows/s, "
        f"peak RSS {run['peak_rss_mb']:.0f} MB); floor {base['total_s']:.1f}s; "
        f"ratio {entry['ratio_to_floor']:.2f}",
        flush=True,
    )
    return entry


def small_month(admin: Connection, rows: int) -> dict[str, Any]:
    """A small month, the four data domains in one run: cold and warm --execute, then the plan."""
    print(f"small month, {rows} rows of 规模明细, --all-domains", flush=True)
    data = generate(WORK / f"small_{rows}", rows, seed=None)
    conn = fresh_database(admin, f"wdh_bench_small_{rows}")
    home = WORK / f"home_small_{rows}"
    shutil.rmtree(home, ignore_errors=True)  # cold: a new install, no dbt parse cached
    cold = run_wdh(conn, data, home, ["--all-domains"])
    if sorted(cold["domains"]) != sorted(SMALL_DOMAINS):  # --all-domains leaves out sandbox domains
        raise SystemExit(f"--all-domains ran {sorted(cold['domains'])}, not {sorted(SMALL_DOMAINS)}")
    warm = run_wdh(conn, data, home, ["--all-domains"])
    plan = run_wdh(conn, data, home, ["--all-domains"], execute=False)  # over the month just published
    entry = {
        "rows_scale": rows,
        "rows": warm["rows"],
        "cold": cold,
        "warm": warm,
        "plan": plan,
        "plan_minus_execute_s": plan["wall_s"] - warm["wall_s"],
    }
    print(
        f"  {warm['rows']:,} rows: cold {cold['wall_s']:.1f}s, warm {warm['wall_s']:.1f}s, "
        f"plan {plan['wall_s']:.1f}s (plan − warm {entry['plan_minus_execute_s']:+.1f}s)",
        flush=True,
    )
    return entry


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
    shutil.rmtree(home, ignore_errors=True)  # cold: a new install, no dbt parse cached
    selection = ["--domains", ",".join(REFERENCE_DOMAINS)]
    cold = run_wdh(conn, root, home, selection)
    warm = run_wdh(conn, root, home, selection)
    original = ORIGINAL_WALL_S.get(rows)
    entry = {
        "rows_per_sheet": rows,
        "cold": cold,
        "warm": warm,
        "original_wall_s": original,
        "speedup": original / warm["wall_s"] if original else None,
    }
    speedup = f"; {entry['speedup']:.1f}x the original's {original}s" if original else ""
    print(f"  cold {cold['wall_s']:.1f}s, warm {warm['wall_s']:.1f}s{speedup}", flush=True)
    return entry


def main() -> None:
    admin = server()
    print("wdh --help, best of 5", flush=True)
    help_s = help_seconds()
    print(f"  {help_s:.3f}s", flush=True)
    sizes = [size_run(admin, rows) for rows in sizes_from("BENCH_SIZES", "30000,100000,300000")]
    small_rows = sizes_from("BENCH_SMALL", "2000")
    small = small_month(admin, small_rows[0]) if small_rows else None
    reference_sizes = sizes_from("BENCH_REFERENCE", "35000,100000") if REFERENCE_GENERATOR.exists() else []
    references = [reference(admin, rows) for rows in reference_sizes]
    report(sizes, small, help_s, references)


def targets(
    sizes: list[dict[str, Any]], small: dict[str, Any] | None, help_s: float, references: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The issue's targets: limit, measured (None: its run was skipped), met."""
    by_size = {r["rows_scale"]: r for r in sizes}
    by_reference = {r["rows_per_sheet"]: r for r in references}

    def reference_figure(rows: int, key: str) -> float | None:
        entry = by_reference.get(rows)
        if entry is None:
            return None
        return float(entry["warm"]["wall_s"]) if key == "wall" else entry["speedup"]

    def size_figure(rows: int, pick: Callable[[dict[str, Any]], float]) -> float | None:
        return pick(by_size[rows]) if rows in by_size else None

    scaling = None
    if 300000 in by_size and 30000 in by_size:
        scaling = by_size[300000]["wall_s"] / by_size[30000]["wall_s"]
    rows: list[tuple[str, str, float, str, float | None]] = [
        ("reference 35k, warm wall", "≤", 5.0, "s", reference_figure(35000, "wall")),
        ("reference 35k, original / warm", "≥", 25.0, "×", reference_figure(35000, "speedup")),
        ("reference 100k, warm wall", "≤", 12.0, "s", reference_figure(100000, "wall")),
        ("reference 100k, original / warm", "≥", 28.0, "×", reference_figure(100000, "speedup")),
        ("规模明细 100k, wall / floor", "≤", 2.0, "×", size_figure(100000, lambda r: r["ratio_to_floor"])),
        ("规模明细 300k, peak RSS", "≤", 1024.0, "MB", size_figure(300000, lambda r: r["peak_rss_mb"])),
        ("规模明细 300k / 30k wall", "≤", 10.0, "×", scaling),
        ("small month, warm execute wall", "≤", 4.0, "s", small["warm"]["wall_s"] if small else None),
        ("small month, plan − warm execute", "≤", 1.0, "s", small["plan_minus_execute_s"] if small else None),
        ("wdh --help", "≤", 0.3, "s", help_s),
    ]
    return [
        {
            "target": name,
            "limit": f"{op} {limit:g} {unit}",
            "measured": value,
            "unit": unit,
            "met": None if value is None else (value <= limit if op == "≤" else value >= limit),
        }
        for name, op, limit, unit, value in rows
    ]


def report(
    sizes: list[dict[str, Any]], small: dict[str, Any] | None, help_s: float, references: list[dict[str, Any]]
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    summary = targets(sizes, small, help_s, references)
    document = {
        "timestamp": stamp,
        "machine": os.uname().nodename,
        "cpus": os.cpu_count(),
        "targets": summary,
        "sizes": sizes,
        "small": small,
        "help_s": help_s,
        "reference": references,
    }
    (RESULTS / f"{stamp}.json").write_text(json.dumps(document, indent=2), encoding="utf-8")

    def stage_cells(run: dict[str, Any]) -> str:
        return " | ".join(f"{run['stages_s'].get(s, 0.0):.2f}" for s in STAGES)

    stage_heads = " | ".join(f"{s} s" for s in STAGES)
    lines = [
        f"# Benchmark {stamp}",
        "",
        f"{os.cpu_count()} CPUs; seconds are wall seconds; see docs/benchmark.md for what each figure means.",
        "",
        "| target | limit | measured | met |",
        "|---|---|---|---|",
    ]
    for t in summary:
        if t["measured"] is None:
            value, met = "not measured", "not measured"
        else:
            decimals = 3 if t["target"] == "wdh --help" else 0 if t["unit"] == "MB" else 2
            value, met = f"{t['measured']:.{decimals}f} {t['unit']}", "yes" if t["met"] else "NO"
        lines.append(f"| {t['target']} | {t['limit']} | {value} | {met} |")

    if sizes:
        lines += [
            "",
            "规模明细 alone (`--domains annuity_performance --execute`, a fresh database and home "
            "per size: cold = the first run, a new install; the figures are of the rerun, warm); "
            "floor = fastexcel read + COPY of the sheet + the domain's whole transformation as one "
            "statement, in the same run on the same data; other s = wall − the stages (interpreter "
            "start-up, imports, run ledger, exit; dbt parses inside transform).",
            "",
            f"| rows | rows read | cold wall s | wall s | {stage_heads} | other s | rows/s | peak RSS MB "
            "| floor s (read/copy/sql) | wall / floor |",
            "|---|---|---|---|" + "---|" * len(STAGES) + "---|---|---|---|---|",
        ]
        for r in sizes:
            f = r["floor"]
            lines.append(
                f"| {r['rows_scale']:,} | {r['rows']:,} | {r['cold_wall_s']:.1f} | {r['wall_s']:.1f} "
                f"| {stage_cells(r)} "
                f"| {r['outside_stages_s']:.2f} | {r['rows_per_s']:,.0f} | {r['peak_rss_mb']:.0f} "
                f"| {f['total_s']:.1f} ({f['read_s']:.1f}/{f['copy_s']:.1f}/{f['transform_s']:.1f}) "
                f"| {r['ratio_to_floor']:.2f} |"
            )
        if len(sizes) > 1:
            first = sizes[0]
            lines.append("")
            lines.append(
                "Wall ratios to the smallest size: "
                + ", ".join(
                    f"{r['rows_scale']:,}/{first['rows_scale']:,} = {r['wall_s'] / first['wall_s']:.2f} "
                    f"(rows × {r['rows_scale'] / first['rows_scale']:g})"
                    for r in sizes[1:]
                )
                + "."
            )

    if small:
        domains = list(small["warm"]["domains"])
        lines += [
            "",
            f"Small month ({small['rows_scale']:,} rows of 规模明细, {small['rows']:,} rows read over "
            "the four data domains, `wdh etl --all-domains`, one run); cold = first --execute on a "
            "fresh database, warm = the same month rerun, plan = the same command without --execute.",
            "",
            f"| run | wall s | {stage_heads} | compare s | other s | "
            + " | ".join(f"{d} s" for d in domains)
            + " | peak RSS MB |",
            "|---|---|" + "---|" * len(STAGES) + "---|---|" + "---|" * len(domains) + "---|",
        ]
        for label in ("cold", "warm", "plan"):
            run = small[label]
            lines.append(
                f"| {label} | {run['wall_s']:.2f} | {stage_cells(run)} "
                f"| {run['stages_s'].get('compare', 0.0):.2f} | {run['outside_stages_s']:.2f} | "
                + " | ".join(f"{run['domains'].get(d, {}).get('total_s', 0.0):.2f}" for d in domains)
                + f" | {run['peak_rss_mb']:.0f} |"
            )

    if references:
        lines += [
            "",
            "Reference workbooks (../shared/bench/gen_workbook.py, rows per sheet, 规模明细 + 收入明细, "
            "--execute); cold = first run on a new warehouse, warm = the same month rerun; the original's "
            "figures are from ../shared/bench/README.md.",
            "",
            "| rows per sheet | cold wall s | warm wall s | warm "
            + " | warm ".join(f"{s} s" for s in STAGES)
            + " | warm other s | warm rows/s | peak RSS MB (cold/warm) | original wall s | original / warm |",
            "|---|---|---|" + "---|" * len(STAGES) + "---|---|---|---|---|",
        ]
        for r in references:
            cold, warm, original = r["cold"], r["warm"], r["original_wall_s"]
            lines.append(
                f"| {r['rows_per_sheet']:,} | {cold['wall_s']:.1f} | {warm['wall_s']:.1f} "
                f"| {stage_cells(warm)} | {warm['outside_stages_s']:.2f} "
                f"| {warm['rows'] / warm['wall_s']:,.0f} "
                f"| {cold['peak_rss_mb']:.0f}/{warm['peak_rss_mb']:.0f} | {original or '-'} | "
                + (f"{r['speedup']:.1f}× |" if original else "- |")
            )

    lines += ["", f"`wdh --help`: {help_s:.3f} s (best of 5)."]
    text = "\n".join(lines) + "\n"
    (RESULTS / "latest.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
