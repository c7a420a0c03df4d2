"""Where a definition went when the other side of a merge took it away: renamed beside its old
place (same parameters and body), moved to a module the other side changed, or, for a module,
to the new module sharing most of its names. Only for the message: a finding stands without it."""

from __future__ import annotations

from bosun.orchestration.semantic.findings import OTHER_SIDE
from bosun.orchestration.semantic.merge import Merge
from bosun.orchestration.semantic.resolve import Target
from bosun.orchestration.semantic.tree import module_name


def whereabouts(merge: Merge, side: str, mine: Target, now: Target) -> tuple[str, str]:
    """What the other side did with a definition `side` still uses, as a verb and where to:
    ("renamed", " to plus"), ("moved", " to calc.math"), ("removed", "")."""
    if merge.trees[side].exists(now.symbol):
        new_home = moved_module(merge, side, now.symbol)
        return ("moved", f" to {new_home}") if new_home else ("removed", "")
    renamed = renamed_function(merge, mine)
    if renamed:
        return "renamed", f" to {renamed}"
    moved = moved_definition(merge, OTHER_SIDE[side], mine)
    return ("moved", f" to {moved}") if moved else ("removed", "")


def renamed_function(merge: Merge, mine: Target) -> str | None:
    """A function of the same parameters and body, under another name beside the old one."""
    parsed = merge.trees["merged"].parsed(mine.module)
    if mine.kind != "function" or parsed is None:
        return None
    prefix = mine.qualname.rpartition(".")[0]
    return next(
        (
            fn.qualname.rpartition(".")[2]
            for fn in parsed.summary.functions.values()
            if fn.code == mine.info.code and fn.qualname.rpartition(".")[0] == prefix
        ),
        None,
    )


def moved_definition(merge: Merge, other: str, mine: Target) -> str | None:
    """A module the other side changed that now defines the same top-level name itself."""
    if "." in mine.qualname or mine.kind not in ("function", "class", "value"):
        return None
    tree = merge.trees["merged"]
    for path in sorted(merge.changed[other] & tree.files.keys()):
        module, parsed = module_name(path), tree.parsed_path(path)
        binding = parsed.summary.bindings.get(mine.qualname) if module != mine.module and parsed else None
        if binding is not None and binding.kind in ("def", "class", "value"):
            return f"{module}.{mine.qualname}"
    return None


def moved_module(merge: Merge, side: str, gone: str) -> str | None:
    """The new module sharing the most top-level names with the one that disappeared."""
    old = merge.trees[side].parsed(gone)
    if old is None:
        return None
    names = set(old.summary.bindings)
    merged = merge.trees["merged"]
    candidates = [
        (len(names & set(parsed.summary.bindings)), module)
        for module, path in merged.paths.items()
        if module not in merge.trees[side].paths and (parsed := merged.parsed_path(path))
    ]
    best = max(candidates, default=(0, None))
    return best[1] if best[0] else None
