"""What published a month: the code and configuration a run used, for the ledger.

Recorded for every domain of every run (wdh_meta.run_domains.provenance): the wdh
version, the git commit of the checkout it ran from (with a dirty flag), the sha256 of
the domain configuration, the dbt invocation ids, dbt's checksum of each model it
published, and dlt's load id of the staged rows.
"""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

from loader.config import PROJECT_ROOT


def code(config_path: Path) -> dict[str, Any]:
    """The run-wide part: version, checkout and configuration."""
    try:
        version = metadata.version("workdatahub-elt")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit, dirty = _git()
    return {
        "wdh_version": version,
        "git_commit": commit,
        "git_dirty": dirty,
        "config_sha256": hashlib.sha256(config_path.read_bytes()).hexdigest(),
    }


def _git() -> tuple[str | None, bool | None]:
    """(commit, dirty) when running from a git checkout, else (None, None)."""
    if not (PROJECT_ROOT / ".git").exists():
        return None, None
    try:
        commit = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None, None
    return commit, bool(status.strip())
