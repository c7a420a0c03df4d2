"""The one place Bosun reaches into Ray's private API (tests/test_ray_adapter.py pins it), and
works around what Ray's driver does to the process it starts in.

Ray's driver prints the cluster's error messages ("raylet died", ...) on standard output, which
`bosun run --headless --json` keeps for its events, and logs warnings on standard error, under the
screen. Ray has no setting for the first: `ray._private.worker.listen_error_messages` calls the
module-level `print_to_stdstream`, so that name is replaced with a writer into Bosun's log.

`ray.init` also turns Python's `faulthandler` on when it is off, on `sys.stderr`, and lets only
`io.UnsupportedOperation` pass. Under the screen `sys.stderr` is Textual's capture, whose
`fileno()` is -1: `faulthandler.enable` raises RuntimeError and `ray.init` fails, so with the screen
not one unit started (issue 32). `fault_log` turns it on first, on a real file.
"""

from __future__ import annotations

import faulthandler
import logging
import sys
from pathlib import Path

_FAULT_FILE = None
"""The file `faulthandler` writes to when Bosun turned it on (kept open while it may write)."""


def quiet_driver(log: Path) -> None:
    """Send the driver's printed cluster errors and Ray's logged warnings to `log`."""
    from ray._private import worker

    log.parent.mkdir(parents=True, exist_ok=True)
    ray_logger = logging.getLogger("ray")
    if not any(getattr(h, "baseFilename", None) == str(log) for h in ray_logger.handlers):
        ray_logger.addHandler(logging.FileHandler(log, encoding="utf-8"))
    ray_logger.propagate = False

    def to_log(data: dict, ignore_prefix: bool) -> None:
        with open(log, "a", encoding="utf-8") as handle:
            for line in data.get("lines", []):
                handle.write(f"{data.get('pid', '')}: {line}\n")

    worker.print_to_stdstream = to_log
    fault_log(log)


def has_descriptor(stream) -> bool:
    """True when `stream` is backed by an open file descriptor (Textual's capture is not: -1)."""
    try:
        return stream is not None and stream.fileno() >= 0
    except (AttributeError, OSError, ValueError):
        return False


def fault_log(log: Path) -> None:
    """Before `ray.init`: when `faulthandler` is off and `sys.stderr` has no file descriptor (the
    screen's capture), turn it on writing to `log`, so that Ray leaves it alone and a fatal error
    of the supervisor (a crash in Ray's C++ core) still leaves its Python stacks somewhere. With a
    real standard error (headless) Ray turns it on there, as it always did."""
    global _FAULT_FILE
    if faulthandler.is_enabled() or has_descriptor(sys.stderr):
        return
    handle = open(log, "a", encoding="utf-8")  # noqa: SIM115 - open for as long as faulthandler may write
    faulthandler.enable(file=handle, all_threads=True)
    if _FAULT_FILE is not None:
        _FAULT_FILE.close()
    _FAULT_FILE = handle


def release_fault_log() -> None:
    """After `ray.shutdown`: `faulthandler` off again if `fault_log` turned it on (as it found it)."""
    global _FAULT_FILE
    if _FAULT_FILE is not None:
        faulthandler.disable()
        _FAULT_FILE.close()
        _FAULT_FILE = None
