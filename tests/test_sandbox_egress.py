"""Network allow-lists (issue 26), proven with real bubblewrap boxes, a real proxy and real servers:
a box whose `network` is a list reaches its allowed stub and nothing else on this machine or
beyond (other local ports, the metadata address, names not listed, a name that resolves to
loopback, abstract Unix sockets), and the same probes from a box with the host's network show
each of them reachable, so every assertion can fail.
"""

from __future__ import annotations

import http.server
import json
import os
import socket
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from conftest import bosun, git, needs_tool, toml_script, write_unit

from bosun.orchestration.plan.keys import AgentSpec, ProjectSpec
from bosun.orchestration.sandbox import bwrap, network_of
from bosun.orchestration.sandbox.allowlist import AllowList, parse_entry
from bosun.orchestration.sandbox.boxes import gate_box
from bosun.orchestration.sandbox.probe import bwrap_path, probe
from bosun.orchestration.sandbox.proxy import open_egress
from bosun.orchestration.status import disk_bytes

WORKS, WHY = probe()
needs_bwrap = needs_tool(None if WORKS else f"bubblewrap cannot work here: {WHY}")


class Stub:
    """An HTTP server on 127.0.0.1 at a free port that answers every GET with its name."""

    def __init__(self, name: str) -> None:
        body = name.encode()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def stubs():
    made = [Stub("allowed"), Stub("other")]
    yield made
    for stub in made:
        stub.close()


PROBES = r"""
import json, socket, sys, urllib.request
found = {}
for name, url in json.loads(sys.argv[1]).items():
    try:
        found[name] = urllib.request.urlopen(url, timeout=5).read().decode()
    except Exception as exc:
        found[name] = "refused: " + str(getattr(exc, "code", "") or type(exc).__name__)
def attempt(connect):
    try:
        connect()
        return "reached"
    except OSError as exc:
        return "failed: " + type(exc).__name__
for name, port in json.loads(sys.argv[2]).items():  # straight to a port, ignoring HTTP_PROXY
    found[name] = attempt(lambda: socket.create_connection(("127.0.0.1", port), timeout=3).close())
abstract = sys.argv[3]
if abstract:
    found["abstract"] = attempt(lambda: socket.socket(socket.AF_UNIX).connect("\0" + abstract))
print(json.dumps(found))
"""


def run_boxed(tmp_path: Path, network: bool | tuple[str, ...], urls: dict, ports: dict, abstract: str = "") -> dict:
    """Run the probes in a real box: the host's network (True), none, or an allow-list through the proxy."""
    folder = tmp_path / "box"
    folder.mkdir(exist_ok=True)
    egress = open_egress("test", network) if isinstance(network, tuple) else None
    box = gate_box(repo=tmp_path / "repo", folder=folder, env={"PATH": os.environ["PATH"]}, network=network is True)
    box.proxy = egress.socket if egress else None
    argv = [sys.executable, "-c", PROBES, json.dumps(urls), json.dumps(ports), abstract]
    try:
        done = subprocess.run(
            bwrap.argv(bwrap_path() or "bwrap", box, argv), capture_output=True, text=True, timeout=60
        )
    finally:
        if egress is not None:
            egress.close()
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    found["denied"] = [d for d, _ in egress.denied] if egress else []
    return found


@needs_bwrap
@pytest.mark.parametrize("network", ["list", "host"])
def test_a_list_reaches_its_stub_and_nothing_else(tmp_path: Path, stubs, network: str) -> None:
    allowed, other = stubs
    name = f"bosun-{uuid.uuid4().hex[:8]}"
    outside = socket.socket(socket.AF_UNIX)
    outside.bind("\0" + name)  # an abstract socket: no file, so no bind can hide it
    outside.listen()
    urls = {
        "stub": f"http://127.0.0.1:{allowed.port}/",
        "other local port": f"http://127.0.0.1:{other.port}/",
        "metadata": "http://169.254.169.254/latest/meta-data/",
        "loopback by name": f"http://localhost:{allowed.port}/",
    }
    ports = {"stub, ignoring the proxy": allowed.port}
    allow = (f"127.0.0.1:{allowed.port}", "*.npmjs.org:443")
    try:
        found = run_boxed(tmp_path, allow if network == "list" else True, urls, ports, name)
    finally:
        outside.close()
    if network == "host":  # the probes work: each refusal below is the allow-list's doing
        assert found["stub"] == "allowed" and found["other local port"] == "other", found
        assert found["loopback by name"] == "allowed" and found["abstract"] == "reached", found
        assert found["stub, ignoring the proxy"] == "reached", found
        return
    assert found["stub"] == "allowed", found
    assert found["other local port"] == "refused: 403", found
    assert found["metadata"] == "refused: 403", found
    assert found["loopback by name"] == "refused: 403", found
    assert found["stub, ignoring the proxy"].startswith("failed"), found  # no route but the proxy
    assert found["abstract"].startswith("failed"), found  # abstract sockets are per network namespace
    assert set(found["denied"]) == {f"127.0.0.1:{other.port}", "169.254.169.254:80", f"localhost:{allowed.port}"}


@needs_bwrap
def test_a_name_resolving_to_loopback_opens_it_only_when_the_ip_is_listed(tmp_path: Path, stubs) -> None:
    allowed = stubs[0]
    urls = {"by name": f"http://localhost:{allowed.port}/"}
    assert run_boxed(tmp_path, (f"localhost:{allowed.port}",), urls, {})["by name"] == "refused: 403"
    both = (f"localhost:{allowed.port}", f"127.0.0.1:{allowed.port}")
    assert run_boxed(tmp_path, both, urls, {})["by name"] == "allowed"


@needs_bwrap
def test_https_goes_through_connect_and_names_not_listed_are_refused(tmp_path: Path, stubs) -> None:
    """CONNECT tunnels to the allowed port (plain HTTP inside the tunnel proves it carries bytes);
    a look-alike name and the right name on another port are refused before any lookup."""
    allowed = stubs[0]
    code = r"""
import json, os, socket, sys
proxy = os.environ["HTTPS_PROXY"].rsplit(":", 1)
out = {}
for target in sys.argv[1:]:
    s = socket.create_connection((proxy[0][7:], int(proxy[1])), timeout=5)
    s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
    head = s.recv(4096).decode()
    if " 200 " in head.split("\r\n")[0]:
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        head = b"".join(iter(lambda: s.recv(4096), b"")).decode()
    out[target] = head.split("\r\n\r\n", 1)[-1] if " 200 " in head.split("\r\n")[0] else head.split("\r\n")[0]
print(json.dumps(out))
"""
    folder = tmp_path / "box"
    folder.mkdir()
    allow = (f"127.0.0.1:{allowed.port}", "*.npmjs.org:443")
    egress = open_egress("connect", allow)
    box = gate_box(repo=tmp_path / "repo", folder=folder, env={"PATH": os.environ["PATH"]}, network=False)
    box.proxy = egress.socket
    targets = [f"127.0.0.1:{allowed.port}", "registry.npmjs.org.evil.invalid:443", "registry.npmjs.org:80"]
    argv = bwrap.argv(bwrap_path() or "bwrap", box, [sys.executable, "-c", code, *targets])
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    finally:
        egress.close()
    found = json.loads(done.stdout)
    assert found[targets[0]] == "allowed", found
    assert found[targets[1]].startswith("HTTP/1.1 403") and found[targets[2]].startswith("HTTP/1.1 403"), found


def test_allow_list_entries_and_their_matching() -> None:
    allow = AllowList.of(["api.anthropic.com:443", "*.npmjs.org:443", "127.0.0.1:8787", "[::1]:9000"])
    assert allow.match("api.anthropic.com", 443) and allow.match("API.Anthropic.com.", 443)
    assert not allow.match("api.anthropic.com", 80) and not allow.match("evil-api.anthropic.com", 443)
    assert allow.match("registry.npmjs.org", 443) and not allow.match("npmjs.org.evil.test", 443)
    assert not allow.match("npmjs.org", 443)  # `*.` is what is below the name, not the name
    assert allow.admits("104.18.1.1", 443) and allow.admits("127.0.0.1", 8787) and allow.admits("::1", 9000)
    for closed in ("127.0.0.1", "169.254.169.254", "10.0.0.8", "192.168.1.1", "0.0.0.0", "fe80::1", "::ffff:127.0.0.1"):
        assert not allow.admits(closed, 443), closed
    for bad in ("localhost", "a b:1", "host:0", "host:70000", ":443", "[zz]:1"):
        with pytest.raises(ValueError):
            parse_entry(bad)


def test_the_plan_takes_a_list_wherever_it_takes_a_network() -> None:
    agent = AgentSpec(name="a", kind="command", command=["x"], network=["api.example.com:443"], memory="4G")
    assert agent.network == ("api.example.com:443",) and agent.memory == "4G"
    assert ProjectSpec(gate_network=["registry.npmjs.org:443"], gate_memory="512M").gate_network == (
        "registry.npmjs.org:443",
    )
    for bad in ({"network": "all"}, {"network": ["example.com"]}, {"memory": "lots"}, {"memory": "1K"}):
        with pytest.raises(ValueError):
            AgentSpec(name="a", kind="command", command=["x"], **bad)


def test_default_networks_are_the_vendor_and_where_the_env_points(tmp_path: Path) -> None:
    claude = AgentSpec(name="c", kind="command", preset="claude-code", env=["ANTHROPIC_BASE_URL"])
    assert network_of(claude, {"ANTHROPIC_BASE_URL": "http://127.0.0.1:5555"}) == (
        "api.anthropic.com:443",
        "127.0.0.1:5555",
    )
    assert network_of(claude, {}) == ("api.anthropic.com:443",)  # a variable not in env is not read
    codex_home = tmp_path / "codex"
    codex_home.mkdir()
    (codex_home / "config.toml").write_text('[model_providers.stub]\nbase_url = "http://127.0.0.1:7000/v1"\n')
    codex = AgentSpec(name="x", kind="command", preset="codex", env=["CODEX_HOME"])
    assert "127.0.0.1:7000" in network_of(codex, {"CODEX_HOME": str(codex_home)})
    model = AgentSpec(name="m", kind="model", base_url="http://localhost:11434/v1", model="q")
    assert network_of(model) == ("localhost:11434", "127.0.0.1:11434", "[::1]:11434")
    assert network_of(AgentSpec(name="s", kind="command", command=["x"])) == "none"
    assert network_of(AgentSpec(name="h", kind="command", command=["x"], network="host")) == "host"


@needs_bwrap
def test_a_refused_connection_is_an_event_and_counted_in_status(project, tmp_path: Path, stubs) -> None:
    allowed, other = stubs
    fetch = (
        "import urllib.request, sys\n"
        "for url in sys.argv[1:]:\n"
        "    try: print(url, urllib.request.urlopen(url, timeout=5).read())\n"
        "    except Exception as exc: print(url, exc)\n"
    )
    agents = {"ada": {"kind": "scripted", "script": "team.toml", "network": [f"127.0.0.1:{allowed.port}"]}}
    repo = project([{"id": "net"}], {}, agents=agents)
    urls = [f"http://127.0.0.1:{allowed.port}/", f"http://127.0.0.1:{other.port}/", "http://169.254.169.254/"]
    steps = [{"run": [sys.executable, "-c", fetch, *urls]}, *write_unit("src/net.py", "N = 1\n")]
    (repo / "team.toml").write_text(toml_script({"net": [steps]}))
    git(repo, "commit", "-qam", "the script")
    result = bosun("run", "--headless", "--json", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    denied = [e for e in events if e.get("kind") == "egress_denied"]
    assert {(e["unit"], e["agent"], e["destination"]) for e in denied} == {
        ("net", "ada", f"127.0.0.1:{other.port}"),
        ("net", "ada", "169.254.169.254:80"),
    }, events
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    unit = status["units"][0]
    assert unit["egress_denied"] == 2 and unit["disk_bytes"] is None, unit  # merged: its worktree is gone
    log = next((repo / ".bosun" / "logs").glob("net.*.log")).read_text()
    assert "b'allowed'" in log and "403" in log, log


@needs_bwrap
def test_a_gate_with_a_list_reaches_its_stub_and_its_refusals_are_events(project, stubs) -> None:
    allowed, other = stubs
    fetch = (
        "import urllib.request, sys; "
        f"assert urllib.request.urlopen('http://127.0.0.1:{allowed.port}/', timeout=5).read() == b'allowed'; "
        f"urllib.request.urlopen('http://127.0.0.1:{other.port}/', timeout=5)"
    )
    gate = f'{sys.executable} -c "{fetch}"'
    repo = project(
        [{"id": "one"}],
        {"one": [write_unit("src/one.py", "O = 1\n")]},
        gate=gate,
        gate_network=[f"127.0.0.1:{allowed.port}"],
        max_attempts=1,
        handback="manual",
    )
    result = bosun("run", "--headless", "--json", cwd=repo)
    events = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    denied = [(e["unit"], e["destination"]) for e in events if e.get("kind") == "egress_denied" and e.get("gate")]
    assert denied == [("one", f"127.0.0.1:{other.port}")], result.stdout
    status = json.loads(bosun("status", "--json", cwd=repo).stdout)
    cause = status["units"][0]["gate"]["cause"]
    assert f"its network allow-list refused 127.0.0.1:{other.port}" in cause, cause  # reached the stub, then refused


def test_disk_bytes_is_what_a_worktree_takes(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "deep" / "er").mkdir(parents=True)
    (tree / "deep" / "er" / "big.bin").write_bytes(os.urandom(300_000))
    (tree / "small.txt").write_text("x")
    (tree / "link").symlink_to("/usr")  # not followed
    found = disk_bytes(str(tree))
    assert 300_000 <= found < 400_000, found
    assert disk_bytes(None) is None and disk_bytes(str(tmp_path / "gone")) is None


@needs_bwrap
def test_setup_with_a_list_reaches_its_stub_and_nothing_else(project, stubs) -> None:
    """`setup_network` takes an allow-list like an agent's: setup reaches what it lists, through the
    proxy, and is refused elsewhere."""
    allowed, other = stubs
    fetch = (
        "import urllib.request as u\n"
        f"print('GOT', u.urlopen('http://127.0.0.1:{allowed.port}/', timeout=5).read().decode())\n"
        "try:\n"
        f"    u.urlopen('http://127.0.0.1:{other.port}/', timeout=5)\n"
        "    print('REACHED other')\n"
        "except Exception:\n"
        "    print('REFUSED other')\n"
    )
    repo = project(
        [{"id": "one"}],
        {"one": [write_unit("src/one.py", "O = 1\n")]},
        extra_files={"fetch.py": fetch},
        setup=[f"{sys.executable} fetch.py"],
        setup_network=[f"127.0.0.1:{allowed.port}"],
    )
    result = bosun("run", "--headless", cwd=repo)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (repo / ".bosun" / "logs" / "one.1.log").read_text()
    assert "GOT allowed" in log and "REFUSED other" in log and "REACHED other" not in log, log[:2000]
