"""Semantic checks on merges git finds clean: the corpus of branch pairs, each merged with real
git and checked exactly as the gate does, plus edge cases on inline trees."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bosun.orchestration.semantic.analysis import (
    DEFAULT_SEVERITY,
    KINDS,
    Finding,
    check_merge,
    read_python_tree,
)
from bosun.orchestration.semantic.tree import module_name
from tests.semantic_corpus.corpus import (
    git,
    load_cases,
    materialise,
    merge_tree,
    merged_trees,
)

CASES = load_cases()
FAMILIES = {
    "duplicate": {"duplicate_definition", "duplicate_key"},
    "signature": {"signature_mismatch"},
    "removed": {"removed_name"},
    "base member": {"removed_base_member"},
    "contract": {"contract_change"},
}


def side_tests(repo: Path, side: str) -> subprocess.CompletedProcess:
    """The side's own tests, run in a checkout of that side (unittest: a fraction of pytest's start-up)."""
    git(repo, "checkout", "-q", side)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join((str(repo / "src"), str(repo))), "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "unittest", "discover", "-s", "tests"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def python_files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*.py")}


def test_corpus_is_big_and_varied_enough() -> None:
    broken = [c for c in CASES if c.broken]
    for family, kinds in FAMILIES.items():
        assert sum(bool(kinds & c.expect) for c in broken if not c.known_miss) >= 4, family
    assert len(broken) >= 20 and len(CASES) - len(broken) >= 12
    assert all(c.why.strip() and "\n" not in c.why for c in CASES)
    assert set().union(*FAMILIES.values()) == set(KINDS)


def corpus_param(case):
    marks = [pytest.mark.xfail(reason=case.known_miss, strict=True)] if case.known_miss else []
    return pytest.param(case, id=case.name, marks=marks)


@pytest.mark.parametrize("case", [corpus_param(c) for c in CASES])
def test_corpus_case(case, tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    materialise(case, repo)
    code, merged_tree = merge_tree(repo)
    assert code == 0, f"{case.name}: the branches conflict textually"
    for side in ("ours", "theirs"):
        run = side_tests(repo, side)
        assert run.returncode == 0 and "Ran 0 tests" not in run.stderr, f"{side} fails its own tests:\n{run.stderr}"
    trees = merged_trees(repo, merged_tree)
    for side in ("base", "ours", "theirs"):
        assert trees[side] == python_files(case.folder / side), f"git did not commit the {side} tree as written"
    findings = check_merge(trees["base"], trees["ours"], trees["theirs"], trees["merged"])
    assert {f.kind for f in findings} == case.expect, [f.message for f in findings]
    for finding in findings:
        assert finding.symbol in finding.message
        assert "\n" not in finding.message and finding.ours and finding.theirs
        assert finding.path in trees["merged"] and finding.line >= 1


# --- edge cases on inline trees -------------------------------------------------------------

OPS = "def add(a, b):\n    return a + b\n"
USE = "from calc.ops import add\n\n\ndef total(xs):\n    return add(xs[0], xs[1], xs[2])\n"


def check(base: dict, ours: dict, theirs: dict, merged: dict | None = None) -> list[Finding]:
    """check_merge, merging (unless given) by taking each file from the side that changed it."""
    if merged is None:
        merged = {}
        for path in base.keys() | ours.keys() | theirs.keys():
            changed = [side.get(path) for side in (ours, theirs) if side.get(path) != base.get(path)]
            text = changed[0] if changed else base.get(path)
            if text is not None:
                merged[path] = text
    return check_merge(base, ours, theirs, merged)


def test_call_brought_by_one_side_breaks_on_the_others_signature() -> None:
    base = {"calc/__init__.py": "", "calc/ops.py": "def add(a, b, c):\n    return a + b + c\n"}
    ours = {**base, "calc/ops.py": OPS}
    theirs = {**base, "calc/cli.py": USE}
    [finding] = check(base, ours, theirs)
    assert (finding.kind, finding.path, finding.line, finding.symbol) == (
        "signature_mismatch",
        "calc/cli.py",
        5,
        "calc.ops.add",
    )
    assert "3 positional arguments" in finding.message and "calc/ops.py:1" in finding.message
    assert "changed" in finding.ours and "added" in finding.theirs


def test_sides_are_named_the_right_way_round() -> None:
    base = {"calc/__init__.py": "", "calc/ops.py": "def add(a, b, c):\n    return a + b + c\n"}
    [finding] = check(base, {**base, "calc/cli.py": USE}, {**base, "calc/ops.py": OPS})
    assert "added" in finding.ours and "changed" in finding.theirs
    assert "the unit's branch changed it" in finding.message


def test_a_file_that_does_not_parse_is_skipped() -> None:
    base = {"calc/__init__.py": "", "calc/ops.py": OPS}
    ours = {**base, "calc/ops.py": "def plus(a, b):\n    return a + b\n", "calc/broken.py": "def f(:\n"}
    theirs = {**base, "calc/cli.py": USE.replace("xs[2])", "0)"), "calc/other.py": "x = (\n"}
    findings = check(base, ours, theirs)
    assert [f.kind for f in findings] == ["removed_name"]


def test_a_byte_order_mark_does_not_hide_a_file() -> None:
    base = {"calc/__init__.py": "", "calc/ops.py": OPS}
    ours = {**base, "calc/ops.py": "def plus(a, b):\n    return a + b\n"}
    theirs = {**base, "calc/cli.py": "\ufeff" + USE}
    assert [f.kind for f in check(base, ours, theirs)] == ["removed_name"]


def test_a_file_nesting_too_deep_to_walk_is_skipped() -> None:
    elif_chain = "def pick(x):\n    if x == 0:\n        return 0\n" + "".join(
        f"    elif x == {i}:\n        return {i}\n" for i in range(1, 600)
    )
    base = {"m.py": "def f(a):\n    return a\n"}
    ours = {"m.py": "def f(a, b):\n    return a\n"}
    theirs = {**base, "n.py": f"from m import f\n{elif_chain}\n\ndef g():\n    return f(1)\n"}
    assert check(base, ours, theirs) == []


def test_a_package_one_side_deleted_is_missing_not_third_party() -> None:
    base = {"legacy/__init__.py": "", "legacy/util.py": "def old():\n    return 1\n", "app.py": "X = 1\n"}
    ours = {"app.py": "X = 1\n"}
    theirs = {**base, "app.py": "from legacy.util import old\n\nX = old()\n"}
    [finding] = check(base, ours, theirs)
    assert (finding.kind, finding.symbol, finding.line) == ("removed_name", "legacy", 1)


def test_identical_change_on_both_sides_is_benign() -> None:
    base = {"calc/__init__.py": "", "calc/ops.py": "def add(a, b, c):\n    return a + b + c\n"}
    changed = {**base, "calc/ops.py": OPS, "calc/cli.py": USE.replace(", xs[2])", ")")}
    assert check(base, changed, dict(changed), dict(changed)) == []


def test_problems_already_in_the_base_are_not_reported() -> None:
    dup = "def f():\n    return 1\n\n\ndef f():\n    return 2\n"
    base = {"calc/__init__.py": "", "calc/ops.py": OPS, "calc/cli.py": USE, "calc/dup.py": dup}
    ours = {**base, "calc/ops.py": OPS + "\n\ndef sub(a, b):\n    return a - b\n", "calc/dup.py": "A = 1\n" + dup}
    theirs = {**base, "calc/dup.py": dup + "\n\nB = 2\n"}
    merged = {**ours, "calc/dup.py": "A = 1\n" + dup + "\n\nB = 2\n"}
    assert check(base, ours, theirs, merged) == []


def test_copies_that_say_the_same_thing_are_not_duplicates() -> None:
    base = {"reg.py": "R = {\n    'a': 1,\n}\n\n\ndef f():\n    return R\n"}
    ours = {"reg.py": "R = {\n    'b': 2,\n    'a': 1,\n}\n\n\ndef f():\n    return R\n"}
    theirs = {"reg.py": "R = {\n    'a': 1,\n    'b': 2,\n}\n\n\ndef f():\n    return R\n"}
    merged = {"reg.py": "R = {\n    'b': 2,\n    'a': 1,\n    'b': 2,\n}\n\n\ndef f():\n    return R\n"}
    assert check(base, ours, theirs, merged) == []
    clash = {"reg.py": merged["reg.py"].replace("'b': 2,\n}", "'b': 3,\n}")}
    [finding] = check(base, ours, {"reg.py": theirs["reg.py"].replace("'b': 2", "'b': 3")}, clash)
    assert (finding.kind, finding.symbol, finding.line) == ("duplicate_key", "reg.R['b']", 4)


def test_src_layout_and_module_names() -> None:
    assert module_name("src/calc/ops.py") == module_name("calc/ops.py") == "calc.ops"
    assert module_name("src/calc/__init__.py") == "calc"
    assert module_name("docs/conf-file.py") is None
    base = {"src/calc/__init__.py": "", "src/calc/ops.py": OPS}
    ours = {**base, "src/calc/ops.py": "def plus(a, b):\n    return a + b\n"}
    theirs = {**base, "src/calc/cli.py": USE}
    [finding] = check(base, ours, theirs)
    assert (finding.kind, finding.symbol, finding.path) == ("removed_name", "calc.ops.add", "src/calc/cli.py")


def test_relative_imports_resolve_from_the_package() -> None:
    base = {
        "app/__init__.py": "",
        "app/core/__init__.py": "from .engine import run\n",
        "app/core/engine.py": "def run(job):\n    return job\n",
    }
    ours = {**base, "app/core/engine.py": "def run(job, *, now):\n    return job\n"}
    theirs = {
        **base,
        "app/web/__init__.py": "",
        "app/web/view.py": "from ..core import run\n\n\ndef go():\n    return run(1)\n",
    }
    [finding] = check(base, ours, theirs)
    assert (finding.kind, finding.symbol) == ("signature_mismatch", "app.core.engine.run")
    assert "misses required argument now" in finding.message


def test_a_local_name_shadowing_a_removed_function_is_not_a_use() -> None:
    base = {"m.py": "def helper():\n    return 1\n\n\ndef main():\n    return helper()\n"}
    ours = {**base, "m.py": "def main():\n    return 1\n"}
    theirs = {**base, "n.py": "def work(helper):\n    return helper()\n"}
    assert check(base, ours, theirs) == []


def test_calls_with_star_arguments_are_given_the_benefit_of_the_doubt() -> None:
    base = {"m.py": "def f(a, b):\n    return a\n"}
    ours = {**base, "m.py": "def f(a, b, c):\n    return a\n"}
    theirs = {**base, "n.py": "from m import f\n\n\ndef g(args):\n    return f(*args)\n"}
    assert check(base, ours, theirs) == []


def test_contract_change_is_a_warning_naming_both_sides() -> None:
    base = {"cfg.py": "LIMIT = 5\n"}
    ours = {"cfg.py": "LIMIT = 50\n"}
    theirs = {**base, "use.py": "from cfg import LIMIT\n\n\ndef over(n):\n    return n > LIMIT\n"}
    [finding] = check(base, ours, theirs)
    assert finding.kind == "contract_change" and DEFAULT_SEVERITY[finding.kind] == "warn"
    assert "from 5 to 50" in finding.message and "integration branch" in finding.message
    assert "unit's branch" in finding.message
    assert finding.to_json()["severity"] == "warn" and finding.to_json()["symbol"] == "cfg.LIMIT"
    assert {DEFAULT_SEVERITY[k] for k in KINDS if k != "contract_change"} == {"block"}


def test_raised_exceptions_matter_only_to_callers_that_handle_them() -> None:
    base = {
        "p.py": "def port(text):\n    if not text.isdigit():\n        raise ValueError(text)\n    return int(text)\n"
    }
    ours = {"p.py": base["p.py"].replace("raise ValueError(text)", "raise LookupError(text)")}
    expects = "import pytest\nfrom p import port\n\n\ndef test_bad():\n    with pytest.raises(ValueError):\n        port('x')\n"  # noqa: E501
    ignores = "from p import port\n\n\ndef main():\n    return port('80')\n"
    [finding] = check(base, ours, {**base, "test_p.py": expects})
    assert (finding.kind, finding.line) == ("contract_change", 7)
    assert "from ValueError to LookupError" in finding.message
    assert check(base, ours, {**base, "main.py": ignores}) == []


def test_findings_are_sorted_and_unique() -> None:
    base = {"m.py": "def f(a):\n    return a\n\n\ndef g(a):\n    return a\n"}
    ours = {"m.py": "def f(a, b):\n    return a\n\n\ndef g(a, b):\n    return a\n"}
    theirs = {
        **base,
        "z.py": "from m import g\n\n\ndef h():\n    return g(1) + g(1)\n",
        "a.py": "from m import f\n\n\ndef h():\n    return f(2)\n",
    }
    findings = check(base, ours, theirs)
    assert [(f.path, f.line) for f in findings] == [("a.py", 5), ("z.py", 5)]


def test_read_python_tree_reads_only_python_files(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "a.py").write_text("A = 'é'\n")
    (repo / "pkg" / "b.py").write_text("A = 'é'\n")
    (repo / "notes.txt").write_text("not python\n")
    (repo / "link.py").symlink_to("pkg/a.py")
    git(tmp_path, "init", "-q", "repo")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    assert read_python_tree(repo, "HEAD") == {"pkg/a.py": "A = 'é'\n", "pkg/b.py": "A = 'é'\n"}
    tree = git(repo, "rev-parse", "HEAD^{tree}").stdout.strip()
    assert read_python_tree(repo, tree) == read_python_tree(repo, "HEAD")
