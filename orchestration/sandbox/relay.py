"""Inside a sandbox with an allow-list: an HTTP proxy address on the box's own loopback that
relays every connection to Bosun's egress proxy (proxy.py) through the Unix socket bound in.

Run as `python -I -S relay.py SOCKET -- COMMAND...`: it listens on 127.0.0.1 (a free port),
points HTTPS_PROXY, HTTP_PROXY (lower-case too) and ALL_PROXY there with NO_PROXY empty, runs
COMMAND as its child, passes on the signals it gets and exits as the child did. Standard
library only, no imports from Bosun: it starts fast, and before anything of the agent's.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy")


def _copy(source: socket.socket, target: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            target.sendall(chunk)
        target.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _serve(client: socket.socket, path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_copy, args=(upstream, client), daemon=True)
    back.start()
    _copy(client, upstream)
    back.join()
    client.close()
    upstream.close()


def _accept(listener: socket.socket, path: str) -> None:
    while True:
        client, _ = listener.accept()
        threading.Thread(target=_serve, args=(client, path), daemon=True).start()


def environment(port: int) -> dict[str, str]:
    """The child's environment: every proxy variable at the relay, nothing exempt."""
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **dict.fromkeys(PROXY_VARIABLES, url), "NO_PROXY": "", "no_proxy": ""}
    env["NODE_USE_ENV_PROXY"] = "1"  # Node's own fetch reads the variables only when told
    return env


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[1] != "--":
        print("usage: relay.py SOCKET -- COMMAND...", file=sys.stderr)
        return 2
    path, command = argv[0], argv[2:]
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    threading.Thread(target=_accept, args=(listener, path), daemon=True).start()
    try:
        child = subprocess.Popen(command, env=environment(listener.getsockname()[1]))
    except OSError as exc:
        print(f"bosun: cannot start {command[0]}: {exc}", file=sys.stderr)
        return 127
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda number, _frame: child.send_signal(number))
    code = child.wait()
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
