"""Whether bubblewrap works here, asked once per process.

`auto` must know before the first agent starts whether it can keep its promise, and say so
loudly when it cannot; `required` must refuse to start instead. Running `bwrap ... true` with
the very namespaces Bosun uses is the only honest test (a binary on PATH may still be denied
user namespaces by the kernel or a container runtime).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

# Tests (and people without bwrap) point this at another binary, or at "" to mean "not installed".
OVERRIDE = "BOSUN_BWRAP"


def bwrap_path() -> str | None:
    """The bwrap binary to use: `$BOSUN_BWRAP` when set ("" = none), else `bwrap` on PATH."""
    if OVERRIDE in os.environ:
        return os.environ[OVERRIDE] or None
    return shutil.which("bwrap")


@functools.cache
def _probe(binary: str | None) -> tuple[bool, str]:
    if binary is None:
        return False, "bubblewrap (bwrap) is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    argv = [
        binary,
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/",
        "/",
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--tmpfs",
        "/tmp",
        "true",
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{binary} cannot run: {exc}"
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return False, f"{binary} cannot create a sandbox here: {detail}"
    return True, f"bubblewrap works ({binary})"


def probe() -> tuple[bool, str]:
    """(works, why): cached per binary, so the cost (a few ms) is paid once per process."""
    return _probe(bwrap_path())
