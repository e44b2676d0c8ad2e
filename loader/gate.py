"""A failing publishing gate, in words.

The gate is the set of blocking dbt data tests on a domain's verdict model. Every one
of them returns the failing rows whole (lineage columns included) and carries its
words in `meta` (dbt_project/macros/tests/), so one mechanism explains any of them:
which rule failed, on which column, up to five rows with file, sheet, Excel row and
value, and what to do.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from loader.errors import WdhError
from loader.transform import FailedTest
from loader.warehouse import Connection, connect

SHOWN_ROWS = 5


class GateFailed(WdhError):
    """A blocking data test found rows that must not be published."""


def gate_failed(conn: Connection, tests: list[FailedTest], period: str | None) -> GateFailed:
    with connect(conn) as pg, pg.cursor() as cur:
        explained = [_explain(cur, test, period or "") for test in tests]
    fixes = list(dict.fromkeys(fix for _, fix in explained))
    return GateFailed(
        "the publishing gate failed, nothing was published: " + "; ".join(text for text, _ in explained),
        hint="; ".join(fixes),
    )


def _explain(cur: Any, test: FailedTest, period: str) -> tuple[str, str]:
    column = test.column
    shown = f'"{column}"::text' if column else "null::text"
    try:
        cur.execute("savepoint explain")
        cur.execute(
            f"select _source_file, _source_sheet, _source_row, {shown} "
            f"from ({test.sql}) as failing order by 1, 2, 3 limit {SHOWN_ROWS}"
        )
        rows = cur.fetchall()
    except Exception:  # a test without lineage columns: say what we know
        cur.execute("rollback to savepoint explain")
        rows = []
    values = ", ".join(dict.fromkeys(str(r[3]) for r in rows)) or "(empty)"
    words = {"column": column or "", "values": values, "period": period}
    rule, fix = test.rule.format(**words), test.fix.format(**words)
    count = test.failures or len(rows)
    sheets = ", ".join(dict.fromkeys(str(r[1]) for r in rows)) or test.name
    return f"{count} row{'s' if count != 1 else ''} of {sheets} {rule}{_where(rows, count)}", fix


def _where(rows: list[tuple[Any, ...]], count: int) -> str:
    """' (rows 5, 9, 12 of a.xlsx · 规模明细 and 3 more)'"""
    if not rows:
        return ""
    by_place: dict[tuple[str, str], list[str]] = defaultdict(list)
    for file, sheet, row, _ in rows:
        by_place[(file, sheet)].append(str(row))
    places = "; ".join(
        f"{'row' if len(r) == 1 else 'rows'} {', '.join(r)} of {file} · {sheet}"
        for (file, sheet), r in by_place.items()
    )
    more = f" and {count - len(rows)} more" if count > len(rows) else ""
    return f" ({places}{more})"
