"""What one Python module defines, read from its syntax tree: what each top-level name is bound
to, every function's parameters and contract, every class's members.

Nothing here depends on where the file sits, so one summary serves every tree holding the same
text; turning relative imports into modules is the resolver's job.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from functools import cached_property

PROPERTY_DECORATORS = {"property", "cached_property", "setter", "getter", "deleter"}
# Class decorators known to leave the members a caller reaches as the class body wrote them.
PLAIN_CLASS_DECORATORS = {"dataclass", "total_ordering", "unique", "final", "runtime_checkable"}
SCOPE_BOUNDARIES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
GLOBAL_WORD = re.compile(r"\bglobal\b")
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
        return replace(self, positional=self.positional[1:], posonly=max(0, self.posonly - 1),
                       required=max(0, self.required - 1))

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


@dataclass
class ClassInfo:
    """A class's own members; bases stay expressions for the resolver to follow."""

    qualname: str
    line: int
    bases: tuple[ast.expr, ...]
    methods: dict[str, FuncInfo]
    attrs: dict[str, ValueInfo]
    nested: dict[str, str]  # member name -> qualname of a class defined in the body
    fields: tuple[tuple[str, bool, bool], ...] | None  # dataclass fields: (name, has_default, kw_only)
    open: bool  # members may come from somewhere the body does not show (__getattr__, metaclass, decorator)
    node: ast.ClassDef = field(compare=False, repr=False)

    @cached_property
    def _instance_walk(self) -> tuple[frozenset[str], dict[str, ast.expr]]:
        return instance_attributes(self.node)

    @property
    def instance_attrs(self) -> frozenset[str]:
        """Attributes any method sets on its instance (`self.x = ...`), read on first use."""
        return self._instance_walk[0]

    @cached_property
    def attr_types(self) -> dict[str, ast.expr]:
        """What makes each attribute's value, where one thing does: a class-level annotation
        (`repo: Repo`, dataclass fields too) or a single callee in the methods (`self.repo = Repo()`)."""
        annotated = {stmt.target.id: stmt.annotation for stmt in self.node.body if isinstance(stmt, ast.AnnAssign)
                     and isinstance(stmt.target, ast.Name) and dotted(stmt.annotation)}
        return {**annotated, **self._instance_walk[1]}

    def has_own(self, name: str, instance: bool) -> bool:
        return (name in self.methods or name in self.attrs or name in self.nested
                or (instance and name in self.instance_attrs))


@dataclass(frozen=True)
class Binding:
    """What a module-level name is bound to."""

    kind: str  # def | class | import | from | alias | value | unknown
    line: int
    target: str = ""  # def/class: qualname; import: module; from: module as written (no dots)
    name: str = ""  # from: the imported name
    level: int = 0  # from: leading dots
    node: ast.expr | None = None  # alias: the aliased expression; value: the value


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
        return "\n".join(self.lines[first - 1:node.end_lineno])


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


def params_of(args: ast.arguments) -> Params:
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    required = len(positional) - len(args.defaults)
    defaults = [(positional[required + i], ast.unparse(d)) for i, d in enumerate(args.defaults)]
    defaults += [(a.arg, ast.unparse(d)) for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None]
    return Params(positional=tuple(positional), posonly=len(args.posonlyargs), required=required,
                  vararg=args.vararg is not None, kwonly=tuple(a.arg for a in args.kwonlyargs),
                  kwonly_required=frozenset(a.arg for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is None),
                  varkw=args.kwarg is not None, defaults=tuple(defaults))


def shape_of(value: ast.expr | None) -> str:
    """What a returned expression is, as far as a caller unpacking it would care."""
    if value is None or (isinstance(value, ast.Constant) and value.value is None):
        return "None"
    if isinstance(value, ast.Constant):
        return type(value.value).__name__
    if isinstance(value, ast.Tuple):
        return "tuple" if any(isinstance(e, ast.Starred) for e in value.elts) else f"tuple[{len(value.elts)}]"
    kinds = {ast.List: "list", ast.ListComp: "list", ast.Dict: "dict", ast.DictComp: "dict",
             ast.Set: "set", ast.SetComp: "set", ast.JoinedStr: "str"}
    if type(value) in kinds:
        return kinds[type(value)]
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in (
            "dict", "list", "tuple", "set", "str", "int", "float", "bool", "frozenset"):
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
            always_exits(last.orelse or last.body) and all(always_exits(h.body) for h in last.handlers))
    if isinstance(last, ast.While):
        return isinstance(last.test, ast.Constant) and bool(last.test.value) and not any(
            isinstance(n, ast.Break) for n in own_nodes(last.body))
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
    return FuncInfo(qualname=qualname, line=fn.lineno, params=params_of(fn.args), flavour=flavour_of(fn, in_class),
                    node=fn)


def assigned_names(target: ast.expr) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def statement_bindings(stmt: ast.stmt) -> list[tuple[str, Binding]]:
    """The names one statement binds in its own scope, with what each is bound to."""
    line = stmt.lineno
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [(stmt.name, Binding("def", line, stmt.name))]
    if isinstance(stmt, ast.ClassDef):
        return [(stmt.name, Binding("class", line, stmt.name))]
    if isinstance(stmt, ast.Import):
        return [(a.asname, Binding("import", line, a.name)) if a.asname
                else (a.name.split(".")[0], Binding("import", line, a.name.split(".")[0])) for a in stmt.names]
    if isinstance(stmt, ast.ImportFrom):
        return [(a.asname or a.name, Binding("from", line, stmt.module or "", a.name, stmt.level))
                for a in stmt.names if a.name != "*"]
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


def dataclass_fields(cls: ast.ClassDef) -> tuple[tuple[str, bool, bool], ...] | None:
    """The generated __init__'s parameters, or None when the class is not a dataclass that makes one."""
    deco = next((d for d in cls.decorator_list if last_name(d) == "dataclass"), None)
    if deco is None:
        return None
    options = {k.arg: k.value for k in deco.keywords} if isinstance(deco, ast.Call) else {}
    if isinstance(options.get("init"), ast.Constant) and options["init"].value is False:
        return None
    kw_only = isinstance(options.get("kw_only"), ast.Constant) and options["kw_only"].value is True
    fields = []
    for stmt in cls.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)):
            continue
        annotation = ast.unparse(stmt.annotation)
        if "ClassVar" in annotation:
            continue
        if annotation.endswith("KW_ONLY"):
            kw_only = True
            continue
        has_default, field_kw_only, in_init = stmt.value is not None, kw_only, True
        if isinstance(stmt.value, ast.Call) and last_name(stmt.value) == "field":
            opts = {k.arg: k.value for k in stmt.value.keywords}
            has_default = "default" in opts or "default_factory" in opts
            in_init = not (isinstance(opts.get("init"), ast.Constant) and opts["init"].value is False)
            if isinstance(opts.get("kw_only"), ast.Constant):
                field_kw_only = bool(opts["kw_only"].value)
        if in_init:
            fields.append((stmt.target.id, has_default, field_kw_only))
    return tuple(fields)


def instance_attributes(cls: ast.ClassDef) -> tuple[frozenset[str], dict[str, ast.expr]]:
    """Attributes any method sets on its instance (`self.x = ...`, however deep in the method), and
    for those always made by one callee (`self.repo = Repo()`; a `None` for lazy set-up aside),
    that callee."""
    names: set[str] = set()
    makers: dict[str, list[ast.expr | None]] = {}
    for fn in cls.body:
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or not fn.args.args:
            continue
        me = fn.args.args[0].arg
        for node in ast.walk(fn):
            if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and is_name(node.value, me):
                names.add(node.attr)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not is_none(node.value):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Attribute) and is_name(target.value, me):
                        makers.setdefault(target.attr, []).append(instance_origin(node))
    typed = {name: found[0] for name, found in makers.items()
             if found[0] is not None and len({dotted(e) if e is not None else None for e in found}) == 1}
    return frozenset(names), typed


def is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def instance_origin(node: ast.Assign | ast.AnnAssign) -> ast.expr | None:
    """What makes the assigned value: an annotation naming a class, or the callee of `Callee(...)`."""
    if isinstance(node, ast.AnnAssign) and dotted(node.annotation):
        return node.annotation
    if isinstance(node.value, ast.Call) and dotted(node.value.func):
        return node.value.func
    return None


def class_info(cls: ast.ClassDef, qualname: str, classes: dict[str, ClassInfo],
               functions: dict[str, FuncInfo]) -> ClassInfo:
    """Summarise a class and, recursively, the classes defined in its body."""
    methods, attrs, nested = {}, {}, {}
    for stmt in cls.body:
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            methods[stmt.name] = functions[f"{qualname}.{stmt.name}"] = func_info(stmt, f"{qualname}.{stmt.name}", True)
        elif isinstance(stmt, ast.ClassDef):
            nested[stmt.name] = f"{qualname}.{stmt.name}"
            classes[nested[stmt.name]] = class_info(stmt, nested[stmt.name], classes, functions)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for target in targets:
                for name in assigned_names(target):
                    attrs[name] = ValueInfo(stmt.lineno, stmt.value if isinstance(target, ast.Name) else None)
        for name in conditional_names(stmt) if nested_statements(stmt) else ():
            attrs.setdefault(name, ValueInfo(stmt.lineno, None))
    decorators = {last_name(d) for d in cls.decorator_list}
    open_ = bool({"__getattr__", "__getattribute__"} & methods.keys()) or any(
        k.arg == "metaclass" for k in cls.keywords) or not decorators <= PLAIN_CLASS_DECORATORS
    return ClassInfo(qualname=qualname, line=cls.lineno, bases=tuple(cls.bases), methods=methods, attrs=attrs,
                     nested=nested, fields=dataclass_fields(cls), open=open_, node=cls)


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
    stars = tuple((s.level, s.module or "") for s in tree.body
                  if isinstance(s, ast.ImportFrom) and any(a.name == "*" for a in s.names))
    answers = getattr_answers(functions["__getattr__"].node) if "__getattr__" in functions else frozenset()
    return ModuleSummary(bindings=bindings, functions=functions, classes=classes, star_imports=stars,
                         open=answers is None, dynamic=answers or frozenset(), lines=LINE_END.split(source))


def getattr_answers(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str] | None:
    """The names a module's `__getattr__` answers for, when it spells them out and raises
    AttributeError for every other one (a deprecation shim); None when it may answer anything."""
    last = fn.body[-1]
    if not (isinstance(last, ast.Raise) and last.exc is not None and last_name(last.exc) == "AttributeError"):
        return None
    return frozenset(n.value for n in ast.walk(fn) if isinstance(n, ast.Constant) and isinstance(n.value, str))
