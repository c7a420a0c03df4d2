"""What a class offers: its methods, class attributes, nested classes, the attributes its methods
set on instances (and, where one callee always makes them, of what class), and the parameters a
`@dataclass` generates."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from functools import cached_property

from bosun.orchestration.semantic.defs import (
    FuncInfo,
    ValueInfo,
    assigned_names,
    conditional_names,
    dotted,
    func_info,
    is_name,
    is_none,
    last_name,
    nested_statements,
)

# Class decorators known to leave the members a caller reaches as the class body wrote them.
PLAIN_CLASS_DECORATORS = {"dataclass", "total_ordering", "unique", "final", "runtime_checkable"}


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
        annotated = {
            stmt.target.id: stmt.annotation
            for stmt in self.node.body
            if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and dotted(stmt.annotation)
        }
        return {**annotated, **self._instance_walk[1]}

    def has_own(self, name: str, instance: bool) -> bool:
        return (
            name in self.methods
            or name in self.attrs
            or name in self.nested
            or (instance and name in self.instance_attrs)
        )


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
    typed = {
        name: found[0]
        for name, found in makers.items()
        if found[0] is not None and len({dotted(e) if e is not None else None for e in found}) == 1
    }
    return frozenset(names), typed


def instance_origin(node: ast.Assign | ast.AnnAssign) -> ast.expr | None:
    """What makes the assigned value: an annotation naming a class, or the callee of `Callee(...)`."""
    if isinstance(node, ast.AnnAssign) and dotted(node.annotation):
        return node.annotation
    if isinstance(node.value, ast.Call) and dotted(node.value.func):
        return node.value.func
    return None


def class_info(
    cls: ast.ClassDef, qualname: str, classes: dict[str, ClassInfo], functions: dict[str, FuncInfo]
) -> ClassInfo:
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
    open_ = (
        bool({"__getattr__", "__getattribute__"} & methods.keys())
        or any(k.arg == "metaclass" for k in cls.keywords)
        or not decorators <= PLAIN_CLASS_DECORATORS
    )
    return ClassInfo(
        qualname=qualname,
        line=cls.lineno,
        bases=tuple(cls.bases),
        methods=methods,
        attrs=attrs,
        nested=nested,
        fields=dataclass_fields(cls),
        open=open_,
        node=cls,
    )
