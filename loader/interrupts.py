"""Ctrl+C and SIGTERM, never lost.

The handler records the signal and raises KeyboardInterrupt. Python can swallow an
exception raised from a handler (while it runs an import-lock callback or a finalizer
it prints "Exception ignored in …" and goes on), so the run also calls `check()` at
every stage boundary and before publishing: a recorded signal always stops the domain
in progress before it publishes.
"""

from __future__ import annotations

import signal
from typing import Any

_received: list[int] = []


def install() -> None:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _handler)


def _handler(signum: int, frame: Any) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def received() -> bool:
    return bool(_received)


def check() -> None:
    """Raise KeyboardInterrupt if a signal arrived, even one whose exception was swallowed."""
    if _received:
        raise KeyboardInterrupt
