"""Where a module uses names: imports, references (`a.b.c`), calls, overrides of base-class
members, each tagged with its enclosing scope and keyed by its text, so the same use can be
recognised in another version of the file wherever its line moved.

The same single walk notes what each scope binds (to tell a local from a global) and where the
module files keys under a registry (for the duplicate checks).
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, field

from bosun.orchestration.semantic.defs import (
    LINE_END,
    Binding,
    dotted,
    flavour_of,
    last_name,
    statement_bindings,
)

MODULE_SCOPE = "<module>"
CATCH_ALL = "*"  # a bare `except:`
EXPECTING_RAISES = {"raises", "assertRaises", "assertRaisesRegex"}  # context managers that expect an exception


@dataclass(frozen=True)
class Use:
    """One use of a name. `key` is its identity across versions of the file."""

    kind: str  # import | ref | call | override
    scope: str  # qualname of the enclosing scope
    text: str  # the use's source text (for an import, one imported name)
    line: int
    node: ast.AST = field(compare=False, hash=False)
    result_used: bool = True  # for a call: False when it stands alone as a statement
    caught: frozenset[str] = frozenset()  # exceptions handled around it (last names; "*" for a bare except)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.scope, self.text


@dataclass(frozen=True)
class Scope:
    """What a name means inside one scope, before looking at the module."""

    qualname: str
    kind: str  # module | class | function
    parent: str | None
    locals: frozenset[str] = frozenset()
    globals: frozenset[str] = frozenset()
    instances: dict[str, ast.expr] = field(default_factory=dict, compare=False, hash=False)
    imports: dict[str, Binding] = field(default_factory=dict, compare=False, hash=False)
    self_name: str | None = None  # a method's first parameter: the instance
    cls_name: str | None = None  # a classmethod's first parameter: the class
    owner_class: str | None = None  # for a method (or a function nested in one): its class


@dataclass
class RegistrySites:
    """Places a module may give a key to a registry, noted during the walk."""

    dicts: list[tuple[str, ast.Dict]] = field(default_factory=list)  # (label, literal)
    registrations: list[tuple[ast.Call, ast.AST]] = field(default_factory=list)  # (call, what it registers)
    subscripts: list[tuple[ast.Subscript, ast.expr]] = field(default_factory=list)  # module-level `R[key] = value`


@dataclass
class ScopeBuilder:
    """What one scope binds, gathered while the walk passes through it."""

    qualname: str
    kind: str
    parent: str | None
    owner_class: str | None = None
    self_name: str | None = None
    cls_name: str | None = None
    counts: Counter = field(default_factory=Counter)
    declared: set[str] = field(default_factory=set)
    origins: dict[str, ast.expr] = field(default_factory=dict)
    imports: dict[str, Binding] = field(default_factory=dict)

    def build(self) -> Scope:
        """Only names bound once keep a known class or import: a rebinding could be anything."""
        once = {name for name, count in self.counts.items() if count == 1}
        return Scope(
            qualname=self.qualname,
            kind=self.kind,
            parent=self.parent,
            locals=frozenset(self.counts.keys() - self.declared),
            globals=frozenset(self.declared),
            instances={n: e for n, e in self.origins.items() if n in once},
            imports={n: b for n, b in self.imports.items() if n in once},
            self_name=self.self_name,
            cls_name=self.cls_name,
            owner_class=self.owner_class,
        )


def function_builder(fn: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, parent: ScopeBuilder) -> ScopeBuilder:
    args = fn.args
    builder = ScopeBuilder(
        qualname,
        "function",
        parent.qualname,
        owner_class=parent.qualname if parent.kind == "class" else parent.owner_class,
    )
    builder.counts.update(
        a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg) if a
    )
    builder.origins.update(
        (a.arg, a.annotation)
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)
        if a.annotation is not None and dotted(a.annotation)
    )
    if parent.kind == "class" and (args.posonlyargs or args.args):
        first, flavour = (args.posonlyargs or args.args)[0].arg, flavour_of(fn, True)
        builder.self_name = first if flavour in ("method", "property") else None
        builder.cls_name = first if flavour == "classmethod" else None
    return builder


class UseCollector(ast.NodeVisitor):
    """Walks a module once, recording every use, every scope and every registry site."""

    def __init__(self, source: str) -> None:
        self.lines = [line.encode("utf-8", "surrogatepass") for line in LINE_END.split(source)]
        self.uses: list[Use] = []
        self.scopes: dict[str, Scope] = {}
        self.sites = RegistrySites()
        self.stack: list[ScopeBuilder] = []
        self.statement_calls: set[int] = set()
        self.dict_labels: dict[int, str] = {}
        self.dict_counts: Counter = Counter()
        self.caught: frozenset[str] = frozenset()

    @property
    def here(self) -> ScopeBuilder:
        return self.stack[-1]

    def enter(self, builder: ScopeBuilder, body: list[ast.stmt]) -> None:
        self.stack.append(builder)
        for stmt in body:
            self.visit(stmt)
        self.stack.pop()
        self.scopes[builder.qualname] = builder.build()

    def segment(self, node: ast.expr) -> str:
        """The node's source text (positions are UTF-8 byte offsets), far cheaper than unparsing it."""
        first, last = node.lineno - 1, node.end_lineno - 1
        if first == last:
            return self.lines[first][node.col_offset : node.end_col_offset].decode("utf-8", "replace")
        parts = [
            self.lines[first][node.col_offset :],
            *self.lines[first + 1 : last],
            self.lines[last][: node.end_col_offset],
        ]
        return "\n".join(p.decode("utf-8", "replace") for p in parts)

    def add(self, kind: str, text: str, node: ast.AST, result_used: bool = True) -> None:
        self.uses.append(Use(kind, self.here.qualname, text, node.lineno, node, result_used, self.caught))

    def child_name(self, name: str) -> str:
        return name if self.here.kind == "module" else f"{self.here.qualname}.{name}"

    def visit_Module(self, node: ast.Module) -> None:
        self.enter(ScopeBuilder(MODULE_SCOPE, "module", None), node.body)

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.definition_head(
            node, (*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d))
        )
        if self.here.kind == "class" and not node.name.startswith("__"):
            self.add("override", node.name, node)
        self.enter(function_builder(node, self.child_name(node.name), self.here), node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.definition_head(node, (*node.decorator_list, *node.bases, *(k.value for k in node.keywords)))
        builder = ScopeBuilder(
            self.child_name(node.name), "class", self.here.qualname, owner_class=self.here.owner_class
        )
        self.enter(builder, node.body)

    def definition_head(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, heads: tuple) -> None:
        """Decorators, defaults and bases run in the enclosing scope, which the name binds in."""
        for expr in heads:
            self.visit(expr)
        self.here.counts[node.name] += 1
        self.sites.registrations += [(d, node) for d in node.decorator_list if isinstance(d, ast.Call)]

    def visit_Assign(self, node: ast.Assign | ast.AnnAssign) -> None:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        single = targets[0] if len(targets) == 1 and isinstance(targets[0], ast.Name) else None
        if self.here.kind == "class":
            for target in targets:
                if isinstance(target, ast.Name) and not target.id.startswith("__"):
                    self.add("override", target.id, target)
        if single is not None and isinstance(node.value, ast.Call) and dotted(node.value.func):
            self.here.origins[single.id] = node.value.func
        if single is not None and isinstance(node.value, ast.Dict):
            self.label_dict(single.id, node.value)
        if self.here.kind == "module" and isinstance(node, ast.Assign):
            self.sites.subscripts += [(t, node.value) for t in targets if isinstance(t, ast.Subscript)]
        self.generic_visit(node)

    visit_AnnAssign = visit_Assign

    def label_dict(self, name: str, literal: ast.Dict) -> None:
        """A dict literal bound to one name is that name's registry; binding the name to another
        literal later in the same scope makes a new registry, not more keys for the old one."""
        label = name if self.here.kind == "module" else f"{self.here.qualname}.{name}"
        self.dict_counts[label] += 1
        count = self.dict_counts[label]
        self.dict_labels[id(literal)] = label if count == 1 else f"{label} #{count}"

    def visit_Dict(self, node: ast.Dict) -> None:
        if id(node) not in self.dict_labels:
            self.dict_counts[self.here.qualname] += 1
            self.dict_labels[id(node)] = f"{self.here.qualname} dict #{self.dict_counts[self.here.qualname]}"
        self.sites.dicts.append((self.dict_labels[id(node)], node))
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import | ast.ImportFrom) -> None:
        for alias in node.names:
            if isinstance(node, ast.Import):
                text = f"import {alias.name}"
            elif alias.name != "*":
                text = f"from {'.' * node.level}{node.module or ''} import {alias.name}"
            else:
                continue
            self.add("import", text + (f" as {alias.asname}" if alias.asname else ""), node)
        bindings = statement_bindings(node)
        self.here.counts.update(name for name, _ in bindings)
        if self.here.kind == "function":
            self.here.imports.update(bindings)

    visit_ImportFrom = visit_Import

    def visit_Global(self, node: ast.Global) -> None:
        self.here.declared.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.here.counts.update(node.names)

    def visit_arg(self, node: ast.arg) -> None:
        """Only a lambda's parameters get here: they count as the enclosing function's locals."""
        self.here.counts[node.arg] += 1

    def visit_ExceptHandler(self, node: ast.ExceptHandler | ast.MatchAs | ast.MatchStar) -> None:
        if node.name:
            self.here.counts[node.name] += 1
        self.generic_visit(node)

    visit_MatchAs = visit_MatchStar = visit_ExceptHandler

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        if node.rest:
            self.here.counts[node.rest] += 1
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        """Uses in the body of a `try` carry what its handlers catch."""
        outer = self.caught
        self.caught = outer | caught_names(node.handlers)
        for stmt in node.body:
            self.visit(stmt)
        self.caught = outer
        for part in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(part)

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        """Uses in the body of `with pytest.raises(E):` (or `assertRaises`) expect E, as if caught."""
        for item in node.items:
            self.visit(item)
        outer = self.caught
        self.caught = outer | expected_exceptions(node.items)
        for stmt in node.body:
            self.visit(stmt)
        self.caught = outer

    visit_AsyncWith = visit_With

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Call):
            self.statement_calls.add(id(node.value))
            if self.here.kind == "module":
                call = node.value
                self.sites.registrations.append((call, ast.Tuple(elts=[*call.args[1:], *call.keywords])))
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        if dotted(node.func) or super_member(node.func):
            self.add("call", self.segment(node), node, id(node) not in self.statement_calls)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.add("ref", node.id, node)
        else:
            self.here.counts[node.id] += 1

    def visit_Attribute(self, node: ast.Attribute) -> None:
        text = dotted(node) or super_member(node)
        if text and isinstance(node.ctx, ast.Load):
            self.add("ref", text, node)
        elif text and dotted(node.value):
            self.add("ref", dotted(node.value), node.value)
        elif not text:
            self.generic_visit(node)


def exception_names(types: ast.expr) -> set[str]:
    """`ValueError` or `(KeyError, errors.Missing)`, by last name."""
    return {last_name(t) for t in (types.elts if isinstance(types, ast.Tuple) else [types])}


def caught_names(handlers: list[ast.ExceptHandler]) -> frozenset[str]:
    """What a `try` statement's handlers catch, by last name ("*" for a bare except)."""
    names: set[str] = set()
    for handler in handlers:
        names |= {CATCH_ALL} if handler.type is None else exception_names(handler.type)
    return frozenset(names)


def expected_exceptions(items: list[ast.withitem]) -> frozenset[str]:
    """What `with pytest.raises(E):` or `with self.assertRaises(E):` expects its body to raise."""
    names: set[str] = set()
    for item in items:
        call = item.context_expr
        if isinstance(call, ast.Call) and last_name(call) in EXPECTING_RAISES and call.args:
            names |= exception_names(call.args[0])
    return frozenset(names)


def super_member(node: ast.expr) -> str | None:
    """`super().m` (the zero-argument form), else None."""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "super"
        and not node.value.args
    ):
        return f"super().{node.attr}"
    return None


def collect_uses(tree: ast.Module, source: str) -> UseCollector:
    collector = UseCollector(source)
    collector.visit(tree)
    return collector
