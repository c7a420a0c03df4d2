"""Runs one command on a cluster node so that nothing it starts outlives the process that asked.

Ray's worker process (an agent's actor, a gate's task) can die at any moment: the node is
lost, the task is cancelled with force, the supervisor's driver goes away. Ray then kills the
worker, not what the worker started in a session of its own. The keeper leads the command's
process group, asks the kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG), and
answers any SIGTERM by killing the whole group, itself included.

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


def main(argv: list[str]) -> int:
    parent, command = int(argv[0]), argv[2:]
    signal.signal(signal.SIGTERM, _kill_group)
    signal.signal(signal.SIGHUP, _kill_group)
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request above took effect
        _kill_group()
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
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
    code = os.waitstatus_to_exitcode(status)  # what it left in the group: killed by Child.wait
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
