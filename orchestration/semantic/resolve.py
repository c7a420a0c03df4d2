"""What a use means in one tree of modules: names are followed through imports (absolute and
relative), re-exports, aliases, classes and their bases, and instances made locally. The answer
is a definition, or `missing` when the tree plainly lacks it, or `unknown` when it cannot tell.
"""

from __future__ import annotations

import abc
import ast
import builtins
import enum
from dataclasses import dataclass, replace

from bosun.orchestration.semantic.classes import ClassInfo
from bosun.orchestration.semantic.defs import Binding, ValueInfo, dotted
from bosun.orchestration.semantic.tree import Tree
from bosun.orchestration.semantic.uses import MODULE_SCOPE, Scope, Use, super_member

MAX_DEPTH = 40  # links followed to resolve one name (imports, aliases, re-exports)
# Outside modules whose classes may be read for their members (importing them runs nothing new).
INSPECTABLE = {"builtins": builtins, "enum": enum, "abc": abc}


@dataclass(frozen=True)
class Target:
    """What a name or dotted path denotes in one tree."""

    kind: str  # module | function | class | instance | value | external | missing | unknown
    module: str = ""  # the module holding the definition; for missing: the module that lacks the name
    qualname: str = ""  # inside that module; for missing: the class that lacks the member, if any
    info: object = None  # FuncInfo, ClassInfo or ValueInfo
    member: str = ""  # missing: the absent name; external: its dotted origin
    bound: bool = False  # function: its first parameter is already bound (reached through an instance)
    via_base: bool = False  # a class member found on a base class rather than the class itself
    at_import: bool = False  # missing at the import statement that names it

    @property
    def symbol(self) -> str:
        owner = ".".join(p for p in (self.module, self.qualname) if p)
        return ".".join(p for p in (owner, self.member) if p) if self.kind == "missing" else owner

    @property
    def found(self) -> bool:
        return self.kind not in ("missing", "unknown")


UNKNOWN = Target("unknown")


@dataclass(frozen=True)
class Lineage:
    """A class's method resolution order within the project, and whether it tells every member."""

    classes: tuple[Target, ...]
    closed: bool
    outside_names: frozenset[str]  # members of inspectable outside bases (object, Exception, Enum)
    foreign: bool  # some base other than `object` comes from outside the project
    ancestors: frozenset[str]  # the last names of the class and all its known bases, outside ones too


def absolute_module(module: str, is_package: bool, level: int, name: str) -> str | None:
    """The module a (possibly relative) import names, seen from `module`."""
    if level == 0:
        return name or None
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts):
        return None
    parts = parts[: len(parts) - (level - 1)]
    return ".".join(p for p in (*parts, name) if p) or None


def outside_class(origin: str) -> type | None:
    """An inspectable outside class (`builtins.ValueError`, `enum.Enum`) by its dotted origin, else None."""
    module, _, name = origin.rpartition(".")
    cls = getattr(INSPECTABLE.get(module), name, None)
    return cls if isinstance(cls, type) else None


def c3_merge(head: Target, sequences: list[list[Target]]) -> list[Target] | None:
    """Python's method resolution order; None when the bases admit none."""
    result, seqs = [head], [list(s) for s in sequences if s]
    key = lambda t: (t.module, t.qualname)
    while seqs:
        for seq in seqs:
            if not any(key(seq[0]) in map(key, other[1:]) for other in seqs):
                chosen = seq[0]
                break
        else:
            return None
        result.append(chosen)
        seqs = [s[1:] if key(s[0]) == key(chosen) else s for s in seqs]
        seqs = [s for s in seqs if s]
    return result


class Resolver:
    """Answers what names, dotted paths and class members denote in one tree."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self._lineages: dict[tuple[str, str], Lineage | None] = {}

    def resolve(self, module: str, use: Use) -> Target:
        """What a recorded use denotes: its import, its reference, its callee, or its overridden member."""
        if use.kind == "import":
            return self.import_target(module, use.text)
        if use.kind == "override":
            return self.inherited(self.class_target(module, use.scope), use.text)
        node = use.node.func if use.kind == "call" else use.node
        return self.expr_target(module, use.scope, node)

    def expr_target(self, module: str, scope: str, node: ast.expr, depth: int = 0) -> Target:
        if super_member(node):
            return self.inherited(self.class_target(module, self.owner_class(module, scope) or ""), node.attr)
        text = dotted(node)
        if text is None or depth > MAX_DEPTH:
            return UNKNOWN
        first, *rest = text.split(".")
        target = self.name_target(module, scope, first, depth + 1)
        for attr in rest:
            target = self.attribute(target, attr, depth + 1)
        return target

    def owner_class(self, module: str, scope_name: str) -> str | None:
        parsed = self.tree.parsed(module)
        scope = parsed.scopes.get(scope_name) if parsed else None
        return scope.owner_class if scope else None

    def name_target(self, module: str, scope_name: str, name: str, depth: int) -> Target:
        """Python's lookup: the function's locals, enclosing functions, the module, builtins."""
        parsed = self.tree.parsed(module)
        if parsed is None:
            return UNKNOWN
        scope = parsed.scopes.get(scope_name)
        innermost = True
        while scope is not None and scope.kind != "module" and name not in scope.globals:
            if scope.kind == "function":
                found = self.local_target(module, scope, name, depth)
                if found is not None:
                    return found
            elif innermost and name in scope.locals:
                return UNKNOWN
            innermost = False
            scope = parsed.scopes.get(scope.parent or "")
        return self.global_target(module, name, depth)

    def local_target(self, module: str, scope: Scope, name: str, depth: int) -> Target | None:
        if name == scope.self_name:
            return self.instance_of(self.class_target(module, scope.owner_class or ""))
        if name == scope.cls_name:
            return self.class_target(module, scope.owner_class or "")
        if name in scope.instances:
            return self.instance_of(self.expr_target(module, scope.qualname, scope.instances[name], depth + 1))
        if name in scope.imports:
            return self.binding_target(module, name, scope.imports[name], depth + 1)
        return UNKNOWN if name in scope.locals else None

    def global_target(self, module: str, name: str, depth: int) -> Target:
        target = self.module_binding(module, name, depth)
        if target.kind != "missing":
            return target
        if hasattr(builtins, name) or name in ("__file__", "__name__", "__doc__", "__path__", "__spec__"):
            return Target("external", member=f"builtins.{name}")
        return target

    def module_binding(self, module: str, name: str, depth: int) -> Target:
        """A name bound at the top of a module, through star imports too."""
        parsed = self.tree.parsed(module)
        if parsed is None:
            return UNKNOWN if module in self.tree.paths else Target("missing", module, member=name)
        summary = parsed.summary
        if name in summary.bindings:
            return self.binding_target(module, name, summary.bindings[name], depth + 1)
        for level, source in summary.star_imports:
            origin = absolute_module(module, self.tree.is_package(module), level, source)
            if origin is None or not self.tree.exists(origin):
                return UNKNOWN
            target = self.module_binding(origin, name, depth + 1) if depth < MAX_DEPTH else UNKNOWN
            if target.kind != "missing" and not name.startswith("_"):
                return target
        return UNKNOWN if summary.open or name in summary.dynamic else Target("missing", module, member=name)

    def module_member(self, module: str, name: str, depth: int) -> Target:
        """`module.name`: a binding in the module, or a submodule."""
        target = self.module_binding(module, name, depth)
        if target.kind == "missing" and self.tree.exists(f"{module}.{name}"):
            return Target("module", f"{module}.{name}")
        if target.kind == "missing" and name.startswith("__"):
            return UNKNOWN
        return target

    def binding_target(self, module: str, name: str, binding: Binding, depth: int) -> Target:
        parsed = self.tree.parsed(module)
        if depth > MAX_DEPTH or parsed is None:
            return UNKNOWN
        if binding.kind == "def" and binding.target in parsed.summary.functions:
            return Target("function", module, binding.target, parsed.summary.functions[binding.target])
        if binding.kind == "class":
            return self.class_target(module, binding.target)
        if binding.kind == "import":
            return self.module_target(binding.target, at_import=True)
        if binding.kind == "from":
            return self.from_target(module, binding.level, binding.target, binding.name, depth)
        if binding.kind == "alias" and binding.node is not None:
            return self.expr_target(module, MODULE_SCOPE, binding.node, depth + 1)
        if binding.kind == "value" and binding.node is not None:
            return Target("value", module, name, ValueInfo(binding.line, binding.node))
        return UNKNOWN

    def module_target(self, name: str, at_import: bool = False) -> Target:
        """A module by its dotted name: found, missing from the project, or outside it."""
        if self.tree.exists(name):
            return Target("module", name)
        if not self.tree.in_project(name):
            return Target("external", member=name)
        parts = name.split(".")
        first_absent = next(i for i in range(1, len(parts) + 1) if not self.tree.exists(".".join(parts[:i])))
        return Target(
            "missing", ".".join(parts[: first_absent - 1]), member=parts[first_absent - 1], at_import=at_import
        )

    def from_target(self, module: str, level: int, source: str, name: str, depth: int) -> Target:
        origin = absolute_module(module, self.tree.is_package(module), level, source)
        if origin is None:
            return UNKNOWN
        if not self.tree.exists(origin):
            found = self.module_target(origin, at_import=True)
            return Target("external", member=f"{origin}.{name}") if found.kind == "external" else found
        target = self.module_member(origin, name, depth + 1)
        return replace(target, at_import=True) if target.kind == "missing" else target

    def import_target(self, module: str, text: str) -> Target:
        """What an import use (`import a.b` / `from .a import b`) names."""
        words = text.split()
        if words[0] == "import":
            return self.module_target(words[1])
        source = words[1].lstrip(".")
        level = len(words[1]) - len(source)
        return self.from_target(module, level, source, words[3], 0)

    def class_target(self, module: str, qualname: str) -> Target:
        parsed = self.tree.parsed(module)
        info = parsed.summary.classes.get(qualname) if parsed else None
        return Target("class", module, qualname, info) if info else UNKNOWN

    def instance_of(self, target: Target) -> Target:
        """An instance of what `target` makes: a class, or a function annotated to return one."""
        if target.kind == "function" and target.info.node.returns is not None:
            target = self.expr_target(target.module, MODULE_SCOPE, target.info.node.returns)
        return replace(target, kind="instance") if target.kind == "class" else UNKNOWN

    def attribute(self, target: Target, name: str, depth: int) -> Target:
        if target.kind == "module":
            return self.module_member(target.module, name, depth)
        if target.kind in ("class", "instance"):
            return self.class_member(target, name, target.kind == "instance")
        if target.kind == "external":
            return Target("external", member=f"{target.member}.{name}")
        return target if target.kind in ("missing", "unknown") else UNKNOWN

    def lineage(self, cls: Target) -> Lineage | None:
        """The class's MRO inside the project, cached; None while it is being computed (a cycle)."""
        key = (cls.module, cls.qualname)
        if key not in self._lineages:
            self._lineages[key] = None
            self._lineages[key] = self._compute_lineage(cls)
        return self._lineages[key]

    def _compute_lineage(self, cls: Target) -> Lineage | None:
        info: ClassInfo = cls.info
        closed, foreign, outside, ancestors, parents = not info.open, False, set(dir(object)), set(), []
        for base in info.bases:
            target = self.expr_target(cls.module, MODULE_SCOPE, base)
            parent = self.lineage(target) if target.kind == "class" else None
            known = outside_class(target.member) if target.kind == "external" else None
            if parent is not None:
                parents.append(list(parent.classes))
                closed, foreign = closed and parent.closed, foreign or parent.foreign
                outside, ancestors = outside | parent.outside_names, ancestors | parent.ancestors
            elif known is not None:
                outside |= set(dir(known))
                ancestors |= {c.__name__ for c in known.__mro__}
                foreign = foreign or known is not object
            else:
                closed, foreign = False, True
        order = c3_merge(cls, parents + [[p[0] for p in parents]])
        if order is None:
            return None
        ancestors |= {c.qualname.rsplit(".", 1)[-1] for c in order}
        return Lineage(tuple(order), closed, frozenset(outside), foreign, frozenset(ancestors))

    def descends(self, module: str, name: str, ancestor: str) -> bool:
        """Whether the class `name` (as seen from `module`) is `ancestor` or subclasses it."""
        if name == ancestor:
            return True
        target = self.name_target(module, MODULE_SCOPE, name, 0)
        if target.kind == "class":
            lineage = self.lineage(target)
            return lineage is not None and ancestor in lineage.ancestors
        known = outside_class(target.member) if target.kind == "external" else None
        return known is not None and ancestor in {c.__name__ for c in known.__mro__}

    def class_member(self, cls: Target, name: str, instance: bool, skip_own: bool = False) -> Target:
        """A member as Python finds it: the class, then its bases in MRO order."""
        lineage = self.lineage(replace(cls, kind="class"))
        if lineage is None:
            return UNKNOWN
        for position, owner in enumerate(lineage.classes):
            info: ClassInfo = owner.info
            if (position or not skip_own) and info.has_own(name, instance):
                return self.own_member(owner, name, instance, via_base=position > 0)
        if name in lineage.outside_names or not lineage.closed or name.startswith("__"):
            return UNKNOWN
        return Target("missing", cls.module, cls.qualname, member=name)

    def own_member(self, owner: Target, name: str, instance: bool, via_base: bool) -> Target:
        info: ClassInfo = owner.info
        if name in info.methods:
            fn = info.methods[name]
            if fn.flavour == "property":
                return Target("value", owner.module, fn.qualname, None, via_base=via_base)
            bound = fn.flavour == "classmethod" or (instance and fn.flavour == "method")
            return Target("function", owner.module, fn.qualname, fn, bound=bound, via_base=via_base)
        if name in info.nested:
            return replace(self.class_target(owner.module, info.nested[name]), via_base=via_base)
        if instance and name in info.attr_types:
            made = self.instance_of(self.expr_target(owner.module, MODULE_SCOPE, info.attr_types[name]))
            if made.kind == "instance":
                return replace(made, via_base=via_base)
        return Target("value", owner.module, f"{info.qualname}.{name}", info.attrs.get(name), via_base=via_base)

    def inherited(self, cls: Target, name: str) -> Target:
        """The member a subclass reaches through `super()` or overrides: the bases only."""
        if cls.kind != "class":
            return UNKNOWN
        return self.class_member(cls, name, instance=True, skip_own=True)
