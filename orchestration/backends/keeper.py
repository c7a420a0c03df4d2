"""Runs one command on a cluster node so that nothing it starts outlives the process that asked.

Ray's worker process (an agent's actor, a gate's task) can die at any moment: the node is
lost, the task is cancelled with force, the supervisor's driver goes away. Ray then kills the
worker and, at most, the worker's own children (this keeper, with SIGKILL), never what they
started. So the keeper leads the command's process group and keeps a guard in it: the keeper
asks the kernel for SIGTERM when the worker dies (PR_SET_PDEATHSIG), the guard for SIGTERM when
the keeper dies, and either answers by killing the whole group, itself included.

    python -I -S keeper.py PARENT_PID -- COMMAND...
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def _kill_group(*_: object) -> None:
    os.killpg(0, signal.SIGKILL)


def _die_with(parent: int) -> None:
    """SIGTERM (which kills the group) as soon as `parent` is gone, even if it is gone already."""
    signal.signal(signal.SIGTERM, _kill_group)
    signal.signal(signal.SIGHUP, _kill_group)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:
        _kill_group()


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[2:]
    _die_with(parent)
    keeper = os.getpid()
    if os.fork() == 0:  # the guard: it only waits for the keeper to die
        _die_with(keeper)
        while True:
            signal.pause()
    pid = os.fork()
    if pid == 0:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        try:
            os.execvp(command[0], command)
        except OSError as exc:
            print(f"bosun: cannot run {command[0]}: {exc}", flush=True)
            os._exit(127)
    while True:
        try:
            _, status = os.waitpid(pid, 0)
            break
        except ChildProcessError:
            return 127
    code = os.waitstatus_to_exitcode(status)  # what it left in the group: killed by the guard
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
