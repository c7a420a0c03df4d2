"""The names one side's changes touched: every definition whose contract, binding or membership
differs from the base, and the module paths of files it added or removed. A use that names none
of them cannot have been broken by that side, so it is not worth resolving."""

from __future__ import annotations

import ast

from bosun.orchestration.semantic.classes import ClassInfo
from bosun.orchestration.semantic.defs import Binding, FuncInfo, ValueInfo, dotted
from bosun.orchestration.semantic.merge import Merge
from bosun.orchestration.semantic.summary import ModuleSummary
from bosun.orchestration.semantic.tree import module_name


def touched_names(merge: Merge, side: str) -> frozenset[str] | None:
    """Names `side` changed the meaning of since the base; None when it cannot tell."""
    names: set[str] = set()
    for path in merge.changed[side]:
        old, new = merge.parsed("base", path), merge.parsed(side, path)
        if old is None or new is None:
            names.update((module_name(path) or "").split("."))
            continue
        changes = summary_changes(old.summary, new.summary)
        if changes is None:
            return None
        names |= changes
    return frozenset(names)


def binding_key(binding: Binding | None) -> tuple | None:
    if binding is None:
        return None
    return binding.kind, binding.target, binding.name, binding.level, ast.dump(binding.node) if binding.node else None


def function_key(fn: FuncInfo | None) -> tuple | None:
    return None if fn is None else (fn.params, fn.flavour, fn.returns, fn.raises)


def class_changes(old: ClassInfo, new: ClassInfo) -> set[str] | None:
    """Members whose presence, value or type changed (a change of dataclass fields names the class
    too: its constructor changed); None when the bases or the openness changed, which reaches
    members the class only inherits."""
    if [ast.dump(b) for b in old.bases] != [ast.dump(b) for b in new.bases] or old.open != new.open:
        return None
    names = set(old.instance_attrs ^ new.instance_attrs) | (old.methods.keys() ^ new.methods.keys())
    names |= {n for n in old.nested.keys() | new.nested.keys() if old.nested.get(n) != new.nested.get(n)}
    names |= {
        n for n in old.attrs.keys() | new.attrs.keys() if value_dump(old.attrs.get(n)) != value_dump(new.attrs.get(n))
    }
    names |= {
        n
        for n in old.attr_types.keys() | new.attr_types.keys()
        if dotted_or_none(old.attr_types.get(n)) != dotted_or_none(new.attr_types.get(n))
    }
    if old.fields != new.fields:
        names |= {old.qualname.rsplit(".", 1)[-1]} | {f[0] for f in set(old.fields or ()) ^ set(new.fields or ())}
    return names


def value_dump(value: ValueInfo | None) -> str | None:
    return value.dump if value is not None else None


def dotted_or_none(node: ast.expr | None) -> str | None:
    return dotted(node) if node is not None else None


def summary_changes(old: ModuleSummary, new: ModuleSummary) -> set[str] | None:
    """Names whose definition differs between two versions of a module; None when anything may have."""
    if old.star_imports != new.star_imports or old.open != new.open:
        return None
    names = set(old.dynamic ^ new.dynamic)
    names |= {
        n
        for n in old.bindings.keys() | new.bindings.keys()
        if binding_key(old.bindings.get(n)) != binding_key(new.bindings.get(n))
    }
    for qualname in old.functions.keys() | new.functions.keys():
        before, after = old.functions.get(qualname), new.functions.get(qualname)
        if before and after and old.text_of(before.node) == new.text_of(after.node):
            continue
        if function_key(before) != function_key(after):
            names.update(qualname.split("."))
    for qualname in old.classes.keys() | new.classes.keys():
        before, after = old.classes.get(qualname), new.classes.get(qualname)
        if before and after and old.text_of(before.node) == new.text_of(after.node):
            continue
        members = class_changes(before, after) if before and after else set()
        if members is None:
            return None
        if members or not (before and after):
            names.update((*qualname.split("."), *members))
    return names
