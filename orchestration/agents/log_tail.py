"""What an attempt's log gained since the last read, as whole lines: the Output tab and `bosun log`
follow a log the same way. A line still being written waits for its end; a log replaced by a
shorter one is read again from its start; one opened far into its length starts near its end."""

from __future__ import annotations

import os
from pathlib import Path


class LogTail:
    def __init__(self, path: Path, start: int | None = None, chunk: int | None = None) -> None:
        """`start`: read only the last `start` bytes there are now (the cut first line dropped);
        `chunk`: read at most this much at a time (a log that grew faster is caught up next time)."""
        self.path, self.chunk = path, chunk
        self.offset, self.partial, self.cut = 0, b"", False
        if start is not None:
            try:
                size = os.stat(path).st_size
            except OSError:
                size = 0
            self.offset = max(0, size - start)
            self.cut = self.offset > 0

    def read_bytes(self) -> bytes:
        """The bytes the log gained (b"" while it is missing or unchanged)."""
        try:
            size = os.stat(self.path).st_size
        except OSError:
            return b""
        if size < self.offset:  # the log was replaced: start again
            self.offset, self.partial = 0, b""
        if size == self.offset:
            return b""
        with open(self.path, "rb") as handle:
            handle.seek(self.offset)
            data = handle.read(size - self.offset if self.chunk is None else min(size - self.offset, self.chunk))
        self.offset += len(data)
        return data

    def lines(self, last: bool = False) -> list[str]:
        """The whole lines the log gained; `last`: the one still unfinished too (the log has ended)."""
        *complete, self.partial = (self.partial + self.read_bytes()).split(b"\n")
        if last and self.partial:
            complete.append(self.partial)
            self.partial = b""
        if self.cut and complete:
            complete, self.cut = complete[1:], False
        return [line.decode("utf-8", errors="replace") for line in complete]
