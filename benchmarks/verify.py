"""The semantic checks against their targets: detection and false alarms over the corpus
(tests/semantic_corpus, each case merged with real git), and the time the checks add to one
merge of a generated 200-module project, against a baseline measured in the same run: the
`git merge-tree --write-tree` that finds textual conflicts for the same pair of branches.

    python benchmarks/verify.py [--modules 200] [--changed 5] [--repeat 7]

Targets: >= 93% of broken cases detected, <= 1 in 12 benign cases with any finding, < 1 s per merge.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.semantic_corpus

from bosun.orchestration.semantic.analysis import check_merge, read_python_tree
from tests.semantic_corpus.corpus import (
    git,
    load_cases,
    materialise,
    merge_tree,
    merged_trees,
)

TARGETS = {"detected": 0.93, "false_alarms": 1 / 12, "seconds": 1.0}


def corpus_results(work: Path) -> list[tuple[str, bool, frozenset[str], set[str]]]:
    """(case, broken?, expected kinds, kinds found) for every corpus case."""
    results = []
    for case in load_cases():
        repo = work / case.name
        materialise(case, repo)
        code, tree = merge_tree(repo)
        if code != 0:
            raise SystemExit(f"{case.name}: the branches conflict textually; fix the case")
        trees = merged_trees(repo, tree)
        found = {f.kind for f in check_merge(trees["base"], trees["ours"], trees["theirs"], trees["merged"])}
        results.append((case.name, case.broken, case.expect, found))
    return results


def module_source(index: int, modules: int) -> str:
    """One generated module: imports from two other modules, functions that call them, a class."""
    deps = sorted({(index * 7 + 3) % modules, (index * 13 + 5) % modules} - {index})
    lines = [f'"""Generated module {index}."""', *(f"from synth.m{d:03d} import f{d:03d}_a" for d in deps), ""]
    for name, body in (("a", "x + 1"), ("b", "x * 2"), ("c", f"f{index:03d}_a(x) - 1")):
        lines += ["", f"def f{index:03d}_{name}(x, scale=1):", f"    return ({body}) * scale", ""]
    calls = " + ".join(f"f{d:03d}_a(value)" for d in deps) or "value"
    lines += ["", f"class Thing{index:03d}:", "    def __init__(self, value):", "        self.value = value", "",
              "    def compute(self):", "        value = self.value", f"        return {calls}", "",
              "    def describe(self):", f"        return f'thing {index} ' + str(self.compute())", ""]
    return "\n".join(lines)


def write_project(repo: Path, modules: int) -> None:
    (repo / "synth").mkdir(parents=True)
    (repo / "synth" / "__init__.py").write_text("")
    for i in range(modules):
        (repo / "synth" / f"m{i:03d}.py").write_text(module_source(i, modules))


def edit_side(repo: Path, side: str, targets: list[int], modules: int) -> None:
    """Ours gives functions a new defaulted parameter; theirs adds code calling them (compatible)."""
    git(repo, "checkout", "-q", "-b", side, "base")
    for i in targets:
        path = repo / "synth" / f"m{i:03d}.py"
        text = path.read_text()
        if side == "ours":
            text = text.replace(f"def f{i:03d}_a(x, scale=1):", f"def f{i:03d}_a(x, scale=1, offset=0):")
        else:
            other = (i - 1) % modules
            text = text.replace('"""\n', f'"""\nfrom synth.m{other:03d} import f{other:03d}_a, Thing{other:03d}\n', 1)
            text += (f"\n\ndef extra{i:03d}(x):\n    thing = Thing{other:03d}(x)\n"
                     f"    return f{other:03d}_a(x, 2) + thing.compute()\n")
        path.write_text(text)
    git(repo, "commit", "-q", "-am", side)


def synthetic_repo(work: Path, modules: int, changed: int) -> Path:
    repo = work / "synthetic"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "base")
    write_project(repo, modules)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    step = modules // (2 * changed)
    edit_side(repo, "ours", [i * step for i in range(changed)], modules)
    edit_side(repo, "theirs", [i * step + 1 for i in range(changed)], modules)
    return repo


def timed(action, repeat: int) -> tuple[float, object]:
    """Median wall time of `action` over `repeat` runs, and its last result."""
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = action()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def check_one_merge(repo: Path, merged_tree: str) -> list:
    trees = [read_python_tree(repo, treeish) for treeish in ("base", "ours", "theirs", merged_tree)]
    return check_merge(*trees)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--changed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bosun-verify-") as tmp:
        work = Path(tmp)
        results = corpus_results(work)
        repo = synthetic_repo(work, args.modules, args.changed)
        baseline, (_, merged_tree) = timed(lambda: merge_tree(repo), args.repeat)
        checks, findings = timed(lambda: check_one_merge(repo, merged_tree), args.repeat)

    broken = [r for r in results if r[1]]
    benign = [r for r in results if not r[1]]
    detected = [r for r in broken if r[2] & r[3]]
    alarms = [r for r in benign if r[3]]
    rows = [
        ("detected (broken cases)", f"{len(detected)}/{len(broken)} = {len(detected) / len(broken):.1%}",
         f">= {TARGETS['detected']:.0%}", len(detected) / len(broken) >= TARGETS["detected"]),
        ("false alarms (benign cases)", f"{len(alarms)}/{len(benign)} = {len(alarms) / len(benign):.1%}",
         "<= 1 in 12", len(alarms) / len(benign) <= TARGETS["false_alarms"]),
        (f"checks per merge ({args.modules} modules)", f"{checks * 1000:.0f} ms", "< 1000 ms",
         checks < TARGETS["seconds"]),
        ("baseline: git merge-tree", f"{baseline * 1000:.0f} ms", "", True),
        ("checks / baseline", f"{checks / baseline:.1f}x", "", True),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<20} {'target':<12} ok")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:<20} {target:<12} {'yes' if ok else 'NO'}")
    print(f"\ncorpus: {len(results)} cases ({len(broken)} broken, {len(benign)} benign); "
          f"synthetic merge: {len(findings)} findings (expected 0)")
    for name, _, expect, found in broken:
        if not expect & found:
            print(f"missed: {name} (expected {sorted(expect)}, found {sorted(found) or 'nothing'})")
    for name, _, _, found in alarms:
        print(f"false alarm: {name} ({sorted(found)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
