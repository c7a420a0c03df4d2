"""What a running agent is doing, by its stream (a tool running, waiting for the model, done), for
`bosun status` and the agents table: each log read incrementally through its own Transcript."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from bosun.orchestration.agents.transcript import Transcript

COLD_START_BYTES = 64_000
"""A log first seen mid-session is read from this far before its end."""
_WATCHED: OrderedDict[Path, tuple[int, Transcript, bytes]] = OrderedDict()
_MAX_WATCHED = 256


def stream_activity(log: Path) -> str | None:
    """What the agent writing `log` is doing by its stream (None when it has said nothing that
    tells): each call reads only what was added since the last."""
    try:
        size = os.stat(log).st_size
    except OSError:
        return None
    offset, transcript, partial = _WATCHED.pop(log, (0, None, b""))
    cut = False
    if transcript is None or size < offset:
        transcript, partial, offset = Transcript(), b"", max(0, size - COLD_START_BYTES)
        cut = offset > 0  # the first line read is a piece of one: dropped
    if size > offset:
        with open(log, "rb") as handle:
            handle.seek(offset)
            data = partial + handle.read(size - offset)
        offset = size
        *lines, partial = data.split(b"\n")
        for line in lines[1:] if cut else lines:
            if line.lstrip().startswith(b"{"):
                transcript.feed(line.decode("utf-8", errors="replace"))
    _WATCHED[log] = (offset, transcript, partial)
    while len(_WATCHED) > _MAX_WATCHED:
        _WATCHED.popitem(last=False)
    return transcript.activity
