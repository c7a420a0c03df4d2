"""The type checker looks only at files whose imports reach both sides' changes (semantic/affected.py):
the import graph on its own, then the whole verdict with real pyrefly on merges that need the
checker on a file, on none, and on every file."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import needs_tool

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.checks import semantic_verdict
from bosun.orchestration.semantic.affected import files_to_check
from bosun.orchestration.semantic.differential import CACHE
from bosun.orchestration.semantic.findings import ALL_SEVERITY, SemanticSettings
from bosun.orchestration.semantic.pytypes import find_program
from tests.test_differential import repo_with


def check(base: dict, ours: dict, theirs: dict) -> frozenset[str]:
    """files_to_check for a merge given as the base and what each side changed (None: removed)."""

    def apply(changes: dict) -> dict:
        tree = {**base, **changes}
        return {path: text for path, text in tree.items() if text is not None}

    return files_to_check([base, apply(ours), apply(theirs), apply({**ours, **theirs})], (set(ours), set(theirs)))


def test_independent_modules_need_no_file_checked() -> None:
    base = {"pkg/__init__.py": "", "pkg/a.py": "def f():\n    return 1\n", "pkg/b.py": "def g():\n    return 2\n"}
    assert check(base, {"pkg/a.py": "def f():\n    return [1]\n"}, {"pkg/b.py": "def g():\n    return 3\n"}) == set()


def test_a_file_reaching_both_sides_is_checked_and_what_it_imports_is_not() -> None:
    base = {
        "a.py": "def f():\n    return 1\n",
        "b.py": "from a import f\n\ndef g():\n    return f()\n",
        "c.py": "import b\n",
        "other.py": "import a\n",
    }
    ours = {"a.py": "def f():\n    return [1]\n"}
    assert check(base, ours, {"c.py": "import b\nb.g().bit_length()\n"}) == {"c.py"}
    assert check(base, ours, {"b.py": base["b.py"] + "\nX = f().real\n"}) == {"b.py", "c.py"}
    assert check(base, ours, {"new.py": "from b import g\n"}) == {"new.py"}, "a file one side added"


def test_relative_imports_packages_and_the_src_layout() -> None:
    base = {
        "src/pkg/__init__.py": "from .core import run\n",
        "src/pkg/core.py": "from . import util\n",
        "src/pkg/util.py": "def u():\n    return 1\n",
        "src/pkg/types.py": "T = 1\n",
        "src/pkg/io.py": "from types import SimpleNamespace\n",
        "tests/test_run.py": "import pkg\n",
    }
    util = {"src/pkg/util.py": "def u():\n    return '1'\n"}
    assert check(base, util, {"tests/test_run.py": "import pkg\npkg.run()\n"}) == {"tests/test_run.py"}
    assert check(base, util, {"src/pkg/core.py": "from . import util\nX = 2\n"}) == {
        "src/pkg/core.py",
        "src/pkg/__init__.py",
        "tests/test_run.py",
    }, "and what imports it, transitively"
    assert check(base, {"src/pkg/types.py": "T = 2\n"}, {"src/pkg/io.py": "from types import new_class\n"}) == {
        "tests/test_run.py"
    }, "the standard library's types is not the package's types.py (only `import pkg` reaches both, as attributes)"
    assert check(base, {"src/pkg/__init__.py": "run = 1\n"}, {"src/pkg/core.py": "from . import util\nY = 1\n"}) == {
        "src/pkg/core.py",
        "src/pkg/__init__.py",
        "tests/test_run.py",
    }, "`from . import name` reads the package's __init__; the base's imports count too"


def test_a_module_one_side_removes_and_the_other_imports() -> None:
    base = {"pkg/__init__.py": "", "pkg/old.py": "A = 1\n", "app.py": "B = 2\n"}
    assert check(base, {"pkg/old.py": None}, {"app.py": "from pkg.old import A\n"}) == {"app.py"}
    assert check(base, {"pkg/old.py": None}, {"app.py": "from pkg import old\n"}) == {"app.py"}


def test_imports_are_read_from_any_line_even_in_a_file_that_does_not_parse() -> None:
    base = {
        "a.py": "A = 1\n",
        "b.py": "B = 1\n",
        "c.py": "C = 1\n",
        "broken.py": "import a\ndef (\n",
        "lazy.py": "def f():\n    from b import (\n        B,  # x\n    )\n",
        "both.py": "x = 1; from a import \\\n    A\nif T: import b\n",
    }
    assert check(base, {"a.py": "A = 2\n"}, {"broken.py": "import a\ndef (:\n"}) == {"broken.py"}
    assert check(base, {"b.py": "B = 2\n"}, {"lazy.py": "from b import B\n"}) == {"lazy.py"}
    assert check(base, {"a.py": "A = 2\n"}, {"b.py": "B = 2\n"}) == {"both.py"}
    assert check(base, {"a.py": "A = 2\n"}, {"c.py": "C = 2\n"}) == set()


PYREFLY = find_program("pyrefly")
needs_pyrefly = needs_tool("pyrefly is not installed (it is a dependency of Bosun)" if PYREFLY is None else None)
TYPED_BASE = {
    "pkg/__init__.py": "",
    "pkg/shapes.py": "def area(w, h):\n    return w * h\n",
    "pkg/report.py": "def title():\n    return 'report'\n",
    "pkg/legacy.py": "def old():\n    return undefined_name\n",
}  # an error the base already has


def verdict(tmp_path: Path, ours: dict, theirs: dict) -> dict:
    CACHE.clear()
    repo, merged = repo_with(tmp_path, TYPED_BASE, ours, theirs)
    result = semantic_verdict(GitRepo(repo), "ours", "theirs", merged, SemanticSettings(ALL_SEVERITY))
    [report] = [r for r in result["analysers"] if r["analyser"] == "pyrefly"]
    return {**result, "pyrefly": report}


@needs_pyrefly
def test_pyrefly_checks_only_the_file_reaching_both_changes_and_still_finds_the_break(tmp_path: Path) -> None:
    ours = {"pkg/shapes.py": "def area(w, h):\n    return [w, h]\n"}
    theirs = {
        "pkg/use.py": "from pkg.shapes import area\n\ndef big():\n    return area(2, 3).bit_length()\n",
        "pkg/report.py": "def title():\n    return 'Report'\n",
    }
    result = verdict(tmp_path, ours, theirs)
    assert result["blocking"], result["cause"]
    [finding] = [f for f in result["findings"] if f["kind"] == "type_error"]
    assert finding["path"] == "pkg/use.py" and "bit_length" in finding["message"]
    assert result["pyrefly"]["files"] == 1, "only pkg/use.py reaches both sides' changes"


@needs_pyrefly
def test_independent_changes_run_no_type_checker_at_all(tmp_path: Path) -> None:
    result = verdict(
        tmp_path,
        {"pkg/shapes.py": "def area(w, h):\n    return [w, h]\n"},
        {"pkg/report.py": "def title():\n    return 3\n"},
    )
    assert result["passed"] and result["pyrefly"]["files"] == 0 and result["pyrefly"]["ran_on"] == 0


@needs_pyrefly
def test_a_changed_stub_or_config_checks_every_file(tmp_path: Path) -> None:
    result = verdict(
        tmp_path,
        {"pkg/shapes.py": "def area(w, h):\n    return [w, h]\n"},
        {"pkg/report.pyi": "def title() -> str: ...\n"},
    )
    assert "files" not in result["pyrefly"], "a stub changes what the checker reads: the whole tree"
    assert result["pyrefly"]["diagnostics"]["merged"] >= 1, "the base's own error is seen, and not blamed"
    assert result["passed"]


def test_a_plain_import_reaches_the_packages_submodules_as_attributes() -> None:
    base = {
        "pkg/__init__.py": "",
        "pkg/sub.py": "def f():\n    return 1\n",
        "pkg/deep/__init__.py": "",
        "app.py": "X = 1\n",
    }
    assert check(base, {"pkg/sub.py": None}, {"app.py": "import pkg\npkg.sub.f()\n"}) == {"app.py"}
    assert check(base, {"pkg/deep/__init__.py": "Y = 1\n"}, {"app.py": "from pkg import *\n"}) == {"app.py"}
    assert check(base, {"pkg/sub.py": None}, {"app.py": "from pkg import deep\n"}) == set()


def test_submodules_at_any_depth_and_import_lines_written_any_way() -> None:
    base = {
        "pkg/__init__.py": "",
        "pkg/a.py": "",
        "pkg/sub/__init__.py": "",
        "pkg/sub/deep.py": "X = 1\n",
        "app.py": "Y = 1\n",
    }
    deep = {"pkg/sub/deep.py": "X = '1'\n"}
    for use in (
        "import pkg.a\npkg.sub.deep.X\n",
        "from pkg import sub\nsub.deep.X\n",
        "from pkg import (\n    a,  # see f()\n    sub,\n)\n",
        "from.pkg import sub\n",
        "from pkg . sub import deep\n",
        "import os\r\nfrom pkg \\\r\n    import sub\r\n",
    ):
        assert check(base, deep, {"app.py": use}) == {"app.py"}, use


def semantic(tmp_path: Path, base: dict, ours: dict, theirs: dict) -> dict:
    CACHE.clear()
    repo, merged = repo_with(tmp_path, base, ours, theirs)
    return semantic_verdict(GitRepo(repo), "ours", "theirs", merged, SemanticSettings(ALL_SEVERITY))


@needs_pyrefly
def test_a_file_git_renamed_in_the_merge_counts_as_both_sides_change(tmp_path: Path) -> None:
    body = "def helper():\n    return 1\n\n" + "".join(f"def f{i}():\n    return {i}\n\n" for i in range(20))
    result = semantic(
        tmp_path,
        {"a.py": body},
        {"a.py": body + "def added():\n    return helper()\n"},
        {"a.py": None, "b.py": body.replace("helper", "helper2")},
    )
    assert result["blocking"] and any(f["path"] == "b.py" for f in result["findings"]), result["cause"]


@needs_pyrefly
@pytest.mark.parametrize("layout", ["nested project", "search path", "name not utf-8"])
def test_where_the_import_graph_could_be_wrong_every_file_is_checked(tmp_path: Path, layout: str) -> None:
    root = {"nested project": "services/api/", "search path": "lib/", "name not utf-8": ""}[layout]
    base = {
        f"{root}pkg/__init__.py": "",
        f"{root}pkg/shapes.py": "def area(w, h):\n    return w * h\n",
        f"{root}tests/test_x.py": "X = 1\n",
    }
    if layout == "nested project":
        base["services/api/pyproject.toml"] = "[project]\nname = 'api'\n"
    if layout == "search path":
        base["pyproject.toml"] = "[tool.pyrefly]\nsearch-path = ['lib']\n"
    theirs = {f"{root}tests/test_x.py": "from pkg.shapes import area\n\nX = area(1, 2).bit_length()\n"}
    if layout == "name not utf-8":
        theirs["caf\udce9.py"] = "Z = 1\n"
    result = semantic(tmp_path, base, {f"{root}pkg/shapes.py": "def area(w, h):\n    return [w, h]\n"}, theirs)
    assert result["blocking"], result["cause"]
    [report] = [r for r in result["analysers"] if r["analyser"] == "pyrefly"]
    assert "files" not in report, "no narrowing where it could miss"
