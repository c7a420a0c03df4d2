"""The one place Bosun reaches into Ray's private API (tests/test_ray_adapter.py pins it).

Ray's driver prints the cluster's error messages ("raylet died", ...) on standard output, which
`bosun run --headless --json` keeps for its events, and logs warnings on standard error, under the
screen. Ray has no setting for the first: `ray._private.worker.listen_error_messages` calls the
module-level `print_to_stdstream`, so that name is replaced with a writer into Bosun's log.
"""

from __future__ import annotations

import logging
from pathlib import Path


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
