"""The four trees of one merge (base, ours, theirs, merged) sharing one parse cache, a resolver
for each, and what each side changed since the base."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from bosun.orchestration.semantic.resolve import Resolver, Target
from bosun.orchestration.semantic.tree import SHARED, Parsed, Tree, module_name

VERSIONS = ("base", "ours", "theirs", "merged")


def changed_paths(base: Mapping[str, str], side: Mapping[str, str]) -> set[str]:
    return {path for path in base.keys() | side.keys() if base.get(path) != side.get(path)}


def use_counts(parsed: Parsed | None) -> Counter:
    return Counter(use.key for use in parsed.uses) if parsed else Counter()


class Merge:
    """One merge as the checks see it."""

    def __init__(
        self, base: Mapping[str, str], ours: Mapping[str, str], theirs: Mapping[str, str], merged: Mapping[str, str]
    ) -> None:
        cache = SHARED
        files = dict(zip(VERSIONS, (base, ours, theirs, merged)))
        roots = {name.split(".")[0] for tree in files.values() for path in tree if (name := module_name(path))}
        self.trees = {version: Tree(files[version], cache, roots) for version in VERSIONS}
        self.resolvers = {version: Resolver(tree) for version, tree in self.trees.items()}
        self.changed = {side: changed_paths(base, files[side]) for side in ("ours", "theirs")}

    def parsed(self, version: str, path: str) -> Parsed | None:
        return self.trees[version].parsed_path(path)

    def site(self, target: Target, version: str = "merged") -> str:
        """`path:line` of a definition (just the path for a module or a missing name)."""
        path = self.trees[version].paths.get(target.module, target.module)
        if target.kind == "missing":
            owner = self.resolvers[version].class_target(target.module, target.qualname) if target.qualname else None
            line = owner.info.line if owner is not None and owner.found else None
        else:
            line = getattr(target.info, "line", None)
        return f"{path}:{line}" if line else path
