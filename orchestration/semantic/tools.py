"""Which analysers run differentially on a merge: the plan's `checks` entries marked
`differential = true`, and defaults for what the project holds, where the tool is installed:

- Python files: the type checker of pytypes.py (pyrefly), unless `type_error = "off"`;
- `tsconfig.json`: `tsc --noEmit` (the project's own node_modules/.bin/tsc first, then PATH), all
  trees in one node process (tscheck.py) where tsc is the npm package;
- `go.mod`: `go vet ./...` (offline: GOFLAGS=-mod=mod is never set, GOPROXY=off; -trimpath, so
  that go's build cache knows a package by its files, not by the temporary folder it sits in, and
  the trees and later merges share what they did not change);
- `Cargo.toml`: `cargo check --message-format short --offline`, only when the gate is sandboxed
  (a build script is project code, and a default never runs project code outside the sandbox).

A default whose tool is missing still appears, named bare, so the verdict says it is missing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from bosun.orchestration.semantic.differential import Analyser
from bosun.orchestration.semantic.pytypes import PYTHON_FILES, python_checker
from bosun.orchestration.semantic.tscheck import batch_command

READS = {
    "python": PYTHON_FILES,
    "typescript": (".ts", ".tsx", ".mts", ".cts", ".js", ".jsx", ".mjs", ".cjs", ".json", ".yml", ".yaml"),
    "go": (".go", "go.mod", "go.sum", "go.work", ".s", ".c", ".h"),
    "rust": (".rs", "Cargo.toml", "Cargo.lock", "build.rs"),
}
GO_ENV = (
    ("GOPROXY", "off"),
    ("GOFLAGS", "-mod=readonly -trimpath"),
    ("GOTOOLCHAIN", "local"),
    ("CGO_ENABLED", "0"),
    ("GOWORK", "off"),
)


def language_of(command: str) -> str:
    word = command.split()[0] if command.split() else ""
    name = Path(word).name
    return {
        "tsc": "typescript",
        "eslint": "typescript",
        "go": "go",
        "cargo": "rust",
        "mypy": "python",
        "pyrefly": "python",
        "ty": "python",
        "pyright": "python",
        "basedpyright": "python",
        "ruff": "python",
    }.get(name, "other")


def command_analyser(command: str, timeout: float = 300.0) -> Analyser:
    """A plan's differential command; tsc and go get the same help as the defaults."""
    name = Path(command.split()[0]).name if command.split() else ""
    env: tuple[tuple[str, str], ...] = ()
    link: tuple[str, ...] = ()
    if name in ("tsc", "eslint", "npx"):
        link = ("node_modules",)
        if name == "tsc" and "--pretty" not in command:
            command += " --pretty false"
    if name == "go":
        env = GO_ENV
    return Analyser(
        name=command,
        command=command,
        kind="new_diagnostic",
        timeout=timeout,
        env=env,
        link=link,
        reads=READS.get(language_of(command), ()),
    )


def tsc_program(repo: Path) -> str:
    local = repo / "node_modules" / ".bin" / "tsc"
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which("tsc") or "tsc"


def default_analysers(
    paths: Iterable[str], repo: Path, severity: dict[str, str], sandboxed: bool, given: Iterable[str] = ()
) -> tuple[list[Analyser], list[str]]:
    """The default analysers for a tree holding `paths`, and the reasons a default was left out.
    `given`: the plan's own differential commands (a default for the same tool is then left out)."""
    paths = set(paths)
    tools_given = {Path(c.split()[0]).name for c in given if c.split()}
    analysers: list[Analyser] = []
    notes: list[str] = []
    if (
        severity.get("type_error", "block") != "off"
        and any(p.endswith(".py") for p in paths)
        and not tools_given & {"mypy", "pyrefly", "ty", "pyright", "basedpyright"}
    ):
        checker = python_checker(src_layout=any(p.startswith("src/") for p in paths))
        if checker is not None:
            analysers.append(replace(checker, reads=READS["python"]))
    if severity.get("new_diagnostic", "block") == "off":
        return analysers, notes
    if "tsconfig.json" in paths and "tsc" not in tools_given:
        tsc = tsc_program(repo)
        batch = batch_command(tsc)  # one node process for all trees, sharing the parsed library
        command = batch or f"{tsc} --noEmit --pretty false --skipLibCheck -p ."
        analysers.append(
            Analyser(
                name="tsc --noEmit",
                command=command,
                link=("node_modules",),
                timeout=300.0,
                reads=READS["typescript"],
                batch=bool(batch),
            )
        )
    if "go.mod" in paths and "go" not in tools_given:
        cache = Path(tempfile.gettempdir()) / "bosun-go-cache"
        analysers.append(
            Analyser(
                name="go vet ./...",
                command="go vet ./...",
                env=(*GO_ENV, ("GOCACHE", os.environ.get("GOCACHE") or str(cache))),
                timeout=300.0,
                reads=READS["go"],
            )
        )
    if "Cargo.toml" in paths and "cargo" not in tools_given:
        if sandboxed:
            analysers.append(
                Analyser(
                    name="cargo check",
                    command="cargo check --message-format short --offline -q",
                    timeout=600.0,
                    reads=READS["rust"],
                )
            )
        else:
            notes.append(
                "cargo check not run by default without the gate's sandbox (build scripts are project "
                "code); add it to checks with differential = true"
            )
    return analysers, notes
