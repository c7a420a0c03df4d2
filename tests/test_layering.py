"""The layering (STYLE §1, §16) as import-linter contracts, stated in pyproject.toml: the app above
the widgets above the engine, the engine free of Textual, the semantic analysis free of the store,
session and supervisor, the plain commands free of Textual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def lint_imports(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()",
            "--config",
            str(config),
            "--no-cache",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_every_contract_is_kept() -> None:
    result = lint_imports(ROOT / "pyproject.toml")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "Contracts: 4 kept, 0 broken" in result.stdout


def test_a_broken_contract_is_reported(tmp_path: Path) -> None:
    """The same tool, told that the status command may not read the session it does read."""
    config = tmp_path / "contracts.toml"
    config.write_text(
        '[tool.importlinter]\nroot_packages = ["bosun.app", "bosun.orchestration"]\n\n'
        '[[tool.importlinter.contracts]]\nname = "status reads no session"\ntype = "forbidden"\n'
        'source_modules = ["bosun.app.cli.session_commands"]\n'
        'forbidden_modules = ["bosun.orchestration.session"]\n'
    )
    result = lint_imports(config)
    assert result.returncode == 1 and "BROKEN" in result.stdout
    assert "bosun.app.cli.session_commands -> bosun.orchestration.session" in result.stdout
