"""Read workbook sheets into Arrow, faithfully (spec/domains.md §0.2).

Every cell is read as text, so codes keep their exact spelling ('0234760738' stays
text); dbt casts and cleans. Headers are normalised and aliased here because the
required-column check must happen before anything is written.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loader.config import Domain
from loader.errors import SourceError

if TYPE_CHECKING:
    import pyarrow as pa

log = logging.getLogger(__name__)

# §0.2: a cell whose whole, untrimmed text is one of these is NULL before any rule runs.
NA_STRINGS = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
HEADER_SEARCH_ROWS = 20


@dataclass
class SheetRead:
    file: Path
    sheet: str
    header_row: int  # Excel row number of the header
    rows: int
    ignored_columns: list[str] = field(default_factory=list)


@dataclass
class DomainRead:
    table: pa.Table
    sheets: list[SheetRead]
    file_hashes: dict[Path, str]

    @property
    def rows(self) -> int:
        return int(self.table.num_rows)


def normalise_header(value: object) -> str:
    """strip; full-width space and newline/tab to space; then remove all whitespace."""
    text = "" if value is None else str(value)
    text = text.strip().replace("\u3000", " ")
    return re.sub(r"\s+", "", text)


def normalise_headers(values: Iterable[object], aliases: dict[str, str]) -> list[str]:
    names: list[str] = []
    seen: dict[str, int] = {}
    unnamed = 0
    for value in values:
        name = normalise_header(value)
        if not name:
            unnamed += 1
            name = f"Unnamed_{unnamed}"
        name = aliases.get(name, name)
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 0
        names.append(name)
    return names


@functools.lru_cache(maxsize=8)
def _cached_sha256(path: Path, mtime_ns: int, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    stat = path.stat()
    return _cached_sha256(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _cached_reader(path: Path, mtime_ns: int, size: int) -> Any:
    """One fastexcel reader per workbook version: domains sharing a workbook open it once."""
    import fastexcel

    return fastexcel.read_excel(str(path))


def _open(path: Path, display: str) -> Any:
    if not path.is_file():
        raise SourceError("file not found", file=display, hint="check the path")
    try:
        with path.open("rb"):
            pass
    except PermissionError:
        raise SourceError(
            "file cannot be read (permission denied)",
            file=display,
            hint="give the user running wdh read permission on the file",
        ) from None
    try:
        stat = path.stat()
        return _cached_reader(path, stat.st_mtime_ns, stat.st_size)
    except Exception as exc:  # fastexcel raises its own hierarchy, all of it means unreadable
        raise SourceError(
            f"not a readable Excel workbook: {str(exc).strip().splitlines()[0]}",
            file=display,
            hint="open and re-save the file in Excel; a truncated copy must be fetched again",
        ) from None


def _header_index(rows: list[list[str | None]], domain: Domain) -> int:
    """The first row holding every required column; else the first non-empty row."""
    first_filled = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if not any(cell not in (None, "") for cell in row):
            continue
        if first_filled is None:
            first_filled = index
        names = set(normalise_headers(row, domain.aliases))
        if set(domain.required_columns) <= names:
            return index
    return first_filled if first_filled is not None else 0


def read_sheet(
    workbook: Any, path: Path, sheet: str | int, domain: Domain, period: str | None, display: str, sha256: str
) -> tuple[pa.Table, SheetRead] | None:
    """One sheet as an all-text Arrow table with declared columns and lineage; None if the sheet is absent."""
    import pyarrow as pa
    import pyarrow.compute as pc

    names = workbook.sheet_names
    if isinstance(sheet, int):
        if sheet >= len(names):
            return None
        sheet_name = str(names[sheet])
    else:
        sheet_name = sheet
    if sheet_name not in names:
        return None
    try:
        loaded = workbook.load_sheet(sheet_name, header_row=None, skip_rows=0, dtypes="string")
        raw = loaded.to_arrow()
        del loaded  # the parsed cells: about four times the Arrow table (600 MB at 300k rows)
    except Exception as exc:
        raise SourceError(
            f"sheet cannot be read: {str(exc).strip().splitlines()[0]}",
            file=display,
            sheet=sheet_name,
            hint="open and re-save the workbook in Excel",
        ) from None

    head = raw.slice(0, HEADER_SEARCH_ROWS).to_pylist()
    head_rows = [list(row.values()) for row in head]
    if not head_rows:
        raise SourceError(
            "sheet is empty",
            file=display,
            sheet=sheet_name,
            hint="check that the right workbook was delivered; the sheet needs a header row and data",
        )
    header_index = _header_index(head_rows, domain)
    header_names = normalise_headers(head_rows[header_index], domain.aliases)
    missing = [c for c in domain.required_columns if c not in header_names]
    if missing:
        raise SourceError(
            f"required column(s) {', '.join(missing)} not found in the header "
            f"(found: {', '.join(h for h in header_names if not h.startswith('Unnamed_'))})",
            file=display,
            sheet=sheet_name,
            row=header_index + 1,
            column=missing[0],
            hint="rename the column in the workbook, or add its spelling to the domain's "
            "columns.aliases in config/data_sources.yml",
        )
    data = raw.slice(header_index + 1)
    data = data.rename_columns(header_names)
    excel_rows = pa.array(range(header_index + 2, header_index + 2 + data.num_rows), pa.int64())

    na = pa.array(NA_STRINGS, pa.string())
    cleaned = []
    for column in data.columns:
        text = column.cast(pa.string())
        text = pc.if_else(pc.is_in(text, value_set=na), pa.scalar(None, pa.string()), text)
        text = pc.utf8_trim_whitespace(text)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        cleaned.append(text)
    blank = None
    for text in cleaned:
        blank = pc.is_null(text) if blank is None else pc.and_(blank, pc.is_null(text))
    keep = pc.invert(blank) if blank is not None else pa.array([True] * data.num_rows)

    declared = domain.columns
    columns: dict[str, pa.ChunkedArray | pa.Array] = {}
    for name in declared:
        if name in header_names:
            columns[name] = cleaned[header_names.index(name)]
        else:
            columns[name] = pa.nulls(data.num_rows, pa.string())
    table = pa.table(columns).filter(keep)
    rows = table.num_rows
    table = table.append_column("_source_file", pa.array([display] * rows, pa.string()))
    table = table.append_column("_source_sheet", pa.array([sheet_name] * rows, pa.string()))
    table = table.append_column("_source_row", excel_rows.filter(keep))
    table = table.append_column("_file_sha256", pa.array([sha256] * rows, pa.string()))
    table = table.append_column("_period", pa.array([period] * rows, pa.string()))
    info = SheetRead(
        file=path,
        sheet=sheet_name,
        header_row=header_index + 1,
        rows=rows,
        ignored_columns=[h for h in header_names if h not in declared and not h.startswith("Unnamed_")],
    )
    return table, info


def read_domain(
    files: Iterable[Path],
    domain: Domain,
    period: str | None,
    *,
    data_dir: Path,
    sheets: tuple[str | int, ...] | None = None,
) -> DomainRead:
    """Read every configured sheet of every file and concatenate them in order."""
    import pyarrow as pa

    wanted = sheets or domain.sheet_names
    tables: list[pa.Table] = []
    reads: list[SheetRead] = []
    hashes: dict[Path, str] = {}
    for path in files:
        display = _display(path, data_dir)
        workbook = _open(path, display)
        hashes[path] = file_sha256(path)
        found_any = False
        for sheet in wanted:
            result = read_sheet(workbook, path, sheet, domain, period, display, hashes[path])
            if result is None:
                log.warning("sheet %r not found in %s; skipped", sheet, display)
                continue
            found_any = True
            tables.append(result[0])
            reads.append(result[1])
        if not found_any:
            available = workbook.sheet_names
            raise SourceError(
                f"workbook has none of the expected sheet(s) {', '.join(map(str, wanted))} "
                f"(it has: {', '.join(available)})",
                file=display,
                hint="use --sheet NAME to read a differently named sheet",
            )
    table = pa.concat_tables(tables) if tables else pa.table({})
    return DomainRead(table=table, sheets=reads, file_hashes=hashes)


def _display(path: Path, data_dir: Path) -> str:
    try:
        return str(path.resolve().relative_to(data_dir.resolve()))
    except ValueError:
        return str(path)
