"""The attached screen in a browser (`bosun serve`): textual-serve runs one `bosun attach` per
browser page behind a fresh access token, and the page loads nothing from the internet.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import secrets
import shlex
import socket
import sys
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp_jinja2
import jinja2
import textual_serve
from aiohttp import web
from textual_serve.server import Server

from bosun.app.tui.serve_adapter import web_application

PAGE = "app_index.html"
FONTS_LINK = re.compile(r"<link[^>]*href=\"https://fonts\.googleapis\.com[^\"]*\"[^>]*>", re.S)
LOCAL_FONTS = """<style>
      @font-face { font-family: "Roboto Mono"; src: url("{{ config.static.url }}fonts/RobotoMono-VariableFont_wght.ttf"); }
      @font-face { font-family: "Roboto Mono"; font-style: italic;
                   src: url("{{ config.static.url }}fonts/RobotoMono-Italic-VariableFont_wght.ttf"); }
    </style>"""
"""textual-serve's page asks Google for its font; the same font ships with the package, so the
page is served with it instead and works offline (xterm.js and the client are in static/js)."""


def offline_page() -> jinja2.BaseLoader:
    """textual-serve's own page, with the font taken from its static folder instead of Google's."""
    folder = Path(textual_serve.__file__).parent / "templates"

    def load(name: str) -> str | None:
        path = folder / name
        return FONTS_LINK.sub(LOCAL_FONTS, path.read_text(encoding="utf-8")) if path.is_file() else None

    return jinja2.FunctionLoader(load)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def attach_command(repo: Path) -> str:
    """What each browser page runs (textual-serve starts it through the shell)."""
    return f"{shlex.quote(sys.executable)} -m bosun.app.cli.main attach --repo {shlex.quote(str(repo))}"


class TokenServer(Server):
    """textual-serve's server, where every request (page, static files, websocket) needs the token:
    as `?token=` in the URL, or the cookie the page sets when it is opened with it."""

    def __init__(self, repo: Path, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        super().__init__(attach_command(repo), host=host, port=port, title=f"Bosun · {repo.name}")
        self.token = token or secrets.token_urlsafe(32)
        """The access token; anyone holding it can make every decision the screen offers."""
        self.socket: socket.socket | None = None

    @property
    def cookie(self) -> str:
        """Named by port: a browser shares its cookies between the ports of one host."""
        return f"bosun_token_{self.port}"

    def bind(self) -> str:
        """Listen (port 0: a free one) and return the URL to open, token included."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self.socket = socket.create_server((self.host, self.port), family=family)
        self.port = self.socket.getsockname()[1]
        shown = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "[::1]"}.get(self.host)
        shown = shown or (f"[{self.host}]" if ":" in self.host else self.host)
        return f"http://{shown}:{self.port}/?token={self.token}"

    def serve(self, debug: bool = False) -> None:
        if self.socket is None:
            self.bind()
        self.debug = debug
        logging.basicConfig(level=logging.WARNING, format="bosun serve: %(message)s", stream=sys.stderr)
        web.run_app(self.make_app(), sock=self.socket, print=None, access_log=None)

    async def make_app(self) -> web.Application:
        """textual-serve's application, every request checked for the token, the page offline."""
        app = await web_application(self)
        app.middlewares.append(self._require_token)
        aiohttp_jinja2.setup(app, loader=offline_page())
        return app

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints its logo and an address without the token here.)"""

    def _token_of(self, request: web.Request) -> str:
        return request.query.get("token") or request.cookies.get(self.cookie) or ""

    @web.middleware
    async def _require_token(self, request: web.Request, handler) -> web.StreamResponse:
        if not secrets.compare_digest(self._token_of(request).encode(), self.token.encode()):
            raise web.HTTPForbidden(text="bosun serve: this address needs the access token `bosun serve` printed\n")
        origin = request.headers.get("Origin")
        if origin and urlsplit(origin).netloc != request.host:  # another site's page, even holding the cookie
            raise web.HTTPForbidden(text="bosun serve: requests from another site are refused\n")
        response = await handler(request)
        if request.path == "/":
            response.set_cookie(self.cookie, self.token, httponly=True, samesite="Strict", path="/")
            response.headers["Cache-Control"] = "no-store"
            response.headers["Referrer-Policy"] = "no-referrer"  # the URL holds the token
        return response

    async def handle_index(self, request: web.Request) -> web.Response:
        """textual-serve's page, its addresses taken from the request (the port may have been 0)."""
        base = f"{request.scheme}://{request.host}"
        websocket = ("wss" if request.scheme == "https" else "ws") + f"://{request.host}/ws"
        font_size = request.query.get("fontsize", "")
        context = {
            "font_size": int(font_size) if font_size.isdigit() else 16,
            "app_websocket_url": websocket,
            "config": {"static": {"url": f"{base}/static/"}},
            "application": {"name": self.title},
        }
        return aiohttp_jinja2.render_template(PAGE, request, context)
