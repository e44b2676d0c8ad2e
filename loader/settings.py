"""Settings from the process environment or the env file, as the original system read them.

The env file is `.wdh_env` in the current directory, or the file `WDH_ENV_FILE` names. It
holds `KEY=VALUE` lines; `#` starts a comment line (or, after a space, a comment at the end
of an unquoted value); values may be quoted; an `export ` prefix is allowed. A variable of
the process environment wins over the same key in the file; an empty value counts as unset.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from loader.errors import WdhError

ENV_FILE = ".wdh_env"


@dataclass(frozen=True)
class Setting:
    key: str
    value: str
    file: Path | None  # the env file it came from; None: the process environment

    @property
    def origin(self) -> str:
        """Where the setting came from, for messages: `KEY` or `KEY in /path/.wdh_env`."""
        return self.key if self.file is None else f"{self.key} in {self.file}"


def env_file() -> Path | None:
    """The env file to read: the one `WDH_ENV_FILE` names (it must exist), else `./.wdh_env` if present."""
    named = os.environ.get("WDH_ENV_FILE")
    if named:
        path = Path(named).resolve()
        if not path.exists() or path.is_dir():
            raise WdhError(
                f"WDH_ENV_FILE names {path}, which is not a file",
                hint="create the file, or unset WDH_ENV_FILE to read ./.wdh_env",
            )
        return path
    default = Path(ENV_FILE).resolve()
    return default if default.is_file() else None


def read_env_file(path: Path) -> dict[str, str]:
    """The KEY=VALUE pairs of an env file."""
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise WdhError(
                f"{path} line {number} is not KEY=VALUE: {key.strip()[:40]!r}",
                hint="write one setting per line, e.g. WDH_DATABASE__URI=postgresql://user:pass@host:5432/db",
            )
        values[key.strip()] = _unquote(value.strip())
    return values


def _unquote(value: str) -> str:
    """The value without its quotes, or without a trailing ` # comment` when unquoted."""
    if value[:1] in ("'", '"') and (end := value.find(value[0], 1)) > 0:
        return value[1:end]
    return re.split(r"\s#", value, maxsplit=1)[0].rstrip()


def setting(key: str) -> Setting | None:
    """`key` from the process environment, else from the env file; None when neither has a value."""
    path = env_file()
    value = os.environ.get(key)
    if value:
        return Setting(key, value, None)
    value = read_env_file(path).get(key) if path is not None else None
    return Setting(key, value, path) if value else None
