"""The plan's values for what a sandbox may reach and use: its network and its memory.

`network` is "none" (its own empty namespace), "host" (the host's whole network) or a list of
`host:port` destinations reached through Bosun's egress proxy (sandbox/allowlist.py);
a memory cap is a size such as "4G" (K, M, G, T: powers of 1024) or a number of bytes.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema

from bosun.orchestration.sandbox.allowlist import ENTRY_SAY, parse_entry

NETWORK_WORDS = ("none", "host")
NETWORK_SAY = (
    'must be "none", "host" or a list of "host:port" entries, e.g. ["api.anthropic.com:443", "127.0.0.1:8787"]'
)


def _network(value: Any) -> str | tuple[str, ...]:
    if isinstance(value, str):
        if value in NETWORK_WORDS:
            return value
        raise ValueError(f"{NETWORK_SAY}, not {value!r}")
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(NETWORK_SAY)
    for entry in value:
        try:
            parse_entry(entry)
        except ValueError as exc:
            raise ValueError(f"{ENTRY_SAY}: {exc}") from None
    return tuple(value)


Network = Annotated[
    str | tuple[str, ...],
    PlainValidator(_network),
    WithJsonSchema(
        {
            "anyOf": [
                {"enum": list(NETWORK_WORDS)},
                {
                    "type": "array",
                    "items": {"type": "string", "pattern": r"^(\[[0-9A-Fa-f:.]+\]|[^\s:\[\]]+):[0-9]{1,5}$"},
                },
            ]
        }
    ),
]

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?\s*", re.IGNORECASE)
_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
MEMORY_AT_LEAST = 16 << 20


def size_bytes(text: str) -> int:
    """ "4G" -> 4294967296; ValueError when it is not a size."""
    found = _SIZE.fullmatch(str(text))
    if not found:
        raise ValueError(text)
    return int(float(found.group(1)) * _UNITS[found.group(2).upper()])


def _memory(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f'must be a size such as "4G" or "512M", not {value!r}')
    try:
        size = size_bytes(str(value))
    except ValueError:
        raise ValueError(f'must be a size such as "4G" or "512M", not {value!r}') from None
    if size < MEMORY_AT_LEAST:
        raise ValueError(f"must be at least 16M, not {value!r}")
    return str(value).strip()


Memory = Annotated[
    str,
    PlainValidator(_memory),
    WithJsonSchema(
        {"anyOf": [{"type": "string", "pattern": r"^\s*\d+(\.\d+)?\s*([KMGTkmgt]i?[Bb]?)?\s*$"}, {"type": "integer"}]}
    ),
]
