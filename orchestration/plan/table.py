"""What every table of the plan is (frozen once read, no key it does not declare) and `key()`,
one key's default, description and example: the pieces the plan's declaration is made of."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Table(BaseModel):
    """A table of the plan: frozen once read, and no key it does not declare."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    unknown_key: ClassVar[str] = "key"
    """What an undeclared key is called in the message refusing it."""
    missing: ClassVar[dict[str, str]] = {}
    """What a required key left out is told, when more than "missing KEY"."""


def key(default: Any = ..., description: str = "", example: Any = None, **more: Any) -> Any:
    """A key's default, its one-line description and an example as a plan writes it."""
    if example is not None:
        more["examples"] = [example]
    if "default_factory" not in more:
        more["default"] = default
    return Field(description=description, **more)
