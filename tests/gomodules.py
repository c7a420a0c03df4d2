"""A Go module with real third-party dependencies, offline: a module proxy made at test time.

The public module proxy is out of reach here, so the dependencies come from where a Debian
machine keeps Go module sources: the golang-*-dev packages (`apt-get install`, as .ci/run does)
install each library's tree under /usr/share/gocode/src. `build(root)` lays those trees out as a
module proxy on disk, the layout `GOPROXY` reads (`file:///root`, or served over HTTP as a
company's proxy serves it): `MODULE/@v/list`, `VERSION.info`, `VERSION.mod` and `VERSION.zip`,
whose files sit under `MODULE@VERSION/`. Nothing of theirs is in this repository.

Debian's trees lack the files it moves elsewhere (LICENSE, README), so their zips are not the
public ones and the public checksum database would refuse them: the project's go.sum is made
against this proxy (`go mod tidy` with `GOSUMDB=off`, as a developer's `go mod tidy` records the
checked sums), and from then on every download is checked against that go.sum.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import zipfile
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SOURCES = Path("/usr/share/gocode/src")
# (module, version, the Debian package installing its tree): Debian 12's versions.
MODULES = (
    ("github.com/cpuguy83/go-md2man/v2", "v2.0.2", "golang-github-cpuguy83-go-md2man-v2-dev"),
    ("github.com/russross/blackfriday/v2", "v2.1.0", "golang-github-russross-blackfriday-v2-dev"),
    ("github.com/google/uuid", "v1.3.0", "golang-github-google-uuid-dev"),
    ("github.com/hashicorp/go-multierror", "v1.1.1", "golang-github-hashicorp-go-multierror-dev"),
    ("github.com/hashicorp/errwrap", "v1.1.0", "golang-github-hashicorp-errwrap-dev"),
)
# go-multierror's go.mod requires errwrap v1.0.0, which had no go.mod: the proxy serves the line
# Go makes up for such a version (the hash go-multierror's own go.sum records for it: checked in
# tests/test_prepare_go_deps.py) and no zip, since the project selects v1.1.0.
GO_MOD_ONLY = (("github.com/hashicorp/errwrap", "v1.0.0"),)
PACKAGES = " ".join(package for _module, _version, package in MODULES)
INFO_TIME = "2022-06-01T00:00:00Z"

# The project: a small library using three of them directly (md2man brings blackfriday, and
# go-multierror errwrap, raised to v1.1.0 as `go get github.com/hashicorp/errwrap@v1.1.0` would).
GO_MOD = """module example.com/notes

go 1.19

require (
	github.com/cpuguy83/go-md2man/v2 v2.0.2
	github.com/google/uuid v1.3.0
	github.com/hashicorp/errwrap v1.1.0
	github.com/hashicorp/go-multierror v1.1.1
)
"""
NOTES_GO = """package notes

import (
	"fmt"
	"strings"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/google/uuid"
	"github.com/hashicorp/go-multierror"
)

// Note is a titled Markdown text with an ID that its title decides.
type Note struct {
	ID    uuid.UUID
	Title string
	Body  string
}

// New makes a note, its ID a name-based (SHA-1) UUID of its title.
func New(title, body string) Note {
	return Note{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(title)), Title: title, Body: body}
}

// Man renders the note as a roff man page.
func (n Note) Man() string {
	return string(md2man.Render([]byte("# " + n.Title + "\\n\\n" + n.Body + "\\n")))
}

// Check says every problem of the notes at once.
func Check(notes []Note) error {
	var problems error
	for i, n := range notes {
		if strings.TrimSpace(n.Title) == "" {
			problems = multierror.Append(problems, fmt.Errorf("note %d has no title", i))
		}
		if strings.TrimSpace(n.Body) == "" {
			problems = multierror.Append(problems, fmt.Errorf("note %d has no body", i))
		}
	}
	return problems
}
"""
NOTES_TEST_GO = """package notes

import (
	"strings"
	"testing"
)

func TestMan(t *testing.T) {
	man := New("hello", "Some *text*.").Man()
	if !strings.Contains(man, ".TH hello") || !strings.Contains(man, "\\\\fItext\\\\fP") {
		t.Fatalf("unexpected page: %q", man)
	}
}

func TestCheck(t *testing.T) {
	if err := Check([]Note{New("", "")}); err == nil || !strings.Contains(err.Error(), "2 errors occurred") {
		t.Fatalf("unexpected: %v", err)
	}
}
"""
FILES = {"go.mod": GO_MOD, "notes.go": NOTES_GO, "notes_test.go": NOTES_TEST_GO}


def missing() -> str | None:
    """Why the dependencies' sources cannot be had here, or None."""
    wanted = []
    for module, version, package in MODULES:
        shown = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", package], capture_output=True, text=True)
        if not (SOURCES / module / "go.mod").is_file() or shown.returncode != 0:
            wanted.append(package)
        elif not shown.stdout.startswith(version[1:]):
            return f"{package} is {shown.stdout}, not {version} (this module proxy serves Debian 12's)"
    return f"Go module sources missing (apt-get install {' '.join(wanted)})" if wanted else None


def escape(path: str) -> str:
    """A module path as the proxy protocol writes it: each capital letter as `!` and its lower case."""
    return "".join(f"!{c.lower()}" if c.isupper() else c for c in path)


def _files(tree: Path) -> list[Path]:
    """What a module zip holds of a tree: regular files, no `.git`, `vendor` or nested module."""
    found = []
    for root, dirs, files in os.walk(tree):
        here = Path(root)
        dirs[:] = sorted(d for d in dirs if d not in (".git", "vendor") and not (here / d / "go.mod").exists())
        found += [here / f for f in sorted(files) if (here / f).is_file() and not (here / f).is_symlink()]
    return found


def build(root: Path) -> Path:
    """The proxy's folder at `root`, made from the installed trees; returns `root`."""
    versions: dict[str, list[str]] = {}
    for module, version in GO_MOD_ONLY:
        _write_version(root, module, version, f"module {module}\n")
        versions.setdefault(module, []).append(version)
    for module, version, _package in MODULES:
        tree = SOURCES / module
        _write_version(root, module, version, (tree / "go.mod").read_text())
        with zipfile.ZipFile(root / escape(module) / "@v" / f"{version}.zip", "w", zipfile.ZIP_DEFLATED) as out:
            for path in _files(tree):
                out.write(path, f"{module}@{version}/{path.relative_to(tree).as_posix()}")
        versions.setdefault(module, []).append(version)
    for module, listed in versions.items():
        (root / escape(module) / "@v" / "list").write_text("".join(f"{v}\n" for v in listed))
    return root


def _write_version(root: Path, module: str, version: str, go_mod: str) -> None:
    folder = root / escape(module) / "@v"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{version}.info").write_text(json.dumps({"Version": version, "Time": INFO_TIME}))
    (folder / f"{version}.mod").write_text(go_mod)


def tidy(project: Path, proxy: Path, scratch: Path) -> str:
    """`go mod tidy` in `project` against the proxy at `proxy` (`file://`), as its developer ran it:
    go.mod completed, go.sum written (and returned). Its module cache is `scratch`'s, thrown away."""
    cache = scratch / "tidy-modcache"
    env = {
        **os.environ,
        "GOPROXY": proxy.as_uri(),
        "GOSUMDB": "off",
        "GOFLAGS": "-modcacherw",
        "GOMODCACHE": str(cache),
        "GOCACHE": str(scratch / "tidy-gocache"),
    }
    subprocess.run(["go", "mod", "tidy"], cwd=project, env=env, check=True, capture_output=True, text=True)
    shutil.rmtree(cache, ignore_errors=True)
    return (project / "go.sum").read_text()


class Served:
    """The proxy's folder over HTTP on 127.0.0.1 (a free port), as a company's Go proxy serves it;
    `asked` lists every path requested, in order."""

    def __init__(self, root: Path) -> None:
        self.asked: list[str] = []
        asked = self.asked

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args, **kwargs) -> None:
                super().__init__(*args, directory=str(root), **kwargs)

            def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base class's name)
                asked.append(self.path)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Served:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
