"""Duplicates the merge itself made: a name defined twice in one module or class body, a key given
twice to one registry (a dict literal, `REGISTRY[key] = ...`, `@register(key)`, `register(key, ...)`).

Only duplicates that neither side had on its own count (the merged tree holds more of them than
either side), so each side brought one; and copies that say the same thing are left alone.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

from bosun.orchestration.semantic.defs import SCOPE_BOUNDARIES, dotted, last_name
from bosun.orchestration.semantic.findings import SIDE_LABELS, Finding
from bosun.orchestration.semantic.merge import Merge
from bosun.orchestration.semantic.resolve import Resolver
from bosun.orchestration.semantic.tree import module_name
from bosun.orchestration.semantic.uses import MODULE_SCOPE

# Decorators that define one name several times on purpose.
REDEFINING_DECORATORS = {"overload", "setter", "getter", "deleter", "register"}
# Callee names that file something under a key (besides anything containing "register").
REGISTERING_NAMES = {
    "route",
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "command",
    "handler",
    "handles",
    "hook",
    "plugin",
    "endpoint",
    "subscribe",
    "listen",
    "listens_for",
}


@dataclass(frozen=True)
class Entry:
    """One definition of a name, or one key given to a registry, in one version of the tree."""

    group: str  # the name's owner and name, or the registry and key: what must be unique
    path: str
    line: int
    said: ast.AST | str = field(compare=False, repr=False)  # what this copy says

    @cached_property
    def meaning(self) -> str:
        """Position-free, so that copies saying the same thing compare equal (and are harmless)."""
        return self.said if isinstance(self.said, str) else ast.dump(self.said)


def duplicate_findings(merge: Merge) -> list[Finding]:
    both = sorted(merge.changed["ours"] & merge.changed["theirs"])
    either = sorted(merge.changed["ours"] | merge.changed["theirs"])
    return merged_duplicates(
        merge, both, definition_entries, "duplicate_definition", "is defined twice"
    ) + merged_duplicates(merge, either, registry_entries, "duplicate_key", "is given twice")


def merged_duplicates(merge: Merge, paths: list[str], entries_of, kind: str, verb: str) -> list[Finding]:
    """Groups the merged tree holds more copies of than either side, the copies not all alike.
    The sides' trees are read only when the merged tree has a candidate."""
    merged = grouped(entries_of(merge, "merged", path) for path in paths)
    candidates = {
        group: copies for group, copies in merged.items() if len(copies) > 1 and len({c.meaning for c in copies}) > 1
    }
    if not candidates:
        return []
    groups = {
        version: grouped(entries_of(merge, version, path) for path in paths) for version in ("base", "ours", "theirs")
    }
    return [
        duplicate_finding(kind, verb, copies, groups, group)
        for group, copies in candidates.items()
        if len(copies) > max(len(groups["ours"].get(group, ())), len(groups["theirs"].get(group, ())))
    ]


def grouped(entry_lists: Iterator[list[Entry]]) -> dict[str, list[Entry]]:
    groups: dict[str, list[Entry]] = defaultdict(list)
    for entries in entry_lists:
        for entry in entries:
            groups[entry.group].append(entry)
    return groups


def duplicate_finding(kind: str, verb: str, copies: list[Entry], groups: dict, group: str) -> Finding:
    """Reported at the later copy, the one that silently wins, naming who brought which."""
    copies = sorted(copies, key=lambda c: (c.path, c.line))
    place = lambda c: f"{c.path}:{c.line}"
    origin = {
        side: next((place(c) for c in copies if brought_by(c, side, groups, group)), None)
        for side in ("ours", "theirs")
    }
    said = {side: f"added the one at {origin[side]}" if origin[side] else "added one" for side in origin}
    latest = copies[-1]
    message = (
        f"{group} {verb} ({', '.join(map(place, copies))}); the later one silently wins: "
        f"{SIDE_LABELS['ours']} {said['ours']}, {SIDE_LABELS['theirs']} {said['theirs']}"
    )
    return Finding(kind, latest.path, latest.line, group, message, ours=said["ours"], theirs=said["theirs"])


def brought_by(copy: Entry, side: str, groups: dict, group: str) -> bool:
    """The copy says what `side` added: that side has it and the base does not."""
    has = lambda version: any(e.meaning == copy.meaning for e in groups[version].get(group, ()))
    return has(side) and not has("base")


def definition_entries(merge: Merge, version: str, path: str) -> list[Entry]:
    parsed, module = merge.parsed(version, path), module_name(path)
    if parsed is None or module is None:
        return []
    return list(body_definitions(parsed.tree.body, module, path, ""))


def body_definitions(body: list[ast.stmt], module: str, path: str, owner: str) -> Iterator[Entry]:
    """Names bound directly in a module or class body (not under if/try), with what each says."""
    for stmt in body:
        for name, said in statement_names(stmt):
            yield Entry(f"{module}.{owner}{name}", path, stmt.lineno, said)
        if isinstance(stmt, ast.ClassDef):
            yield from body_definitions(stmt.body, module, path, f"{owner}{stmt.name}.")


def statement_names(stmt: ast.stmt) -> list[tuple[str, ast.AST | str]]:
    if isinstance(stmt, SCOPE_BOUNDARIES):
        redefines = any(last_name(d) in REDEFINING_DECORATORS for d in stmt.decorator_list)
        return [] if redefines else [(stmt.name, stmt)]
    if isinstance(stmt, ast.Import):
        return [(a.asname or a.name.split(".")[0], f"import {a.name}") for a in stmt.names]
    if isinstance(stmt, ast.ImportFrom):
        source = "." * stmt.level + (stmt.module or "")
        return [(a.asname or a.name, f"from {source} import {a.name}") for a in stmt.names if a.name != "*"]
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return [(t.id, stmt.value) for t in targets if isinstance(t, ast.Name) and not t.id.startswith("__")]
    return []


def registry_entries(merge: Merge, version: str, path: str) -> list[Entry]:
    """Every key one file gives a registry (the sites were noted when its uses were collected)."""
    parsed, module = merge.parsed(version, path), module_name(path)
    if parsed is None or module is None:
        return []
    resolver, sites = merge.resolvers[version], parsed.sites
    entries = [
        Entry(f"{module}.{label}[{text}]", path, key.lineno, value)
        for label, literal in sites.dicts
        for key, value in zip(literal.keys, literal.values)
        if (text := key_text(key)) is not None
    ]
    entries += [
        Entry(f"{canonical(resolver, module, target.value)}[{text}]", path, target.lineno, value)
        for target, value in sites.subscripts
        if dotted(target.value) and (text := key_text(target.slice))
    ]
    entries += [
        Entry(f"{canonical(resolver, module, call.func)}({key})", path, call.lineno, said)
        for call, said in sites.registrations
        if registers(call.func) and dotted(call.func) and (key := registration_key(call))
    ]
    return entries


def registration_key(call: ast.Call) -> str | None:
    """The key a registering call files under: its first argument, a constant or dotted name, with
    the HTTP methods when it names them (`@route("/x", methods=["POST"])` is not `["GET"]`)."""
    first = key_text(call.args[0]) if call.args else None
    methods = [ast.unparse(k) for k in call.keywords if k.arg in ("methods", "method")]
    return ", ".join([first, *methods]) if first else None


def key_text(node: ast.expr | None) -> str | None:
    """A key whose identity can be read off the source: a constant or a dotted name."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, bytes, float, bool)):
        return repr(node.value)
    return dotted(node) if node is not None else None


def registers(callee: ast.expr) -> bool:
    name = last_name(callee).lower()
    return "register" in name or name in REGISTERING_NAMES


def canonical(resolver: Resolver, module: str, node: ast.expr) -> str:
    """The registry's name wherever it is used from: its definition's dotted path when it can be
    followed (`plugins.registry.register`), else the expression as written in this module."""
    target = resolver.expr_target(module, MODULE_SCOPE, node)
    if target.kind in ("module", "function", "class", "value"):
        return target.symbol
    if isinstance(node, ast.Attribute):
        return f"{canonical(resolver, module, node.value)}.{node.attr}"
    return f"{module}.{ast.unparse(node)}"
