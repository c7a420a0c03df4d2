"""How a definition's contract changed between two versions, in words: a constant's value, a
default a caller relies on, the shape of what a function returns, the exceptions it raises."""

from __future__ import annotations

from bosun.orchestration.semantic.defs import FuncInfo, ValueInfo
from bosun.orchestration.semantic.uses import CATCH_ALL

OPAQUE_SHAPES = {"value", "None"}
BROAD_HANDLERS = {CATCH_ALL, "Exception", "BaseException"}


def value_change(old: ValueInfo | None, new: ValueInfo | None) -> str | None:
    if old is None or new is None or old.dump is None or new.dump is None or old.dump == new.dump:
        return None
    if not (old.literal or new.literal) or (old.literal and new.literal and extends(old.literal[0], new.literal[0])):
        return None
    return f"value from {old.text} to {new.text}"


def extends(old: object, new: object) -> bool:
    """Whether `new` only adds to `old` (dict entries, set members, items appended to a sequence):
    code written against the old value still reads what it read."""
    if isinstance(old, dict) and isinstance(new, dict):
        return all(key in new and new[key] == value for key, value in old.items())
    if isinstance(old, (set, frozenset)) and isinstance(new, (set, frozenset)):
        return old <= new
    if isinstance(old, (list, tuple)) and type(old) is type(new):
        return len(new) > len(old) and new[: len(old)] == old
    return False


def default_change(old: FuncInfo, new: FuncInfo, relied_on: list[str]) -> str | None:
    for name in relied_on:
        before, after = old.params.default_of(name), new.params.default_of(name)
        if before is not None and after is not None and before != after:
            return f"default of {name} from {before} to {after}"
    return None


def shapes(values: frozenset[str]) -> str:
    return " or ".join(sorted(values))


def returns_change(old: FuncInfo, new: FuncInfo) -> str | None:
    """A change a caller using the result would trip on: None where a value came back, or a
    different structure (tuple length, tuple to dict, ...). Opaque values are given the benefit
    of the doubt."""
    before, after = old.returns, new.returns
    if before == after:
        return None
    gained_none = "None" in after and "None" not in before and bool(before - {"None"})
    concrete_before, concrete_after = before - OPAQUE_SHAPES, after - OPAQUE_SHAPES
    restructured = bool(concrete_before) and bool(concrete_after) and concrete_before != concrete_after
    if restructured and sequences_alike(concrete_before, concrete_after):
        restructured = False
    generator_flip = ("generator" in before) != ("generator" in after)
    if gained_none or restructured or generator_flip:
        return f"return shape from {shapes(before)} to {shapes(after)}"
    return None


def raises_change(old: FuncInfo, new: FuncInfo, caught: frozenset[str], descends) -> str | None:
    """A change to the raised exceptions that the caller's handlers (`except`, `pytest.raises`)
    show it depends on: one it handles is no longer raised (nor a subclass of it instead), or a
    new one escapes them. `descends(a, b)`: exception a is b or subclasses it. A caller that
    handles nothing, or everything, relies on no particular exception."""
    if not caught or caught & BROAD_HANDLERS:
        return None
    gone, came = old.raises - new.raises, new.raises - old.raises
    lost = {e for e in gone if not any(descends(n, e) for n in came)}
    relied_on = {e for e in lost if any(descends(e, c) for c in caught)}
    escaping = {
        e for e in came if not any(descends(e, o) for o in old.raises) and not any(descends(e, c) for c in caught)
    }
    if not (relied_on or escaping):
        return None
    return f"raised exceptions from {shapes(old.raises) or 'none'} to {shapes(new.raises) or 'none'}"


def sequences_alike(before: frozenset[str], after: frozenset[str]) -> bool:
    """A tuple that became a list (or back) iterates, indexes and measures the same; only a fixed
    tuple that changed its length breaks a caller unpacking it. (What a caller does with a list
    that a tuple lacks is the type checker's to see, run beside these checks.)"""
    both = before | after
    if not all(s == "list" or s.startswith("tuple") for s in both):
        return False
    fixed = {s for s in both if s.startswith("tuple[")}
    return len(fixed) <= 1


def call_contract_change(
    old: FuncInfo, new: FuncInfo, relied_on: list[str], result_used: bool, caught: frozenset[str], descends
) -> str | None:
    """The first contract change that matters to this call, described."""
    return (
        default_change(old, new, relied_on)
        or (returns_change(old, new) if result_used else None)
        or raises_change(old, new, caught, descends)
    )
