"""The user's own settings for the screen, from `$XDG_CONFIG_HOME/bosun/config.toml` (by default
`~/.config/bosun/config.toml`): a theme and keys of their own.

    theme = "nord"                      # any of Textual's themes (the palette's "Change theme" lists them)

    [keys]                              # binding id = key(s), comma-separated; the help screen lists the ids
    "unit.approve" = "A"
    "session.palette" = "colon,ctrl+k"

The keys go through Textual's keymap (App.set_keymap), so the footer, the help screen and the
palette show the user's keys. A file that cannot be read is named in one line; the screen opens
with the defaults.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from bosun.app.tui.keys import APP_BINDINGS, SCREEN_BINDINGS

CONFIG_SHOWN = "~/.config/bosun/config.toml (under $XDG_CONFIG_HOME when set)"
BINDING_IDS = {b.id for b in [*SCREEN_BINDINGS, *APP_BINDINGS] if b.id}


@dataclass
class UserConfig:
    theme: str | None = None
    keymap: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    """One line each: what in the file was not used, and where."""


def config_path() -> Path:
    home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(home) / "bosun" / "config.toml"


def load_user_config(path: Path | None = None) -> UserConfig:
    path = path or config_path()
    config = UserConfig()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return config
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        config.problems.append(f"{path}: not read ({exc}); the defaults are used")
        return config
    theme = raw.get("theme")
    if theme is not None and not isinstance(theme, str):
        config.problems.append(f"{path}: theme must be a theme's name")
    else:
        config.theme = theme
    keys = raw.get("keys", {})
    if not isinstance(keys, dict):
        config.problems.append(f"{path}: [keys] must be a table of binding id = key")
        return config
    for binding_id, key in keys.items():
        if binding_id not in BINDING_IDS:
            config.problems.append(f"{path}: keys.{binding_id}: no such binding (the help screen lists them)")
        elif not isinstance(key, str) or not key.strip():
            config.problems.append(f'{path}: keys.{binding_id}: must be a key, e.g. "A" or "ctrl+k"')
        else:
            config.keymap[binding_id] = key.replace(" ", "")
    config.problems += _clashes(path, config.keymap)
    return config


def _clashes(path: Path, keymap: dict[str, str]) -> list[str]:
    """A key the user gave that another binding also has (theirs, or a default they kept): only
    one of the two would run."""
    defaults = {b.id: b.key for b in [*SCREEN_BINDINGS, *APP_BINDINGS] if b.id}
    holders: dict[str, list[str]] = {}
    for binding_id, keys in {**defaults, **keymap}.items():
        for key in dict.fromkeys(keys.split(",")):
            holders.setdefault(key, []).append(binding_id)
    return [
        f"{path}: keys: '{key}' is bound to {' and '.join(ids)}: only one of them runs"
        for key, ids in holders.items()
        if len(ids) > 1 and any(i in keymap for i in ids)
    ]
