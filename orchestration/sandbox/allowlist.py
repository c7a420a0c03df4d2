"""Which destinations one sandbox may reach: its `network` list, `host:port` entries.

A name matches exactly or, written `*.example.org`, any name below it; the port must match.
The proxy resolves a name itself and connects to an address it checked: a public address is
fine, but a loopback, link-local (the cloud metadata address among them), private, unspecified
or otherwise special one only when the list names that very IP literally with that port, so
`localhost:8787` never opens 127.0.0.1 while `127.0.0.1:8787` does.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_NAME = re.compile(r"(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?")
ENTRY_SAY = 'must be "host:port" entries, e.g. ["api.anthropic.com:443", "127.0.0.1:8787", "*.npmjs.org:443"]'


@dataclass(frozen=True)
class Entry:
    """One allowed destination: a name (`*.` suffix allowed) or an IP literal, and a port."""

    host: str
    port: int

    @property
    def literal(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    def names(self, host: str) -> bool:
        host = host.lower().rstrip(".")
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        literal = self.literal
        if literal is not None:
            try:
                return ipaddress.ip_address(host) == literal
            except ValueError:
                return False
        return host == self.host

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_entry(text: str) -> Entry:
    """`host:port` (`[::1]:8080` for IPv6) as an Entry; ValueError with the reason otherwise."""
    text = text.strip()
    if text.startswith("["):
        host, sep, port = text[1:].partition("]:")
        if not sep:
            raise ValueError(f"{text!r} is not host:port")
        ipaddress.IPv6Address(host)
    else:
        host, sep, port = text.rpartition(":")
        if not sep or not host:
            raise ValueError(f"{text!r} is not host:port (a port is needed, e.g. {text}:443)")
        if not _NAME.fullmatch(host):
            raise ValueError(f"{text!r}: {host!r} is not a host name or an IP address")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return Entry(host.lower().rstrip("."), int(port))


def special(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Loopback, link-local (metadata), private, unspecified, multicast or reserved: never reached by name."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


@dataclass(frozen=True)
class AllowList:
    entries: tuple[Entry, ...]

    @classmethod
    def of(cls, texts: tuple[str, ...] | list[str]) -> AllowList:
        return cls(tuple(parse_entry(t) for t in texts))

    def match(self, host: str, port: int) -> Entry | None:
        """The entry naming this destination, or None."""
        return next((e for e in self.entries if e.port == port and e.names(host)), None)

    def admits(self, address: str, port: int) -> bool:
        """Whether the proxy may connect to this resolved address: public, or named literally."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not special(ip):
            return True
        return any(e.port == port and e.literal is not None and e.literal == ip for e in self.entries)


def endpoint_of(url: str) -> str | None:
    """`host:port` of an http(s) URL (the scheme's port when none is written), or None."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or port is None:
        return None
    host = parts.hostname
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
