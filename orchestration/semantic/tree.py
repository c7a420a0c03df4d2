"""One version of a project as the semantic checks read it: its Python files by path and by
module name, each parsed once per content and understood (summary, uses) only when asked."""

from __future__ import annotations

import ast
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from functools import cached_property

from bosun.orchestration.semantic.summary import ModuleSummary, summarize
from bosun.orchestration.semantic.uses import RegistrySites, Scope, Use, UseCollector, collect_uses

MAX_NESTING = 150  # syntax-tree levels a file may have: the walks that read it recurse


class Parsed:
    """One file's text, parsed once; its summary and its uses are read only when asked for."""

    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.source = source

    @cached_property
    def summary(self) -> ModuleSummary:
        return summarize(self.tree, self.source)

    @cached_property
    def walk(self) -> UseCollector:
        return collect_uses(self.tree, self.source)

    @property
    def uses(self) -> list[Use]:
        return self.walk.uses

    @property
    def scopes(self) -> dict[str, Scope]:
        return self.walk.scopes

    @property
    def sites(self) -> RegistrySites:
        return self.walk.sites


def nesting_within(tree: ast.AST, limit: int) -> bool:
    """Whether the tree is at most `limit` levels deep, found level by level (no recursion)."""
    level = [tree]
    for _ in range(limit):
        level = [child for node in level for child in ast.iter_child_nodes(node)]
        if not level:
            return True
    return False


def module_name(path: str) -> str | None:
    """`calc.ops` for `calc/ops.py` or `src/calc/ops.py`; a package is its `__init__.py`."""
    if not path.endswith(".py"):
        return None
    parts = path[:-3].split("/")
    if parts[0] == "src" and len(parts) > 1:
        parts = parts[1:]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if not parts or not all(p.isidentifier() for p in parts):
        return None
    return ".".join(parts)


class ParseCache:
    """Parses keyed by file content, shared by the four trees of a merge and by the merges after it
    (most files of the integration branch are the same from one merge to the next), with what was
    read from each (summary, uses). Bounded by the source it holds (an AST takes ~35 bytes a
    character); the least recently used go first. Safe to share between threads."""

    def __init__(self, max_chars: int = 2_000_000) -> None:
        self.max_chars = max_chars
        self._by_text: OrderedDict[str, Parsed | None] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> Parsed | None:
        with self._lock:  # parsing holds the GIL anyway: one at a time, and never twice
            if text in self._by_text:
                self._by_text.move_to_end(text)
                return self._by_text[text]
            parsed = self._by_text[text] = self._parse(text)
            self._chars += len(text)
            while self._chars > self.max_chars and len(self._by_text) > 1:
                old, _ = self._by_text.popitem(last=False)
                self._chars -= len(old)
            return parsed

    @staticmethod
    def _parse(text: str) -> Parsed | None:
        """None for a file that does not parse (reporting it is the tests' job, not ours), or that
        nests too deep for the recursive walks that read it (a 500-branch elif chain)."""
        source = text.removeprefix("\ufeff")  # a byte-order mark Python skips in a file but not in a str
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tree = ast.parse(source)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return None
        return Parsed(tree, source) if nesting_within(tree, MAX_NESTING) else None


SHARED = ParseCache()


class Tree:
    """One version of the project: its files by path and by module name."""

    def __init__(self, files: Mapping[str, str], cache: ParseCache, roots: set[str]) -> None:
        """`roots`: the project's top-level packages and modules in any version of the merge, so
        that a package one side deleted is missing rather than taken for a third-party one."""
        self.files = files
        self.cache = cache
        self.paths: dict[str, str] = {}
        for path in sorted(files):
            name = module_name(path)
            if name is not None:
                self.paths.setdefault(name, path)
        self.packages = {name.rsplit(".", i)[0] for name in self.paths for i in range(1, name.count(".") + 1)}
        self.roots = roots

    def parsed(self, module: str) -> Parsed | None:
        path = self.paths.get(module)
        return self.parsed_path(path) if path else None

    def parsed_path(self, path: str) -> Parsed | None:
        text = self.files.get(path)
        return None if text is None else self.cache.get(text)

    def exists(self, module: str) -> bool:
        return module in self.paths or module in self.packages

    def is_package(self, module: str) -> bool:
        path = self.paths.get(module)
        return path.endswith("__init__.py") if path else module in self.packages

    def in_project(self, module: str) -> bool:
        return module.split(".")[0] in self.roots
