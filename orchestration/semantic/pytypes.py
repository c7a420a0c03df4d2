"""The Python type checker the gate runs differentially beside the `ast` checks.

Measured on the corpus (benchmarks/verify.py, README "Verification beyond tests"), pyrefly in its
default preset with return types inferred for unannotated functions finds the type-dependent breaks
the others miss on untyped code (an attribute a returned object no longer has, a call on what a
function now returns), in about 0.3 s per tree; ty is faster but infers little from unannotated
code; mypy and basedpyright are several times slower per tree. Any of them can be chosen with
BOSUN_PYTHON_TYPES (`pyrefly`, `ty`, `mypy`, `basedpyright`, or `off`).
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from pathlib import Path

from bosun.orchestration.semantic.differential import Analyser

CHECKERS = {
    "pyrefly": "{exe} check --preset default --infer-return-types checked --check-unannotated-defs "
    "--output-format min-text --summary=none {site} --search-path . {src}.",
    "ty": "{exe} check --output-format concise --no-progress --exit-zero {src}.",
    "mypy": "{exe} --no-error-summary --show-column-numbers --show-error-codes --no-color-output "
    "--check-untyped-defs --follow-imports=silent --cache-dir=.mypy_cache --explicit-package-bases .",
    "basedpyright": "{exe} .",
}
DEFAULT = "pyrefly"
# What a Python type checker reads in a project: only these are written into each tree it checks.
PYTHON_FILES = (
    ".py",
    ".pyi",
    "py.typed",
    "pyproject.toml",
    "pyrefly.toml",
    "mypy.ini",
    "setup.cfg",
    "pyrightconfig.json",
    ".gitignore",
    ".ignore",
)  # pyrefly skips what these ignore


def find_program(name: str) -> str | None:
    """The program beside this Python (its venv's bin) or on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    return shutil.which(name)


def site_packages() -> str:
    """pyrefly's third-party packages: those of BOSUN_PYTHON_SITE_PACKAGES (folders, separated as in
    PATH: the project's own environment), else none. Left to itself pyrefly asks the `python3` on
    PATH, which in the gate is Bosun's own environment: its packages have nothing to do with the
    project, reading them costs a third of a run on a project like Pillow, and a verdict should
    not change with what Bosun happens to have installed."""
    folders = [f for f in os.environ.get("BOSUN_PYTHON_SITE_PACKAGES", "").split(os.pathsep) if f]
    return " ".join(f"--site-package-path {shlex.quote(f)}" for f in folders) or "--skip-interpreter-query"


def python_checker(name: str | None = None, src_layout: bool = False) -> Analyser | None:
    """The analyser for `name` (default: BOSUN_PYTHON_TYPES, else pyrefly), or None when turned off.
    When the program is not installed the analyser names it bare, so the verdict says it is missing."""
    name = name or os.environ.get("BOSUN_PYTHON_TYPES") or DEFAULT
    if name == "off" or name not in CHECKERS:
        return None
    exe = find_program(name) or name
    src = {"pyrefly": "--search-path src ", "ty": "--extra-search-path src "}.get(name, "") if src_layout else ""
    command = CHECKERS[name].format(exe=exe, src=src, site=site_packages())
    env = (("MYPYPATH", "src"),) if name == "mypy" and src_layout else ()
    return Analyser(
        name=name, command=command, kind="type_error", timeout=180.0, env=env, narrows=True, needs=PYTHON_FILES
    )


GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def guarded_import_lines(source: str) -> set[int]:
    """Lines of imports inside `try:` blocks that catch ImportError (an optional dependency or an
    optional fast path with a fallback): a type checker's "cannot import" there is by design."""
    import ast

    try:
        tree = ast.parse(source.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return set()
    lines: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Try):
            continue
        names = set()
        for handler in node.handlers:
            kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
            names |= {"BaseException" if k is None else getattr(k, "id", getattr(k, "attr", "")) for k in kinds}
        if names & GUARDS:
            for stmt in node.body:
                for inner in ast.walk(stmt):
                    if isinstance(inner, (ast.Import, ast.ImportFrom)):
                        lines.update(range(inner.lineno, (inner.end_lineno or inner.lineno) + 1))
    return lines


def drop_guarded(findings: list, files: dict[str, str]) -> list:
    """Type errors left out where they sit on a guarded import of the merged tree (`files`)."""
    cache: dict[str, set[int]] = {}
    kept = []
    for finding in findings:
        if finding.kind == "type_error" and finding.path in files:
            if finding.path not in cache:
                cache[finding.path] = guarded_import_lines(files[finding.path])
            if finding.line in cache[finding.path]:
                continue
        kept.append(finding)
    return kept
