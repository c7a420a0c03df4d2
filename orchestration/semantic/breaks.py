"""Uses one side brought into the merge that the other side's changes broke: a name, member or
module that is gone, a base-class member a subclass relies on, a call that no longer fits, and
(a warning) a definition whose contract changed under new code.

A use counts as one side's when that side's version of the file holds it more often than the
other side's: added there, or kept there while the other side dropped it. It is judged by what
it meant in that side's own tree against what it means in the merged tree, so only a
difference the other side made can raise a finding.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from bosun.orchestration.semantic.calls import callee_params, describe, misfit, omitted_defaults
from bosun.orchestration.semantic.contracts import call_contract_change, value_change
from bosun.orchestration.semantic.findings import OTHER_SIDE, SIDE_LABELS, Finding, by_side
from bosun.orchestration.semantic.merge import Merge, use_counts
from bosun.orchestration.semantic.resolve import Resolver, Target
from bosun.orchestration.semantic.touched import touched_names
from bosun.orchestration.semantic.tree import module_name
from bosun.orchestration.semantic.uses import CATCH_ALL, Use
from bosun.orchestration.semantic.whereabouts import whereabouts

IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
# An import inside a `try` catching one of these says it may fail.
IMPORT_GUARDS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException", CATCH_ALL}


@dataclass(frozen=True)
class Brought:
    """A use one side brought, with what it meant on that side and what it means merged."""

    side: str
    path: str
    module: str
    use: Use
    added: bool  # new since the base (else kept while the other side dropped it)
    mine: Target
    now: Target

    @property
    def other(self) -> str:
        return OTHER_SIDE[self.side]

    @property
    def where(self) -> str:
        return f"{self.path}:{self.use.line}"

    def did(self, what: str) -> str:
        return f"{'added' if self.added else 'kept'} {what}"

    def finding(self, kind: str, symbol: str, message: str, mine: str, other: str) -> Finding:
        return Finding(kind, self.path, self.use.line, symbol, message, **by_side(self.side, mine, other))


def short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def brought_uses(merge: Merge, side: str, path: str) -> list[tuple[Use, bool]]:
    """The merged file's uses that `side` brought, each with whether it is new since the base."""
    merged, mine = merge.parsed("merged", path), merge.parsed(side, path)
    if merged is None or mine is None:
        return []
    my_counts = use_counts(mine)
    other_counts = use_counts(merge.parsed(OTHER_SIDE[side], path))
    base_counts = use_counts(merge.parsed("base", path))
    return [
        (use, my_counts[use.key] > base_counts[use.key])
        for use in merged.uses
        if my_counts[use.key] > other_counts[use.key]
    ]


def use_findings(merge: Merge, side: str) -> list[Finding]:
    findings = []
    touched = touched_names(merge, OTHER_SIDE[side])
    for path in sorted(merge.changed[side] & merge.trees["merged"].files.keys()):
        module = module_name(path)
        for use, added in brought_uses(merge, side, path) if module else ():
            if touched is not None and touched.isdisjoint(IDENTIFIER.findall(use.text)):
                continue
            finding = judge(merge, side, path, module, use, added)
            if finding is not None:
                findings.append(finding)
    return findings


def judge(merge: Merge, side: str, path: str, module: str, use: Use, added: bool) -> Finding | None:
    mine = merge.resolvers[side].resolve(module, use)
    now = merge.resolvers["merged"].resolve(module, use)
    brought = Brought(side, path, module, use, added, mine, now)
    if mine.found and mine.kind != "external" and now.kind == "missing":
        reported_elsewhere = use.kind == "call" or (use.kind == "ref" and now.at_import)
        guarded = use.kind == "import" and bool(use.caught & IMPORT_GUARDS)
        return None if reported_elsewhere or guarded else removal(merge, brought)
    if use.kind == "call" and mine.found and now.found:
        return mismatch(merge, brought) or (call_contract(merge, brought) if added else None)
    if use.kind == "ref" and added:
        return value_contract(merge, brought)
    return None


def removal(merge: Merge, b: Brought) -> Finding:
    scope = merge.parsed("merged", b.path).scopes.get(b.use.scope)
    root = b.use.text.split(".")[0]
    through_self = scope is not None and root in (scope.self_name, scope.cls_name)
    inherited = b.use.kind == "override" or b.use.text.startswith("super().") or (b.mine.via_base and through_self)
    verb, whither = whereabouts(merge, b.side, b.mine, b.now)
    theirs_label, mine_label = SIDE_LABELS[b.other], SIDE_LABELS[b.side]
    if not inherited:
        site = merge.site(b.now)
        message = (
            f"{b.now.symbol} no longer exists: {theirs_label} {verb} it{whither} ({site}), but {mine_label} "
            f"{b.did('this use of it')} ({short(b.use.text)})"
        )
        return b.finding(
            "removed_name",
            b.now.symbol,
            message,
            b.did(f"a use of it at {b.where}"),
            f"{verb} {b.now.symbol}{whither} ({site})",
        )
    owner_class = b.mine.qualname.rsplit(".", 1)[0]
    site = merge.site(merge.resolvers["merged"].class_target(b.mine.module, owner_class))
    if b.use.kind == "override":
        what = f"{b.use.scope}.{b.use.text} overrides {b.mine.symbol}"
        consequence = "this override, which now overrides nothing"
    else:
        what, consequence = f"{short(b.use.text)} reaches {b.mine.symbol}", "this use"
    message = f"{what}, which {theirs_label} {verb}{whither} ({site}); {mine_label} {b.did(consequence)}"
    return b.finding(
        "removed_base_member",
        b.mine.symbol,
        message,
        b.did(f"{short(b.use.text)} at {b.where}"),
        f"{verb} {b.mine.symbol}{whither} ({site})",
    )


def arguments_text(call: ast.Call) -> str:
    return short(", ".join(ast.unparse(a) for a in (*call.args, *call.keywords)), 50)


def mismatch(merge: Merge, b: Brought) -> Finding | None:
    before = callee_params(merge.resolvers[b.side], b.mine)
    after = callee_params(merge.resolvers["merged"], b.now)
    call: ast.Call = b.use.node
    if before is None or after is None or misfit(before[0], call) is not None:
        return None
    problem = misfit(after[0], call)
    if problem is None:
        return None
    name = b.now.symbol.rsplit(".", 1)[-1]
    site, shape = merge.site(after[1]), f"{name}{describe(after[0])}"
    message = (
        f"call to {b.now.symbol}({arguments_text(call)}) {problem}: {SIDE_LABELS[b.other]} changed it to "
        f"{shape} ({site}), {SIDE_LABELS[b.side]} {b.did('this call')} ({b.where})"
    )
    return b.finding(
        "signature_mismatch",
        b.now.symbol,
        message,
        b.did(f"call {short(ast.unparse(call))} at {b.where}"),
        f"changed {b.now.symbol} to {shape} ({site})",
    )


def call_contract(merge: Merge, b: Brought) -> Finding | None:
    before = callee_params(merge.resolvers[b.side], b.mine)
    after = callee_params(merge.resolvers["merged"], b.now)
    if before is None or after is None or before[1].kind != "function" or after[1].kind != "function":
        return None
    relied_on = omitted_defaults(before[0], b.use.node)
    result_used = b.use.result_used and b.mine.kind == "function"
    resolver, module = merge.resolvers["merged"], after[1].module
    change = call_contract_change(
        before[1].info,
        after[1].info,
        relied_on,
        result_used,
        b.use.caught,
        lambda name, ancestor: resolver.descends(module, name, ancestor),
    )
    return contract_finding(merge, b, after[1], change, "this call") if change else None


def value_contract(merge: Merge, b: Brought) -> Finding | None:
    """A constant's new value under code written against the old one (dunder metadata such as
    `__version__` aside: code reading it expects it to change)."""
    old = value_prefix(merge.resolvers[b.side], b.module, b.use)
    new = value_prefix(merge.resolvers["merged"], b.module, b.use)
    if old is None or new is None or new.symbol.rsplit(".", 1)[-1].startswith("__"):
        return None
    change = value_change(old.info, new.info)
    return contract_finding(merge, b, new, change, "this use") if change else None


def value_prefix(resolver: Resolver, module: str, use: Use) -> Target | None:
    """The constant a reference reads: the reference itself, or the part before `.value`-like tails."""
    node = use.node
    while isinstance(node, (ast.Attribute, ast.Name)):
        target = resolver.expr_target(module, use.scope, node)
        if target.kind != "unknown":
            return target if target.kind == "value" else None
        node = node.value if isinstance(node, ast.Attribute) else None
    return None


def contract_finding(merge: Merge, b: Brought, definition: Target, change: str, what: str) -> Finding:
    site = merge.site(definition)
    message = (
        f"{definition.symbol} changed its {change}: {SIDE_LABELS[b.other]} changed it ({site}) while "
        f"{SIDE_LABELS[b.side]} {b.did(what)}, written against the old contract"
    )
    return b.finding(
        "contract_change",
        definition.symbol,
        message,
        b.did(f"{short(b.use.text)} at {b.where}"),
        f"changed {definition.symbol}'s {change} ({site})",
    )
