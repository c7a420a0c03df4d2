"""The clock leases are timed on. Wall time jumps (NTP steps, a hand-set date, a VM resumed):
forward, every live lease would look run out and be stolen; back, a dead holder's lease would
last as long as the jump. The boot clock (CLOCK_BOOTTIME) never jumps, counts time spent
suspended (a lease means "heard from within lease seconds of real time"), and is one clock for
every process of the machine — and every process that opens a session store is on one machine,
since SQLite's WAL mode (the store's) works only there. It restarts at each boot, so a reading
carries the boot's id: a lease taken in an earlier boot has run out (its holder died with it)."""

from __future__ import annotations

import time
from pathlib import Path

_CLOCK = getattr(time, "CLOCK_BOOTTIME", None)


def lease_clock() -> float:
    """Seconds since boot, suspended time included; monotonic where there is no boot clock."""
    return time.clock_gettime(_CLOCK) if _CLOCK is not None else time.monotonic()


def _boot_id() -> str | None:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip() or None
    except OSError:  # not Linux: a reboot is not told apart, a lease from before it may outlast it
        return None


BOOT_ID = _boot_id()
"""This boot's id (Linux's random boot id), or None where the system does not say."""
