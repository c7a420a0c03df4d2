"""The semantic-check corpus: small branch pairs, each a directory holding the full trees
`base/`, `ours/` and `theirs/` and a `case.toml`: `expect = [kinds]`, `why = "..."` and, for a
broken case the checks are known to miss, `known_miss = "why they miss it"` (kept in the corpus
so that the detection rate stays honest).

Cases in the top folder are Python cases for the `ast` checks alone (tests/test_semantic.py). The
folders `python/`, `typescript/` and `go/` hold cases that need real analysers (a type checker,
`tsc`, `go vet`) run differentially, judged through the gate's whole semantic verdict
(tests/test_differential.py); `LANGUAGES` says which folder holds which.

`materialise` turns a case into a real git repository (branches base, ours, theirs) and
`merged_trees` merges it with `git merge-tree` and reads the four trees back the way the gate does.
Shared by tests/test_semantic.py and benchmarks/verify.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path

from bosun.orchestration.semantic.analysis import read_python_tree

CORPUS = Path(__file__).resolve().parent
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "LC_ALL": "C"}
GIT_SETTINGS = ("-c", "user.name=t", "-c", "user.email=t@t", "-c", "core.hooksPath=/dev/null",
                "-c", "commit.gpgSign=false")


@dataclass(frozen=True)
class Case:
    name: str
    folder: Path
    expect: frozenset[str]
    why: str
    known_miss: str | None = None

    @property
    def broken(self) -> bool:
        return bool(self.expect)


LANGUAGES = ("python", "typescript", "go")


def load_cases(language: str | None = None) -> list[Case]:
    """The top folder's cases, or those of one language's folder."""
    cases = []
    folder = CORPUS / language if language else CORPUS
    for toml in sorted(folder.glob("*/case.toml")):
        data = tomllib.loads(toml.read_text())
        cases.append(Case(toml.parent.name, toml.parent, frozenset(data["expect"]), data["why"],
                          data.get("known_miss")))
    return cases


def git(repo: Path, *args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run(["git", *GIT_SETTINGS, *args], cwd=repo, env=GIT_ENV, capture_output=True, text=True,
                          check=False)
    if proc.returncode not in ok:
        raise AssertionError(f"git {' '.join(args)} exited {proc.returncode}: {proc.stderr}")
    return proc


def replace_work_tree(repo: Path, source: Path) -> None:
    """Make the work tree exactly `source` (everything but .git goes first). Files get a fresh
    mtime (shutil.copy, not copy2): a copied old mtime can make git take a changed file of the
    same size for unchanged and commit the stale one."""
    for entry in repo.iterdir():
        if entry.name != ".git":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    shutil.copytree(source, repo, dirs_exist_ok=True, copy_function=shutil.copy,
                    ignore=shutil.ignore_patterns("__pycache__"))


def commit_side(repo: Path, case: Case, side: str) -> None:
    replace_work_tree(repo, case.folder / side)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", side)


def materialise(case: Case, repo: Path) -> None:
    """A repository with the branches base, ours and theirs, ours and theirs forked from base."""
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "base")
    commit_side(repo, case, "base")
    for side in ("ours", "theirs"):
        git(repo, "checkout", "-q", "-b", side, "base")
        commit_side(repo, case, side)


def merge_tree(repo: Path) -> tuple[int, str]:
    """`git merge-tree --write-tree ours theirs`: its exit code and the merged tree id."""
    proc = git(repo, "merge-tree", "--write-tree", "ours", "theirs", ok=(0, 1))
    return proc.returncode, proc.stdout.split("\n", 1)[0].strip()


def merged_trees(repo: Path, merged_tree: str) -> dict[str, dict[str, str]]:
    """The four Python trees of the merge, read back from git."""
    names = {"base": "base", "ours": "ours", "theirs": "theirs", "merged": merged_tree}
    return {version: read_python_tree(repo, treeish) for version, treeish in names.items()}
