"""The screen away from the supervisor: `attach` (a screen on a session that a headless
supervisor runs) and `serve` (that screen in a browser, behind an access token)."""

from __future__ import annotations

import argparse
import os
import sys

from bosun.app.cli.repo_session import opened, repo_of
from bosun.orchestration.errors import BosunError


def _in_browser() -> bool:
    """`bosun serve` runs each page's `bosun attach` with Textual's web driver on pipes, not a terminal."""
    return os.environ.get("TEXTUAL_DRIVER", "").endswith(":WebDriver")


def cmd_attach(args: argparse.Namespace) -> int:
    # The store belongs to the thread that opened it: this one, which runs the app.
    with opened(args) as session:  # no session: one line, exit 2
        if not _in_browser() and not (sys.stdin.isatty() and sys.stdout.isatty()):
            raise BosunError("bosun attach: the screen needs a terminal; `bosun status` prints the session instead")
        from bosun.app.tui.attached import AttachedApp  # Textual loads only for the screen

        AttachedApp(session).run()
    return 0  # detaching changes nothing, whatever the session's state


def cmd_serve(args: argparse.Namespace) -> int:
    if not 0 <= args.port <= 65535:
        raise BosunError(f"bosun serve: --port {args.port} is not a port (0 picks a free one)")
    repo = repo_of(args)
    with opened(args) as session:  # refuse now, not in the browser, when there is no session
        supervisor = session.running_supervisor()
    from bosun.app.tui.served import TokenServer, is_loopback

    server = TokenServer(repo.path, host=args.host, port=args.port)
    try:
        url = server.bind()
    except OSError as exc:
        raise BosunError(f"bosun serve: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    if not is_loopback(args.host):
        print(
            f"bosun serve: listening on {args.host}, not only this machine: anyone who can reach port "
            f"{server.port} and learns the URL can make every decision; the token travels as plain HTTP",
            file=sys.stderr,
        )
    if supervisor is None:
        print("bosun serve: no supervisor runs this session; decisions are queued for `bosun resume`", file=sys.stderr)
    print(f"Open {url}", flush=True)
    print(
        "Each page is a screen attached to the session; ctrl+c stops serving (the supervisor keeps running).",
        flush=True,
    )
    server.serve()
    return 0
