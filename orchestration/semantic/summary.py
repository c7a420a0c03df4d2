"""What one Python module defines, read from its syntax tree: what each top-level name is bound
to, every function's parameters and contract, every class's members.

Nothing here depends on where the file sits, so one summary serves every tree holding the same
text; turning relative imports into modules is the resolver's job.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from bosun.orchestration.semantic.classes import ClassInfo, class_info
from bosun.orchestration.semantic.defs import (
    LINE_END,
    Binding,
    FuncInfo,
    conditional_names,
    func_info,
    last_name,
    nested_statements,
    statement_bindings,
)

GLOBAL_WORD = re.compile(r"\bglobal\b")


@dataclass
class ModuleSummary:
    """Everything the semantic checks need from one module's text."""

    bindings: dict[str, Binding]
    functions: dict[str, FuncInfo]
    classes: dict[str, ClassInfo]
    star_imports: tuple[tuple[int, str], ...]  # (level, module) of each `from m import *`
    open: bool  # a module-level __getattr__ may answer for any name it does not bind
    dynamic: frozenset[str]  # the names a module-level __getattr__ answers for, when it says which
    lines: list[str] = field(repr=False)

    def text_of(self, node: ast.stmt) -> str:
        """A definition's source, decorators included: equal texts define equal things."""
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))])
        return "\n".join(self.lines[first - 1 : node.end_lineno])


def scope_bindings(body: list[ast.stmt]) -> dict[str, Binding]:
    """Direct statements bind for sure (the last one wins); compound ones leave a name unknown."""
    bindings: dict[str, Binding] = {}
    for stmt in body:
        for name, binding in statement_bindings(stmt):
            bindings[name] = binding
        if nested_statements(stmt):
            for name in conditional_names(stmt):
                bindings[name] = Binding("unknown", stmt.lineno)
    return bindings


def global_names(tree: ast.Module, source: str) -> set[str]:
    """Names functions declare `global`: the module binds them, with a value nobody can read here.
    (The text is searched first: most modules have no `global` statement to walk the tree for.)"""
    if not GLOBAL_WORD.search(source):
        return set()
    return {name for node in ast.walk(tree) if isinstance(node, ast.Global) for name in node.names}


def summarize(tree: ast.Module, source: str) -> ModuleSummary:
    functions: dict[str, FuncInfo] = {}
    classes: dict[str, ClassInfo] = {}
    for stmt in tree.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions[stmt.name] = func_info(stmt, stmt.name, False)
        elif isinstance(stmt, ast.ClassDef):
            classes[stmt.name] = class_info(stmt, stmt.name, classes, functions)
    bindings = scope_bindings(tree.body)
    for name in global_names(tree, source) - bindings.keys():
        bindings[name] = Binding("unknown", 1)
    stars = tuple(
        (s.level, s.module or "")
        for s in tree.body
        if isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names)
    )
    answers = getattr_answers(functions["__getattr__"].node) if "__getattr__" in functions else frozenset()
    return ModuleSummary(
        bindings=bindings,
        functions=functions,
        classes=classes,
        star_imports=stars,
        open=answers is None,
        dynamic=answers or frozenset(),
        lines=LINE_END.split(source),
    )


def getattr_answers(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str] | None:
    """The names a module's `__getattr__` answers for, when it spells them out and raises
    AttributeError for every other one (a deprecation shim); None when it may answer anything."""
    last = fn.body[-1]
    if not (isinstance(last, ast.Raise) and last.exc is not None and last_name(last.exc) == "AttributeError"):
        return None
    return frozenset(n.value for n in ast.walk(fn) if isinstance(n, ast.Constant) and isinstance(n.value, str))
