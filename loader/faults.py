"""Test-only fault injection: `WDH_FAULT_AT=<point>` kills the process with SIGKILL
when the run reaches that point, so tests can prove a crash anywhere loses nothing.
With `WDH_FAULT_KIND=swallowed-sigterm` the process sends itself SIGTERM from inside a
finalizer instead, where Python swallows the handler's exception ("Exception ignored
in …"): the run must still stop (loader/interrupts.py).

Points: after_read, mid_stage, between_dbt_layers, before_publish, after_publish.
"""

from __future__ import annotations

import logging
import os
import signal

POINTS = ("after_read", "mid_stage", "between_dbt_layers", "before_publish", "after_publish")

log = logging.getLogger(__name__)


class _SignalInFinalizer:
    def __del__(self) -> None:
        os.kill(os.getpid(), signal.SIGTERM)


def fault(point: str) -> None:
    if os.environ.get("WDH_FAULT_AT") != point:
        return
    if os.environ.get("WDH_FAULT_KIND") == "swallowed-sigterm":
        log.warning("WDH_FAULT_AT=%s: SIGTERM from a finalizer", point)
        _SignalInFinalizer()  # dropped at once: __del__ runs here and its exception is swallowed
        return
    log.warning("WDH_FAULT_AT=%s: killing the process", point)
    os.kill(os.getpid(), signal.SIGKILL)
