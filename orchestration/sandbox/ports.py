"""A block of ports for each running agent and gate, so two dev servers or two test suites
started side by side never fight over the same port.

Blocks are handed out by this process (the supervisor is the only one starting agents and
gates of a session) from 20000–29999 in blocks of 10, and freed when the process ends. Another
Bosun session on the same machine starts its search at another offset (from its pid) and skips
a block whose first port is already taken on 127.0.0.1; with `network = "none"` a sandbox has
its own loopback anyway, so a clash there is harmless.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass

FIRST, LAST, SIZE = 20000, 29999, 10
BLOCKS = (LAST + 1 - FIRST) // SIZE


@dataclass(frozen=True)
class PortBlock:
    base: int
    count: int = SIZE

    def env(self) -> dict[str, str]:
        return {"BOSUN_PORT_BASE": str(self.base), "BOSUN_PORT_COUNT": str(self.count), "PORT": str(self.base)}


_lock = threading.Lock()
_taken: set[int] = set()
_next = os.getpid() % BLOCKS


def _free_on_host(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_blocks() -> int:
    """How many blocks' first ports are free on 127.0.0.1 now (`bosun doctor`)."""
    return sum(_free_on_host(FIRST + index * SIZE) for index in range(BLOCKS))


def allocate() -> PortBlock:
    """A block no other running agent or gate of this process holds."""
    global _next
    with _lock:
        for step in range(BLOCKS):
            index = (_next + step) % BLOCKS
            base = FIRST + index * SIZE
            if base not in _taken and (_free_on_host(base) or step == BLOCKS - 1):
                _taken.add(base)
                _next = index + 1
                return PortBlock(base)
    raise RuntimeError("no free block of ports left in 20000-29999")


def release(block: PortBlock | None) -> None:
    if block is not None:
        with _lock:
            _taken.discard(block.base)


def held() -> set[int]:
    """The bases handed out now (for tests)."""
    with _lock:
        return set(_taken)
