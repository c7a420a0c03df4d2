"""Modules and objects named in strings: `importlib.import_module("pkg.mod")`, plugin registries
and settings holding dotted paths (`"pkg.exporters.JsonExporter"`, `"pkg.mod:func"`),
`mock.patch("pkg.mod.func")`. A string of the merged tree that names a project module or object
which the side that wrote it still has, while the merge no longer has it (the other side moved,
renamed or removed it), is a `removed_name` finding. A string that named nothing on either side
(a file name such as "app.log", a stale path both sides share) is never reported."""

from __future__ import annotations

import ast
import re

from bosun.orchestration.semantic.findings import Finding, by_side
from bosun.orchestration.semantic.merge import Merge
from bosun.orchestration.semantic.tree import Tree

DOTTED = re.compile(r"^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+(?::[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)?$")


def resolves(tree: Tree, path: str) -> bool | None:
    """True when the dotted path names a module of `tree` or a top-level name of one; False when it
    names nothing there; None when that cannot be told (a star import, a module `__getattr__`)."""
    module_part, _, object_part = path.partition(":")
    parts = module_part.split(".") + (object_part.split(".") if object_part else [])
    limit = len(module_part.split("."))
    for cut in range(limit, 0, -1):
        module = ".".join(parts[:cut])
        if not tree.exists(module):
            continue
        rest = parts[cut:]
        if not rest:
            return True
        parsed = tree.parsed(module)
        if parsed is None:
            return None if module in tree.paths else False  # a file that does not parse: cannot tell
        summary = parsed.summary
        if rest[0] in summary.bindings or rest[0] in summary.dynamic:
            return True
        if summary.open or summary.star_imports:
            return None
        return False
    return False


def dotted_strings(tree: ast.AST) -> list[tuple[int, str]]:
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and len(node.value) < 200
        and DOTTED.match(node.value)
    ]


def string_findings(merge: Merge) -> list[Finding]:
    merged = merge.trees["merged"]
    findings = []
    for path in sorted(merge.changed["ours"] | merge.changed["theirs"]):
        parsed = merge.parsed("merged", path)
        if parsed is None:
            continue
        for line, text in dotted_strings(parsed.tree):
            if not merged.in_project(text.split(".")[0]) or resolves(merged, text) is not False:
                continue
            for side in ("ours", "theirs"):
                other = "theirs" if side == "ours" else "ours"
                written = merge.parsed(side, path)
                if written is None or text not in {s for _, s in dotted_strings(written.tree)}:
                    continue
                if resolves(merge.trees[side], text) and resolves(merge.trees[other], text) is False:
                    findings.append(
                        Finding(
                            "removed_name",
                            path,
                            line,
                            text,
                            f'the string "{text}" names a module or object the {label(other)} moved, renamed '
                            f"or removed, while the {label(side)} refers to it by that path",
                            **by_side(side, "names it in a string", "moved, renamed or removed it"),
                        )
                    )
                    break
    return findings


def label(side: str) -> str:
    return "integration branch" if side == "ours" else "unit's branch"
