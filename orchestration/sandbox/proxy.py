"""The egress proxy: the one way out of a sandbox whose `network` is a list of destinations.

Such a sandbox has no network of its own (`--unshare-net`: only its own loopback, and its own
abstract Unix sockets). Bosun gives it a Unix socket, bound into the box, where this proxy
listens; a relay inside (relay.py) serves it as an HTTP proxy on the box's loopback. The proxy
reads one request head (CONNECT for HTTPS, an absolute URL for plain HTTP), checks it against
the allow-list (allowlist.py), resolves the name itself and connects to the address it checked.
Anything refused gets a 403 and is told to `on_denied` (the supervisor's `egress_denied` event).

One asyncio loop in a thread of its own serves every sandbox of this process.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import shutil
import socket
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from bosun.orchestration.sandbox.allowlist import AllowList

HEAD_MAX, HEAD_TIMEOUT_S, CONNECT_TIMEOUT_S = 64 * 1024, 30.0, 20.0

Denied = Callable[[str, str], None]


class _Loop:
    """The proxy's event loop and its folder of sockets, made on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self.folder: Path | None = None
        self._count = 0

    def get(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self.loop is None:
                self.folder = Path(tempfile.mkdtemp(prefix="bosun-egress-"))  # short: a socket path has 108 bytes
                atexit.register(shutil.rmtree, self.folder, True)
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, daemon=True, name="bosun egress proxy").start()
                self.loop = loop
            return self.loop

    def next_path(self) -> Path:
        with self._lock:
            self._count += 1
            assert self.folder is not None
            return self.folder / f"{self._count}.sock"


LOOP = _Loop()


class Egress:
    """One sandbox's proxy: its socket, its allow-list and what it refused."""

    def __init__(self, name: str, allow: AllowList) -> None:
        self.name = name
        self.allow = allow
        self.denied: list[tuple[str, str]] = []
        self._listener: Denied | None = None
        self._lock = threading.Lock()
        self._writers: set[asyncio.StreamWriter] = set()
        loop = LOOP.get()
        self.socket = LOOP.next_path()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_unix_server(self._serve, path=str(self.socket)), loop
        ).result()
        self.socket.chmod(0o600)

    def listen(self, listener: Denied) -> None:
        """Tell `listener(destination, reason)` of each refusal, those before this call included."""
        with self._lock:
            self._listener = listener
            earlier = list(self.denied)
        for destination, reason in earlier:
            listener(destination, reason)

    def close(self) -> None:
        async def stop() -> None:
            self._server.close()
            for writer in list(self._writers):
                writer.close()
            await self._server.wait_closed()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), LOOP.get()).result(timeout=5)
        self.socket.unlink(missing_ok=True)

    def _deny(self, destination: str, reason: str) -> None:
        with self._lock:
            self.denied.append((destination, reason))
            listener = self._listener
        if listener is not None:
            with contextlib.suppress(Exception):
                listener(destination, reason)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        try:
            await self._handle(reader, writer)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), HEAD_TIMEOUT_S)
        if len(head) > HEAD_MAX:
            return
        line, *headers = head.decode("latin-1").split("\r\n")
        method, target, version = (line.split(" ", 2) + ["", ""])[:3]
        if method.upper() == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host = host.strip("[]")
            forward = b""
        else:
            url = urlsplit(target)
            if url.scheme != "http" or not url.hostname:
                await _reply(writer, 400, f"bosun: a proxy request needs an absolute http:// URL, not {target!r}")
                return
            host, port_text = url.hostname, str(url.port or 80)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
            kept = [h for h in headers if h and not h.lower().startswith(("proxy-", "connection:", "keep-alive:"))]
            forward = "\r\n".join([f"{method} {path} {version}", *kept, "Connection: close", "", ""]).encode("latin-1")
        if not port_text.isdigit():
            await _reply(writer, 400, f"bosun: no port in {target!r}")
            return
        port = int(port_text)
        destination = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        upstream = await self._open(host, port, destination, writer)
        if upstream is None:
            return
        up_reader, up_writer = upstream
        self._writers.add(up_writer)
        try:
            if not forward:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
                return
            up_writer.write(forward)
            sending = asyncio.ensure_future(_pipe(reader, up_writer))  # the request's body, while it answers
            try:  # one request per connection: the answer says so, or a client would send the next one here
                head = await up_reader.readuntil(b"\r\n\r\n")  # a model may think for minutes: no timeout
                writer.write(_closing(head))
                await _pipe(up_reader, writer)
            finally:
                sending.cancel()
        finally:
            self._writers.discard(up_writer)
            up_writer.close()

    async def _open(self, host: str, port: int, destination: str, writer: asyncio.StreamWriter):
        """The checked connection to `host:port`, or None after refusing it (403) or failing (502)."""
        if self.allow.match(host, port) is None:
            return await self._refuse(writer, destination, "not on the agent's network allow-list")
        loop = asyncio.get_running_loop()
        try:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            await _reply(writer, 502, f"bosun: cannot resolve {host}: {exc}")
            return None
        addresses = list(dict.fromkeys(info[4][0] for info in found))
        admitted = [a for a in addresses if self.allow.admits(a, port)]
        if not admitted:
            where = ", ".join(addresses)
            reason = f"resolves to {where}, not public (list the IP itself to allow it)"
            return await self._refuse(writer, destination, reason)
        for address in admitted:
            try:
                return await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_TIMEOUT_S)
            except (TimeoutError, OSError) as exc:
                failure = exc
        await _reply(writer, 502, f"bosun: cannot connect to {destination}: {failure}")
        return None

    async def _refuse(self, writer: asyncio.StreamWriter, destination: str, reason: str) -> None:
        self._deny(destination, reason)
        await _reply(writer, 403, f"bosun: egress to {destination} refused: {reason}")
        return None


def _closing(head: bytes) -> bytes:
    """A response head with `Connection: close` in place of whatever it said about keeping it open."""
    lines = head.decode("latin-1").split("\r\n")
    kept = [h for h in lines[1:] if h and not h.lower().startswith(("connection:", "keep-alive:", "proxy-connection:"))]
    return "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")


async def _reply(writer: asyncio.StreamWriter, code: int, text: str) -> None:
    word = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}[code]
    body = (text + "\n").encode()
    head = f"HTTP/1.1 {code} {word}\r\nContent-Type: text/plain\r\nContent-Length: {len(body)}\r\n"
    head += "Connection: close\r\n\r\n"
    writer.write(head.encode() + body)
    with contextlib.suppress(OSError):
        await writer.drain()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(65536):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        writer.close()


def open_egress(name: str, allow: tuple[str, ...]) -> Egress:
    """A proxy for one sandbox allowed `allow` (host:port entries)."""
    return Egress(name, AllowList.of(allow))
