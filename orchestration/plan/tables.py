"""One table of a plan checked against its declaration: every problem found in one pass, told as
`where: what` at the line of the key it is about, in the order the declaration lists the keys."""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import SkipJsonSchema

from bosun.orchestration.plan.places import Problems
from bosun.orchestration.plan.table import Table

Rule = tuple[str, str | None, str]
"""A problem a rule found: (the key it is about, the key to name or None for the table, what)."""


@dataclass(frozen=True)
class Place:
    """Where a table is: how its problems are named and which lines hold its keys."""

    where: Callable[[str], str]
    """A key path (`merge`, `checks[2].run`, or "" for the table itself) -> the place's words."""
    header: int | None
    """The table's header line: its keys are searched below it."""
    line: int | None
    """The line named when a key has none of its own (a missing key)."""


@functools.cache
def file_keys(model: type[BaseModel]) -> tuple[str, ...]:
    """The keys a plan may write in this table, in declaration order (internal fields left out)."""
    return tuple(
        info.alias or name
        for name, info in model.model_fields.items()
        if not any(isinstance(m, SkipJsonSchema) for m in info.metadata)
    )


def check_table(
    problems: Problems,
    model: type[Table],
    raw: dict,
    place: Place,
    context: dict | None = None,
    internal: dict | None = None,
    rules: Iterable[Rule] = (),
) -> Any:
    """The table as `model`, or None after adding each of its problems to `problems`."""
    keys = file_keys(model)
    found: list[tuple[int, str, str, str]] = []  # (key's index, key, path named, what)
    for name in raw:
        if name not in keys:
            found.append((-1, name, "", unknown_key(model, name)))
    known = {k: v for k, v in raw.items() if k in keys}
    instance = None
    try:
        instance = model.model_validate({**known, **(internal or {})}, context=context)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"] or ("",)  # a check of the whole table names no key
            found.append((_index(keys, loc[0]), str(loc[0]), _path(loc), _what(model, error)))
    for key, named, what in rules:
        found.append((_index(keys, key), key, named or "", what))
    found.sort(key=lambda item: item[0])
    for _, key, path, what in found:
        line = problems.key_line(key, place.header) if place.header else None
        problems.add(place.where(path), what, line or place.line)
    return None if found else instance


def unknown_key(model: type[BaseModel], name: str) -> str:
    """The refusal of a key `model` does not declare, naming the ones it does."""
    word = getattr(model, "unknown_key", "key")
    return f"unknown {word} '{name}' (known: {', '.join(sorted(file_keys(model)))})"


def _index(keys: tuple[str, ...], key: Any) -> int:
    return keys.index(key) if key in keys else len(keys)


def _path(loc: tuple) -> str:
    """`checks[2].run` from ("checks", 2, "run"); an index that ends the path is left out (the
    message names the entry), as for `mounts` or `scope`."""
    path = str(loc[0])
    for n, part in enumerate(loc[1:], 1):
        if isinstance(part, int):
            path += f"[{part}]" if n < len(loc) - 1 else ""
        else:
            path += f".{part}"
    return path


def _what(model: type[BaseModel], error: dict) -> str:
    kind = error["type"]
    if kind == "value_error":
        return str(error["ctx"]["error"])
    if kind == "missing":
        name = error["loc"][-1]
        return getattr(model, "missing", {}).get(name, f"missing {name}")
    if kind == "extra_forbidden":
        nested = _model_at(model, error["loc"][:-1])
        return unknown_key(nested, str(error["loc"][-1])) if nested else f"unknown key '{error['loc'][-1]}'"
    return error["msg"]


def _model_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The table model a location inside `model` names (a `checks` entry, `semantic`)."""
    for part in loc:
        if isinstance(part, int):
            continue
        info = next((i for n, i in model.model_fields.items() if part in (n, i.alias)), None)
        if info is None:
            return None
        found = _models_in((info.annotation, *info.metadata))
        if not found:
            return None
        model = found[0]
    return model


def _models_in(things: Iterable[Any]) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for thing in things:
        if isinstance(thing, type) and issubclass(thing, BaseModel):
            found.append(thing)
        elif hasattr(thing, "json_schema_input_type"):
            found += _models_in([thing.json_schema_input_type])
        else:
            found += _models_in(typing.get_args(thing))
    return found


@functools.cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter:
    info = model.model_fields[name]
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation)


def valid_part(model: type[BaseModel], raw: dict, names: Iterable[str]) -> dict:
    """Those of the keys `names` whose values are valid on their own, checked (the rest left out):
    enough of a table with problems for the checks across tables (dependencies, scopes)."""
    values = {}
    for name in names:
        if name in raw:
            try:
                values[name] = _adapter(model, name).validate_python(raw[name])
            except ValidationError:
                pass
    return values
