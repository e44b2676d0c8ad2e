"""What the reference back-fill (enrichment.md §4) adds, measured before it writes.

The candidate rows are dbt models (macros/backfill/, models `int_*_candidates`) built
right after the gate; the write is dbt's too (macro write_references, in the
migration step's transaction). Here, for --execute and plans alike, the candidate keys
are compared with the target's reference tables, read-only: how many keys the publish
adds to each table, and how many existing customers gain a tag.
"""

from __future__ import annotations

from typing import Any

from loader.warehouse import Connection, connect


def backfill_changes(
    work: Connection, target: Connection | None, candidates: list[tuple[str, dict[str, Any]]]
) -> dict[str, dict[str, int]]:
    """Per reference table: candidate keys, keys new to the target, customers whose tags grow."""
    changes: dict[str, dict[str, int]] = {}
    for model, backfill in candidates:
        key, merge = backfill["key"], backfill["mode"] == "merge_tags"
        with connect(work) as pg, pg.cursor() as cur:
            tags = ", tags" if merge else ""
            cur.execute(f'select "{key}"::text{tags} from wdh_work.{model}')
            rows = {row[0]: (row[1] if merge else None) for row in cur.fetchall()}
        existing = _existing(target, backfill["table"], key, list(rows), merge)
        change = changes.setdefault(backfill["table"], {"candidates": 0, "new": 0, "tags_merged": 0})
        change["candidates"] += len(rows)
        change["new"] += sum(1 for k in rows if k not in existing)
        if merge:
            change["tags_merged"] += sum(
                1 for k, old in existing.items() if any(tag not in (old or []) for tag in rows[k] or [])
            )
    return changes


def _existing(
    target: Connection | None, table: str, key: str, keys: list[str], merge: bool
) -> dict[str, list[str] | None]:
    """The candidate keys the target's table has already (with their tags when merged)."""
    if target is None or not keys:
        return {}
    with connect(target) as pg, pg.cursor() as cur:
        cur.execute("select to_regclass(%s)", (table,))
        if cur.fetchone()[0] is None:
            return {}
        tags = ", tags" if merge else ""
        cur.execute(f'select "{key}"::text{tags} from {table} where "{key}"::text = any(%s)', (keys,))
        return {row[0]: (row[1] if merge else None) for row in cur.fetchall()}
