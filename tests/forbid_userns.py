"""Run a command as an unprivileged user on a machine that forbids user namespaces, for real.

`python forbid_userns.py UID COMMAND...` (as root): the command runs in a user namespace of its
own where `user.max_user_namespaces` is 0 — that sysctl is per namespace, so the machine's own
setting is untouched — as UID, an ordinary user with no capabilities, which is where bubblewrap
meets a kernel configured like Ubuntu 24.04's or a locked-down container: it cannot create its
sandbox. UID is the caller's own user outside, so the command still reads the caller's files
(a Python under /root, the test's repository) as their owner.
"""

from __future__ import annotations

import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000


def main() -> int:
    uid, command = int(sys.argv[1]), sys.argv[2:]
    ready_r, ready_w = os.pipe()
    mapped_r, mapped_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(ready_r)
        os.close(mapped_w)
        if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWUSER) != 0:
            os._exit(90)
        os.write(ready_w, b"1")
        os.read(mapped_r, 1)  # the parent has written the uid and gid maps
        with open("/proc/sys/user/max_user_namespaces", "w") as limit:
            limit.write("0")
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        os.execvp(command[0], command)
    os.read(ready_r, 1)
    for name, outside in (("uid_map", os.getuid()), ("gid_map", os.getgid())):
        with open(f"/proc/{pid}/{name}", "w") as mapping:
            mapping.write(f"{uid} {outside} 1\n")
    os.write(mapped_w, b"1")
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
