"""The building blocks of a module's summary, read from its syntax tree: helpers for walking it,
what a function offers its callers (parameters, return shapes, raised exceptions), what an
assignment binds, and which names a statement binds."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

PROPERTY_DECORATORS = {"property", "cached_property", "setter", "getter", "deleter"}
SCOPE_BOUNDARIES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
LINE_END = re.compile(r"\r\n|\r|\n")  # the line ends Python's tokenizer counts


@dataclass(frozen=True)
class Params:
    """A function's parameters as a caller sees them."""

    positional: tuple[str, ...] = ()
    posonly: int = 0
    required: int = 0  # leading positional parameters without a default
    vararg: bool = False
    kwonly: tuple[str, ...] = ()
    kwonly_required: frozenset[str] = frozenset()
    varkw: bool = False
    defaults: tuple[tuple[str, str], ...] = ()  # (parameter, source of its default)

    def without_first(self) -> Params:
        """The parameters once the instance (or class) is bound to the first one."""
        if not self.positional:
            return self
        return replace(
            self, positional=self.positional[1:], posonly=max(0, self.posonly - 1), required=max(0, self.required - 1)
        )

    def default_of(self, name: str) -> str | None:
        return dict(self.defaults).get(name)


@dataclass(frozen=True)
class ValueInfo:
    """A name bound by assignment: where, and (read only when asked) what the value says."""

    line: int
    node: ast.expr | None = field(default=None, compare=False, repr=False)  # None: value not known

    @cached_property
    def dump(self) -> str | None:
        """The value's identity, position-free."""
        return ast.dump(self.node) if self.node is not None else None

    @cached_property
    def text(self) -> str:
        text = ast.unparse(self.node) if self.node is not None else ""
        return text if len(text) <= 40 else text[:37] + "..."

    @cached_property
    def literal(self) -> tuple[object] | None:
        """`(value,)` for a constant a reader could write down (what a contract is made of), else None."""
        try:
            return (ast.literal_eval(self.node),) if self.node is not None else None
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return None


@dataclass(frozen=True)
class FuncInfo:
    """A function or method, with what a caller depends on."""

    qualname: str
    line: int
    params: Params
    flavour: str  # function | method | staticmethod | classmethod | property
    node: ast.FunctionDef | ast.AsyncFunctionDef = field(compare=False, repr=False)

    @cached_property
    def contract(self) -> tuple[frozenset[str], frozenset[str]]:
        """The shapes it returns and the exceptions it raises, read on first use."""
        return body_contract(self.node)

    @property
    def returns(self) -> frozenset[str]:
        return self.contract[0]

    @property
    def raises(self) -> frozenset[str]:
        return self.contract[1]

    @cached_property
    def code(self) -> str:
        """Parameters and body, position-free: the identity that survives a rename."""
        return ast.dump(self.node.args) + "".join(ast.dump(s) for s in self.node.body)


@dataclass(frozen=True)
class Binding:
    """What a module-level name is bound to."""

    kind: str  # def | class | import | from | alias | value | unknown
    line: int
    target: str = ""  # def/class: qualname; import: module; from: module as written (no dots)
    name: str = ""  # from: the imported name
    level: int = 0  # from: leading dots
    node: ast.expr | None = None  # alias: the aliased expression; value: the value


def dotted(node: ast.expr) -> str | None:
    """`a.b.c` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return ".".join(reversed(parts))


def last_name(node: ast.expr) -> str:
    """The final name of a decorator or callee: `register` for `@registry.register("x")`."""
    if isinstance(node, ast.Call):
        node = node.func
    text = dotted(node) or ""
    return text.rsplit(".", 1)[-1]


def own_nodes(nodes: list[ast.AST]):
    """Every node of these statements that belongs to their scope: nested function and class
    bodies are skipped (their names, decorators and defaults still belong here)."""
    stack = list(reversed(nodes))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, SCOPE_BOUNDARIES):
            heads = [*node.decorator_list]
            if isinstance(node, ast.ClassDef):
                heads += [*node.bases, *(k.value for k in node.keywords)]
            else:
                heads += [*node.args.defaults, *(d for d in node.args.kw_defaults if d)]
            stack.extend(reversed(heads))
            continue
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def assigned_names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def params_of(args: ast.arguments) -> Params:
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    required = len(positional) - len(args.defaults)
    defaults = [(positional[required + i], ast.unparse(d)) for i, d in enumerate(args.defaults)]
    defaults += [(a.arg, ast.unparse(d)) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return Params(
        positional=tuple(positional),
        posonly=len(args.posonlyargs),
        required=required,
        vararg=args.vararg is not None,
        kwonly=tuple(a.arg for a in args.kwonlyargs),
        kwonly_required=frozenset(a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None),
        varkw=args.kwarg is not None,
        defaults=tuple(defaults),
    )


def shape_of(value: ast.expr | None) -> str:
    """What a returned expression is, as far as a caller unpacking it would care."""
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return "None"
    if isinstance(value, ast.Constant):
        return type(value.value).__name__
    if isinstance(value, ast.Tuple):
        return "tuple" if any(isinstance(e, ast.Starred) for e in value.elts) else f"tuple[{len(value.elts)}]"
    kinds = {
        ast.List: "list",
        ast.ListComp: "list",
        ast.Dict: "dict",
        ast.DictComp: "dict",
        ast.Set: "set",
        ast.SetComp: "set",
        ast.JoinedStr: "str",
    }
    if type(value) in kinds:
        return kinds[type(value)]
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("dict", "list", "tuple", "set", "str", "int", "float", "bool", "frozenset")
    ):
        return value.func.id
    return "value"


def always_exits(body: list[ast.stmt]) -> bool:
    """Whether control never falls off the end of these statements (so no implicit None)."""
    if not body:
        return False
    last = body[-1]
    if isinstance(last, (ast.Return, ast.Raise)):
        return True
    if isinstance(last, ast.If):
        return always_exits(last.body) and always_exits(last.orelse)
    if isinstance(last, (ast.With, ast.AsyncWith)):
        return always_exits(last.body)
    if isinstance(last, ast.Try):
        return always_exits(last.finalbody) or (
            always_exits(last.orelse or last.body) and all(always_exits(h.body) for h in last.handlers)
        )
    if isinstance(last, ast.While):
        return (
            isinstance(last.test, ast.Constant)
            and bool(last.test.value)
            and not any(isinstance(n, ast.Break) for n in own_nodes(last.body))
        )
    return False


def body_contract(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[frozenset[str], frozenset[str]]:
    """One walk of the body: the shapes of what it returns (None when control can fall off the
    end; "generator" for a generator) and the exceptions it raises itself, by their last name."""
    shapes, raised, generator = set(), set(), False
    for node in own_nodes(fn.body):
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            generator = True
        elif isinstance(node, ast.Return):
            shapes.add(shape_of(node.value))
        elif isinstance(node, ast.Raise) and node.exc is not None:
            text = dotted(node.exc.func if isinstance(node.exc, ast.Call) else node.exc)
            if text and not text[:1].islower():  # `raise error` re-raises a caught one
                raised.add(text.rsplit(".", 1)[-1])
    if generator:
        shapes = {"generator"}
    elif not always_exits(fn.body):
        shapes.add("None")
    return frozenset(shapes), frozenset(raised)


def flavour_of(fn: ast.FunctionDef | ast.AsyncFunctionDef, in_class: bool) -> str:
    if not in_class:
        return "function"
    names = {last_name(d) for d in fn.decorator_list}
    if names & PROPERTY_DECORATORS:
        return "property"
    for flavour in ("staticmethod", "classmethod"):
        if flavour in names:
            return flavour
    return "method"


def func_info(fn: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str, in_class: bool) -> FuncInfo:
    return FuncInfo(
        qualname=qualname, line=fn.lineno, params=params_of(fn.args), flavour=flavour_of(fn, in_class), node=fn
    )


def statement_bindings(stmt: ast.stmt) -> list[tuple[str, Binding]]:
    """The names one statement binds in its own scope, with what each is bound to."""
    line = stmt.lineno
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [(stmt.name, Binding("def", line, stmt.name))]
    if isinstance(stmt, ast.ClassDef):
        return [(stmt.name, Binding("class", line, stmt.name))]
    if isinstance(stmt, ast.Import):
        return [
            (a.asname, Binding("import", line, a.name))
            if a.asname
            else (a.name.split(".")[0], Binding("import", line, a.name.split(".")[0]))
            for a in stmt.names
        ]
    if isinstance(stmt, ast.ImportFrom):
        return [
            (a.asname or a.name, Binding("from", line, stmt.module or "", a.name, stmt.level))
            for a in stmt.names
            if a.name != "*"
        ]
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None:
        kind = "alias" if dotted(stmt.value) else "value"
        bindings = []
        for target in stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]:
            if isinstance(target, ast.Name):
                bindings.append((target.id, Binding(kind, line, node=stmt.value)))
            else:
                bindings += [(name, Binding("unknown", line)) for name in assigned_names(target)]
        return bindings
    return []


def nested_statements(stmt: ast.stmt) -> list[ast.stmt]:
    """The statements inside a compound statement that run in the same scope."""
    if isinstance(stmt, SCOPE_BOUNDARIES):
        return []
    inner: list[ast.stmt] = []
    for part in ("body", "orelse", "finalbody"):
        inner += getattr(stmt, part, []) or []
    for handler in getattr(stmt, "handlers", []) or []:
        inner += handler.body
    for case in getattr(stmt, "cases", []) or []:
        inner += case.body
    return inner


def conditional_names(stmt: ast.stmt) -> set[str]:
    """Names a compound statement may or may not bind (try/except imports, if blocks, loops)."""
    names: set[str] = set()
    for node in own_nodes([stmt]):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (*SCOPE_BOUNDARIES, ast.Import, ast.ImportFrom)):
            names.update(name for name, _ in statement_bindings(node))
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
    return names
