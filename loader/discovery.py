"""Find a domain's workbook(s) for a period (spec/domains.md §0.1)."""

from __future__ import annotations

import fnmatch
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from loader.config import Domain, validate_period
from loader.errors import WdhError

_VERSION = re.compile(r"V(\d+)")


@dataclass(frozen=True)
class Discovery:
    folder: Path  # the folder searched (a version folder or the base path)
    version: str  # "V3" or "base"
    files: tuple[Path, ...]


def resolve_base_path(domain: Domain, data_dir: Path, period: str | None) -> Path:
    template = domain.base_path
    if re.search(r"\{(YYYYMM|YYYY|MM)\}", template):
        if not period:
            raise WdhError(f"domain {domain.name} needs --period (its folder is {template})")
        validate_period(period)
        template = (
            template.replace("{YYYYMM}", period).replace("{YYYY}", period[:4]).replace("{MM}", period[4:])
        )
    return data_dir / template


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _matches(folder: Path, patterns: tuple[str, ...], excludes: tuple[str, ...]) -> list[Path]:
    """Union of include globs in `folder` (recursive only for `**/`), minus excluded file names.

    Every matching entry counts, readable or not (`_check_readable` says why not)."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        recursive = pattern.startswith("**/")
        name_pattern = _nfc(pattern[3:] if recursive else pattern)
        candidates = folder.rglob("*") if recursive else folder.iterdir()
        for path in sorted(candidates):
            if fnmatch.fnmatchcase(_nfc(path.name), name_pattern):
                found[path] = None
    return [
        path for path in found if not any(fnmatch.fnmatchcase(_nfc(path.name), _nfc(ex)) for ex in excludes)
    ]


def _unreadable(path: Path) -> str | None:
    """Why a matching entry cannot be read as a workbook, or None when it can."""
    if path.is_symlink() and not path.exists():
        return f"a symbolic link to {os.readlink(path)}, which does not exist"
    if path.is_dir():
        return "a directory, not a file"
    if not path.is_file():
        return "not a regular file"
    if not os.access(path, os.R_OK):
        return "not readable by this user (no read permission)"
    return None


def _check_readable(domain: Domain, files: list[Path]) -> None:
    for path in files:
        reason = _unreadable(path)
        if reason is not None:
            raise WdhError(
                f"{path} matches domain {domain.name} but cannot be read: it is {reason}",
                hint="fix or remove it, or exclude it with exclude_patterns in config/data_sources.yml",
            )


def _version_folders(base: Path) -> list[tuple[int, Path]]:
    return sorted(
        (int(m.group(1)), child)
        for child in base.iterdir()
        if child.is_dir() and (m := _VERSION.fullmatch(child.name))
    )


def _choose_version(domain: Domain, base: Path, strategy: str) -> tuple[Path, str]:
    qualified = [
        (number, folder)
        for number, folder in _version_folders(base)
        if _matches(folder, domain.file_patterns, domain.exclude_patterns)
    ]
    if not qualified:
        return base, "base"
    if strategy == "highest_number":
        number, folder = qualified[-1]
        return folder, f"V{number}"
    by_mtime = sorted(qualified, key=lambda item: item[1].stat().st_mtime)
    if len(by_mtime) > 1 and by_mtime[-1][1].stat().st_mtime - by_mtime[-2][1].stat().st_mtime < 1:
        raise WdhError(
            f"version folders {by_mtime[-2][1].name} and {by_mtime[-1][1].name} in {base} were modified "
            "within 1 s of each other; cannot tell which is latest",
            hint="touch the intended folder, or use version_strategy: highest_number",
        )
    return by_mtime[-1][1], by_mtime[-1][1].name


def discover(
    domain: Domain,
    data_dir: Path,
    period: str | None,
    *,
    file_selection: str | None = None,
    max_files: int = 1,
) -> Discovery:
    base = resolve_base_path(domain, data_dir, period)
    if not base.is_dir():
        raise WdhError(
            f"no folder for domain {domain.name}" + (f" and period {period}" if period else "") + f": {base}",
            hint=f"put the month's files under {base}, or point --data-dir at the data root",
        )
    try:
        folder, version = _choose_version(domain, base, domain.version_strategy)
    except WdhError:
        if domain.fallback != "use_latest_modified":
            raise
        folder, version = _choose_version(domain, base, "latest_modified")
    files = _matches(folder, domain.file_patterns, domain.exclude_patterns)
    if not files:
        raise WdhError(
            f"no file for domain {domain.name} in {folder} (also looked in its V<n> folders) "
            f"matching {', '.join(domain.file_patterns)} "
            f"(excluding {', '.join(domain.exclude_patterns) or 'nothing'})",
            hint="check the file name against the patterns in config/data_sources.yml",
        )
    _check_readable(domain, files)
    files.sort(key=lambda p: _nfc(p.name))
    selection = file_selection or domain.file_selection
    if len(files) > max_files:
        if selection == "error":
            listing = "\n".join(f"    {p}" for p in files)
            raise WdhError(
                f"{len(files)} files match domain {domain.name} in {folder}, expected "
                f"{'one' if max_files == 1 else f'at most {max_files}'}: ambiguous\n{listing}",
                hint="remove the stale file, or choose with --file-selection newest|oldest|first",
            )
        if selection in ("newest", "oldest"):
            files.sort(key=lambda p: p.stat().st_mtime, reverse=selection == "newest")
        files = files[:max_files]
        files.sort(key=lambda p: _nfc(p.name))
    return Discovery(folder=folder, version=version, files=tuple(files))
