"""The kinds of value a plan key holds, each with what a wrong one is told (one line, no place).

A value type here is an `Annotated` pydantic type: how TOML's value is checked and turned into
what the rest of Bosun uses (a duration in seconds, a mount as a pair), the JSON Schema an editor
sees for the file's form of it, and the message a user reads when it is wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

import annotated_types as at
from pydantic import AfterValidator, BeforeValidator, PlainValidator, Strict, ValidationError, WrapValidator
from pydantic import StringConstraints as Chars
from pydantic.json_schema import WithJsonSchema

from bosun.orchestration.budget import Budget, parse_budget
from bosun.orchestration.scope import normalize, scope_problem

ID_SHAPE = r"^[A-Za-z0-9][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]+)*$"
"""Words joined by single dots (no `..`, no end in `.`): what the schema and pydantic's regex
engine (no look-around) can say of an id."""
UNIT_ID = re.compile(r"(?!.{65})(?!.*\.lock$)" + ID_SHAPE[1:])
"""A unit's or an agent's name; it names a git branch (`bosun/unit/ID`), so nothing git refuses
there: `..`, or an end in `.` or `.lock`; at most 64 characters."""
ID_RULE = "letters, digits, '.', '_' and '-', at most 64, with no '..' and no end in '.' or '.lock'"
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
PLACEHOLDERS = ("task_file", "prompt", "unit", "worktree", "gate")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
DURATION_PATTERN = r"^\s*(\d+|((\d+(\.\d+)?)(ms|s|m|h))+)\s*$"


def told(kind: Any, say: Callable[[Any], str]) -> Any:
    """`kind` checked as pydantic checks it, any failure told as `say(value)`."""

    def check(value: Any, handler: Callable[[Any], Any]) -> Any:
        try:
            return handler(value)
        except ValidationError:
            raise ValueError(say(value)) from None

    return Annotated[kind, WrapValidator(check)]


def listed(say: str, empty: bool = True) -> BeforeValidator:
    """A list (its entries are checked one by one, each told on its own); anything else told `say`."""

    def check(value: Any) -> Any:
        if not isinstance(value, list | tuple) or not (value or empty):
            raise ValueError(say)
        return value

    return BeforeValidator(check)


def choice(*options: str, say: Callable[[Any], str] | None = None) -> Any:
    """One of `options` (an enum in the schema, so editors complete it)."""
    default = lambda value: f"must be one of {', '.join(options)}, not {value!r}"
    return told(Literal[options], say or default)


def whole(low: int, high: int) -> Any:
    """A whole number from `low` to `high` (TOML's true is not 1, "4" is not 4)."""
    return told(
        Annotated[int, Strict(), at.Ge(low), at.Le(high)],
        lambda value: f"must be a whole number from {low} to {high}, not {value!r}",
    )


def text(say: str = "must be a non-empty string") -> Any:
    """A string with something in it besides spaces."""
    return told(Annotated[str, Chars(strict=True, pattern=r"\S")], lambda _value: say)


Flag = told(Annotated[bool, Strict()], lambda value: f"must be true or false, not {value!r}")


def _branch(name: str) -> str:
    bad = (
        not re.fullmatch(r"[A-Za-z0-9._/-]+", name)
        or ".." in name
        or name.startswith(("/", "-", "."))
        or name.endswith(("/", ".lock", "."))
        or "//" in name
        or "/." in name
    )
    if bad:
        raise ValueError(f"'{name}' is not a valid branch name")
    return name


Branch = Annotated[text(), AfterValidator(_branch)]
EnvName = told(
    Annotated[str, Chars(strict=True, pattern=ENV_NAME.pattern)], lambda _value: "must name an environment variable"
)
EnvNames = told(
    tuple[Annotated[str, Chars(strict=True, pattern=ENV_NAME.pattern)], ...],
    lambda _value: "must be a list of environment variable names",
)


def parse_duration(value: Any) -> float:
    """Seconds from `90`, `"30s"`, `"10m"`, `"1h30m"` or `"250ms"`; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError(value)
    if isinstance(value, int | float):
        if not math.isfinite(value) or value <= 0:
            raise ValueError(value)
        return float(value)
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip()
    if text.isdigit():
        return parse_duration(int(text))
    pieces = _DURATION.findall(text)
    if not pieces or "".join(n + u for n, u in pieces) != text:
        raise ValueError(value)
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    seconds = sum(float(n) * scale[u] for n, u in pieces)
    if seconds <= 0:
        raise ValueError(value)
    return seconds


def _duration(value: Any) -> float:
    try:
        return parse_duration(value)
    except ValueError:
        raise ValueError(f'bad duration {value!r} (use e.g. 90, "30s", "10m", "1h30m")') from None


Duration = Annotated[
    float,
    PlainValidator(_duration),
    WithJsonSchema(
        {"anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"type": "string", "pattern": DURATION_PATTERN}]}
    ),
]
"""Seconds, written as a number or as "30s", "10m", "1h30m", "250ms"."""


def _budget(value: Any) -> Budget:
    if isinstance(value, Budget):
        return value
    budget, problem = parse_budget(value)
    if problem:
        raise ValueError(problem)
    return budget


BudgetTable = Annotated[
    Budget,
    PlainValidator(_budget),
    WithJsonSchema(
        {
            "type": "object",
            "properties": {
                "tokens": {"type": "integer", "minimum": 1, "description": "Tokens in and out, added up."},
                "usd": {"type": "number", "exclusiveMinimum": 0, "description": "US dollars, as the agents report."},
            },
            "additionalProperties": False,
            "minProperties": 1,
        }
    ),
]
"""`{ tokens = 200000, usd = 5 }`: either or both."""


def mount_problem(entry: Any) -> str | None:
    """Why a `mounts` entry is unusable, or None: `~/x`, `~/x:ro`, `/abs/path:rw`."""
    if not isinstance(entry, str) or not entry:
        return 'entries are paths such as "~/.claude" or "~/.codex:ro"'
    path = entry.rsplit(":", 1)[0] if entry.endswith((":ro", ":rw")) else entry
    if not (path.startswith("~/") or path.startswith("/")):
        return f"'{entry}': a path starting with ~/ (your home) or /"
    parts = [p for p in path[1:].split("/") if p]
    if not parts:
        return f"'{entry}': a whole home or the whole machine cannot be mounted; name the folders"
    if any(p in (".", "..") for p in parts):
        return f"'{entry}': no '.' or '..' in mounts"
    return None


def parse_mount(entry: str) -> tuple[str, bool]:
    """(path as written, writable) from `~/x`, `~/x:ro` or `~/x:rw`."""
    if entry.endswith((":ro", ":rw")):
        return entry[:-3], entry.endswith(":rw")
    return entry, True


def _mount(value: Any) -> tuple[str, bool]:
    if isinstance(value, tuple):
        return value
    if (why := mount_problem(value)) is not None:
        raise ValueError(why)
    return parse_mount(value)


Mounts = Annotated[
    tuple[
        Annotated[
            tuple[str, bool],
            PlainValidator(_mount),
            WithJsonSchema({"type": "string", "pattern": r"^(~|/)/?[^:]+(:ro|:rw)?$"}),
        ],
        ...,
    ],
    listed('must be a list of paths, e.g. ["~/.claude", "~/.codex:ro"]'),
]


def _resources(value: Any) -> tuple[tuple[str, float], ...]:
    if isinstance(value, tuple):
        return value
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
        for k, v in value.items()
    ):
        raise ValueError("must be a table of names and amounts, e.g. { GPU = 1 } or { claude_cli = 1 }")
    return tuple((k, float(v)) for k, v in value.items())


Resources = Annotated[
    tuple[tuple[str, float], ...],
    PlainValidator(_resources),
    WithJsonSchema({"type": "object", "additionalProperties": {"type": "number", "minimum": 0}}),
]


def _scope_entry(value: Any) -> str:
    if (why := scope_problem(value)) is not None:
        raise ValueError(why)
    return normalize(value)


Scope = Annotated[
    tuple[Annotated[str, PlainValidator(_scope_entry), WithJsonSchema({"type": "string", "minLength": 1})], ...],
    listed("must be a non-empty list of paths or globs", empty=False),
    at.MinLen(1),
]


def _repo_file(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    if (why := scope_problem(value)) is not None:
        raise ValueError(why)
    return normalize(value)


RepoFiles = Annotated[
    tuple[Annotated[str, PlainValidator(_repo_file), WithJsonSchema({"type": "string", "minLength": 1})], ...],
    listed("must be a list of files"),
]
"""Files named relative to the repository and inside it (`copy`, `setup_key`): Bosun reads and
writes them there, outside any sandbox."""


def _command(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not value or not all(isinstance(a, str) for a in value):
        raise ValueError("must be a non-empty list of strings")
    unknown = [name for arg in value for name in re.findall(r"\{([^{}]*)\}", arg) if name not in PLACEHOLDERS]
    if unknown:
        known = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
        names = ", ".join("{" + n + "}" for n in unknown)
        raise ValueError(f"unknown placeholder{'s' if len(unknown) > 1 else ''} {names} (known: {known})")
    return tuple(value)


Command = Annotated[
    tuple[str, ...],
    PlainValidator(_command),
    WithJsonSchema({"type": "array", "items": {"type": "string"}, "minItems": 1}),
]
"""An argv list; `{task_file}`, `{prompt}`, `{unit}` and `{worktree}` are filled in."""


def _no_lock(name: str) -> str:
    if name.endswith(".lock"):
        raise ValueError("an id ending in .lock")
    return name


UnitId = told(
    Annotated[str, Chars(strict=True, pattern=ID_SHAPE, max_length=64), AfterValidator(_no_lock)],
    lambda _value: f"ids use {ID_RULE}",
)
UnitIds = told(tuple[Annotated[str, Strict()], ...], lambda _value: "must be a list of unit ids")
Price = told(
    Annotated[float, Strict(), at.Ge(0)], lambda _value: "must be a number of USD per million tokens, 0 or more"
)


def address(example: str) -> Any:
    """An address without spaces (a Ray cluster's, a git hub's)."""
    return told(Annotated[str, Chars(strict=True, pattern=r"^\S+$")], lambda _value: f"must be {example}")
