"""mkdocs hooks (mkdocs.yml `hooks:`): the reference tables are generated from the code at build
time, the app's own screenshots are added from screenshots/, and every disagreement between the
written pages and the code is a warning, which `mkdocs build --strict` turns into a failure."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import commands as commands_ref  # noqa: E402
import coverage  # noqa: E402
import environment  # noqa: E402
import events as events_ref  # noqa: E402
import json_output  # noqa: E402
import keys  # noqa: E402
import modules  # noqa: E402
import plan_keys  # noqa: E402
from mkdocs.structure.files import File  # noqa: E402

log = logging.getLogger("mkdocs.hooks.bosun")


def _root(config) -> Path:
    return Path(config.config_file_path).resolve().parent


def on_files(files, config):
    """The screenshots the app makes (screenshots/, kept once in git) become files of the site."""
    root = _root(config)
    for picture in sorted((root / "screenshots").glob("*.*")):
        files.append(File.generated(config, f"screenshots/{picture.name}", abs_src_path=str(picture)))
    return files


def on_pre_build(config):
    for problem in coverage.problems(Path(config.docs_dir), _root(config)):
        log.warning(problem)


def on_page_markdown(markdown: str, page, config, files) -> str:
    if "<!-- bosun:" not in markdown:
        return markdown
    root, docs_dir = _root(config), Path(config.docs_dir)
    page_path = page.file.src_uri
    generated = {
        "commands": lambda: commands_ref.markdown(commands_ref.commands(), coverage.explained_in(docs_dir, page_path)),
        "plan-keys": lambda: plan_keys.markdown(plan_keys.plan_schema(), coverage.explained_in(docs_dir, page_path)),
        "event-kinds": lambda: events_ref.markdown(
            events_ref.event_kinds(root), events_ref.descriptions(docs_dir / "reference" / "event-kinds.toml")
        ),
        "environment": lambda: environment.markdown(
            environment.variables(root), environment.descriptions(docs_dir / "reference" / "environment.toml")
        ),
        "status-fields": lambda: json_output.markdown(json_output.status_fields(root)),
        "task-fields": lambda: ", ".join(f"`{k}`" for k in json_output.task_fields(root)),
        "presets": modules.presets_markdown,
        "keys": lambda: keys.markdown(keys.bindings()),
        "modules": lambda: modules.markdown(modules.modules(root)),
        "benchmark-scripts": lambda: modules.markdown(modules.benchmarks(root)),
    }
    for name, make in generated.items():
        marker = f"<!-- bosun:{name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, make())
    if "<!-- bosun:" in markdown:
        log.warning(f"{page_path}: an unknown <!-- bosun:... --> marker")
    return markdown
