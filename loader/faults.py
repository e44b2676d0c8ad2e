"""Test-only fault injection: `WDH_FAULT_AT=<point>` kills the process with SIGKILL
when the run reaches that point, so tests can prove a crash anywhere loses nothing.

Points: after_read, mid_stage, between_dbt_layers, before_publish, after_publish.
"""

from __future__ import annotations

import logging
import os
import signal

POINTS = ("after_read", "mid_stage", "between_dbt_layers", "before_publish", "after_publish")

log = logging.getLogger(__name__)


def fault(point: str) -> None:
    if os.environ.get("WDH_FAULT_AT") == point:
        log.warning("WDH_FAULT_AT=%s: killing the process", point)
        os.kill(os.getpid(), signal.SIGKILL)
