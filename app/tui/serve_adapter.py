"""What `bosun serve` needs from textual-serve that it offers no public call for, in one place:
the aiohttp application its server builds (its routes: page, websocket, static files, downloads),
made without its `serve()` so Bosun can add its access check and run it on a socket of its own.
Pinned by tests/test_adapters.py, so an upgrade that renames it fails a test."""

from __future__ import annotations

from aiohttp import web
from textual_serve.server import Server


async def web_application(server: Server) -> web.Application:
    """The aiohttp application textual-serve's `serve()` would run for `server`."""
    return await server._make_app()
