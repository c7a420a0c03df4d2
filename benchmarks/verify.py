"""The semantic checks against their targets: detection and false alarms over the corpus
(tests/semantic_corpus, each case merged with real git), and the time the checks add to one
merge of a generated 200-module project, against a baseline measured in the same run: the
`git merge-tree --write-tree` that finds textual conflicts for the same pair of branches.

Then, per language, the gate's whole semantic verdict with the real analysers run differentially
(pyrefly beside the `ast` checks for Python, tsc for TypeScript, go vet for Go): detection and
false alarms over that language's corpus cases, the time per merge, and the time for one merge of
a generated 200-file project, cold (all four trees analysed) and warm (the base and the head
already analysed by an earlier merge, as in a session, where the head is the last merge).

    python benchmarks/verify.py [--modules 200] [--changed 5] [--repeat 7] [--languages python,typescript,go]
    python benchmarks/verify.py --real-history GIT_DIR [--pairs 30] [--rev HEAD] [--merges] [--node-modules DIR]

`--real-history` measures false alarms on a real project's history instead (no network: the
project's dependencies must already be where its analyser looks, see real_history): pairs of
consecutive commits that touch the language's files, the second replayed onto the first's parent,
merged and judged by the gate's whole semantic verdict; or, with `--merges`, its real merge
commits' two parents. Each finding is an alarm to be judged by hand (the commits merged cleanly
in real life, so most are false).

Targets: `ast` checks >= 93% of broken cases detected, <= 1 in 12 benign cases with any finding,
< 1 s per merge; with the analysers: Python >= 97% detected and <= 1 false alarm in 20 benign,
TypeScript and Go >= 90% detected, <= 2 s added per merge.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# benchmarks/ itself off the path: a sibling script named like a standard module (queue.py) must not shadow it
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.semantic_corpus

import os

from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.integration.checks import own_work_tree, semantic_verdict
from bosun.orchestration.semantic.analysis import check_merge, read_python_tree
from bosun.orchestration.semantic.differential import CACHE
from bosun.orchestration.semantic.findings import ALL_SEVERITY, SemanticSettings
from bosun.orchestration.semantic.tools import READS
from tests.semantic_corpus.corpus import (
    LANGUAGES,
    git,
    load_cases,
    materialise,
    merge_tree,
    merged_trees,
)

TARGETS = {"detected": 0.93, "false_alarms": 1 / 12, "seconds": 1.0}
LANGUAGE_TARGETS = {"python": 0.97, "typescript": 0.90, "go": 0.90}
TOOLS = Path(__file__).resolve().parent.parent / ".tools" / "node_modules" / ".bin"


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
    lines += [
        "",
        f"class Thing{index:03d}:",
        "    def __init__(self, value):",
        "        self.value = value",
        "",
        "    def compute(self):",
        "        value = self.value",
        f"        return {calls}",
        "",
        "    def describe(self):",
        f"        return f'thing {index} ' + str(self.compute())",
        "",
    ]
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
            text += (
                f"\n\ndef extra{i:03d}(x):\n    thing = Thing{other:03d}(x)\n"
                f"    return f{other:03d}_a(x, 2) + thing.compute()\n"
            )
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


# --- the analysers, per language ------------------------------------------------------------


def verdict(repo: Path, merged: str) -> dict:
    return semantic_verdict(GitRepo(repo), "ours", "theirs", merged, SemanticSettings(ALL_SEVERITY))


def language_cases(language: str):
    """Python: the `ast` corpus and the python/ folder together; the others: their folder."""
    return (load_cases() if language == "python" else []) + load_cases(language)


def language_results(work: Path, language: str) -> list[tuple[str, bool, bool, float, list[str]]]:
    """(case, broken?, judged right?, seconds, problems) for each case, each merge analysed cold."""
    rows = []
    for case in language_cases(language):
        repo = work / language / case.name
        materialise(case, repo)
        code, tree = merge_tree(repo)
        if code != 0:
            raise SystemExit(f"{language}/{case.name}: the branches conflict textually; fix the case")
        CACHE.clear()
        start = time.perf_counter()
        result = verdict(repo, tree)
        seconds = time.perf_counter() - start
        kinds = {f["kind"] for f in result["findings"]}
        problems = [
            r["analyser"] + ": " + (r.get("skipped") or r.get("failed") or "")
            for r in result.get("analysers", [])
            if r.get("skipped") or r.get("failed")
        ]
        right = bool(kinds & case.expect) if case.broken else not kinds
        rows.append((case.name, case.broken, right, seconds, problems + sorted(kinds)))
    return rows


def write_files(repo: Path, files: dict[str, str]) -> None:
    for path, text in files.items():
        target = repo / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def synthetic_files(language: str, count: int) -> dict[str, str]:
    """A project of `count` files that each import two others and define a few functions."""
    files: dict[str, str] = {}
    if language == "python":
        files["synth/__init__.py"] = ""
        for i in range(count - 1):
            files[f"synth/m{i:03d}.py"] = module_source(i, count - 1)
    elif language == "typescript":
        files["tsconfig.json"] = '{"compilerOptions": {"strict": true, "target": "ES2020", "module": "commonjs"}}\n'
        for i in range(count - 1):
            deps = sorted({(i * 7 + 3) % (count - 1), (i * 13 + 5) % (count - 1)} - {i})
            lines = [f'import {{ f{d:03d} }} from "./m{d:03d}";' for d in deps]
            lines += [
                f"export function f{i:03d}(x: number, scale = 1): number {{",
                "  return (x + 1) * scale;",
                "}",
                f"export class Thing{i:03d} {{",
                "  constructor(public value: number) {}",
                "  compute(): number {",
                "    return " + (" + ".join(f"f{d:03d}(this.value)" for d in deps) or "0") + ";",
                "  }",
                "}",
                "",
            ]
            files[f"src/m{i:03d}.ts"] = "\n".join(lines)
    else:
        files["go.mod"] = "module example.com/synth\n\ngo 1.19\n"
        packages = 20
        for i in range(count - 1):
            pkg = i % packages
            dep = (pkg + 1) % packages
            imports = f'import "example.com/synth/p{dep:02d}"\n\n' if pkg < packages - 1 else ""
            call = f"p{dep:02d}.F{dep:02d}x{(i // packages) % 1:d}(x)" if pkg < packages - 1 else "x"
            files[f"p{pkg:02d}/f{i:03d}.go"] = (
                f"package p{pkg:02d}\n\n{imports}func F{pkg:02d}x{i // packages}(x int) int {{\n"
                f"\treturn {call} + {i}\n}}\n"
            )
    return files


def synthetic_edit(language: str, files: dict[str, str], side: str, targets: list[int]) -> dict[str, str]:
    """Compatible edits: ours changes bodies, theirs adds new functions calling existing ones."""
    changed = {}
    for i in targets:
        if language == "python":
            path = f"synth/m{i:03d}.py"
            changed[path] = files[path] + (
                f"\n\ndef more{i:03d}(x):\n    return x - {i}\n"
                if side == "ours"
                else f"\n\ndef extra{i:03d}(x):\n    return f{i:03d}_a(x) + 1\n"
            )
        elif language == "typescript":
            path = f"src/m{i:03d}.ts"
            extra = f"export function extra{i:03d}(): number {{\n  return f{i:03d}(2);\n}}\n"
            changed[path] = files[path] + (f"export const more{i:03d} = {i};\n" if side == "ours" else extra)
        else:
            path = next(p for p in sorted(files) if p.endswith(f"/f{i:03d}.go"))
            changed[path] = files[path] + (
                f"\nconst More{i:03d} = {i}\n"
                if side == "ours"
                else f"\nfunc Extra{i:03d}() int {{\n\treturn {i}\n}}\n"
            )
    return changed


def synthetic_merge(work: Path, language: str, count: int, changed: int) -> tuple[Path, str]:
    repo = work / f"synthetic-{language}"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "base")
    files = synthetic_files(language, count)
    write_files(repo, files)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "base")
    step = (count - 1) // (2 * changed)
    for side, offset in (("ours", 0), ("theirs", 1)):
        git(repo, "checkout", "-q", "-b", side, "base")
        write_files(repo, synthetic_edit(language, files, side, [i * step + offset for i in range(changed)]))
        git(repo, "commit", "-q", "-am", side)
    code, tree = merge_tree(repo)
    assert code == 0
    return repo, tree


def synthetic_times(work: Path, language: str, count: int, changed: int, repeat: int) -> tuple[float, float, int]:
    """Cold and warm seconds for one merge of a generated project, and the findings (expected 0)."""
    repo, tree = synthetic_merge(work, language, count, changed)
    colds, warms, findings = [], [], 0
    for _ in range(max(1, repeat // 2)):
        CACHE.clear()
        start = time.perf_counter()
        result = verdict(repo, tree)
        colds.append(time.perf_counter() - start)
        findings = len(result["findings"])
        # warm: the base and the head analysed before (the head is the last merge in a session)
        CACHE._items = type(CACHE._items)(
            (k, v) for k, v in CACHE._items.items() if k[1] in {tree_of(repo, "base"), tree_of(repo, "ours")}
        )
        start = time.perf_counter()
        verdict(repo, tree)
        warms.append(time.perf_counter() - start)
    return statistics.median(colds), statistics.median(warms), findings


def tree_of(repo: Path, ref: str) -> str:
    return git(repo, "rev-parse", f"{ref}^{{tree}}").stdout.strip()


def print_languages(work: Path, languages: list[str], modules: int, changed: int, repeat: int) -> None:
    print("\nWith the real analysers, differentially (the gate's whole semantic verdict):")
    header = (
        f"{'language':<11} {'detected':<17} {'false alarms':<14} {'per merge (median/max)':<24} "
        f"{f'{modules} files cold/warm':<22} ok"
    )
    print(header)
    details = []
    for language in languages:
        rows = language_results(work, language)
        broken = [r for r in rows if r[1]]
        benign = [r for r in rows if not r[1]]
        detected = [r for r in broken if r[2]]
        alarms = [r for r in benign if not r[2]]
        times = [r[3] for r in rows]
        cold, warm, found = synthetic_times(work, language, modules, changed, repeat)
        rate = len(detected) / len(broken) if broken else 0.0
        ok = (
            rate >= LANGUAGE_TARGETS[language]
            and (language != "python" or len(alarms) <= len(benign) / 20)
            and warm <= 2.0
        )
        print(
            f"{language:<11} {f'{len(detected)}/{len(broken)} = {rate:.0%}':<17} "
            f"{f'{len(alarms)}/{len(benign)}':<14} "
            f"{f'{statistics.median(times):.2f} s / {max(times):.2f} s':<24} "
            f"{f'{cold:.2f} s / {warm:.2f} s':<22} {'yes' if ok else 'NO'}"
        )
        details += [f"{language}: missed {r[0]} ({', '.join(r[4]) or 'nothing found'})" for r in broken if not r[2]]
        details += [f"{language}: false alarm {r[0]} ({', '.join(r[4])})" for r in alarms]
        details += [f"{language}: synthetic merge had {found} findings (expected 0)"] if found else []
    for line in details:
        print(line)


# --- real history ------------------------------------------------------------------------------


def history_language(repo: Path, rev: str) -> str:
    names = set(git(repo, "ls-tree", "--name-only", rev).stdout.split())
    return "typescript" if "tsconfig.json" in names else "go" if "go.mod" in names else "python"


def replay_pairs(repo: Path, rev: str, count: int, pathspec: list[str]) -> list[tuple[str, str, str, str]]:
    """(base, ours, theirs, name) for consecutive first-parent commits A, B touching `pathspec`: base is
    A's parent, ours A, theirs B's change replayed onto A's parent (pairs whose replay conflicts
    are left out: the changes were not independent)."""
    commits = git(repo, "rev-list", "--first-parent", f"-n{count * 2 + 2}", rev, "--", *pathspec).stdout.split()
    pairs = []
    for b, a in zip(commits, commits[1:]):  # the newest first
        parent = git(repo, "rev-parse", f"{a}^1", ok=(0, 128)).stdout.strip()
        if not parent or len(pairs) >= count:
            continue
        tree = own_work_tree(GitRepo(repo), parent, f"{b}^1", b)
        if tree:
            theirs = git(repo, "commit-tree", tree, "-p", parent, "-m", f"replay of {b}").stdout.strip()
            pairs.append((parent, a, theirs, f"{a[:10]}+{b[:10]}"))
    return pairs[::-1]


def merge_pairs(repo: Path, rev: str, count: int) -> list[tuple[str, str, str, str]]:
    """(base, ours, theirs, name) for the last `count` merge commits whose parents had both moved
    since their merge base (a branch merged into the commit it started from cannot clash)."""
    pairs = []
    for merge in git(repo, "rev-list", "--merges", f"-n{count * 20}", rev).stdout.split():
        ours, theirs = git(repo, "rev-parse", f"{merge}^1", f"{merge}^2").stdout.split()
        base = git(repo, "merge-base", ours, theirs, ok=(0, 1)).stdout.strip()
        if base and base not in (ours, theirs) and len(pairs) < count:
            pairs.append((base, ours, theirs, merge[:10]))
    return pairs[::-1]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def real_history(mirror: Path, rev: str, count: int, merges: bool, node_modules: Path | None) -> int:
    """Alarms of the gate's semantic verdict on real merges of `mirror` (a git dir, read only: a
    shared clone takes the replayed commits). Needs, already in place: pyrefly for Python; the
    project's node_modules (`--node-modules`, e.g. `npm install` of its tsconfig's packages) and
    tsc for TypeScript; the Go module cache filled (`go mod download` for the range) for Go."""
    with tempfile.TemporaryDirectory(prefix="bosun-history-") as tmp:
        repo = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(mirror), str(repo)], check=True)
        if node_modules:
            (repo / "node_modules").symlink_to(node_modules.resolve(), target_is_directory=True)
        language = history_language(repo, rev)
        pathspec = [f"*{ending}" for ending in READS[language]]
        pairs = merge_pairs(repo, rev, count) if merges else replay_pairs(repo, rev, count, pathspec)
        settings = SemanticSettings(ALL_SEVERITY)
        times, analysed, alarms, unchecked, diagnostics = [], 0, [], [], []
        for _, ours, theirs, name in pairs:
            code, tree = (lambda p: (p.returncode, p.stdout.split()[0]))(
                git(repo, "merge-tree", "--write-tree", ours, theirs, ok=(0, 1))
            )
            if code != 0:
                continue
            start = time.perf_counter()
            result = semantic_verdict(GitRepo(repo), ours, theirs, tree, settings)
            times.append(time.perf_counter() - start)
            reports = result.get("analysers", [])
            analysed += any(r.get("ran_on") for r in reports)
            diagnostics += [r["diagnostics"]["merged"] for r in reports if "merged" in r.get("diagnostics", {})]
            unchecked += [
                f"{name}: {r['analyser']}: {r.get('skipped') or r.get('failed')}"
                for r in reports
                if r.get("skipped") or r.get("failed")
            ]
            alarms += [f"{name} {f['kind']} {f['path']}:{f['line']}: {f['message']}" for f in result["findings"]]
        first, last = (pairs[0][3], pairs[-1][3]) if pairs else ("-", "-")
        print(
            f"{mirror} ({language}, {'merge commits' if merges else 'consecutive commits replayed'}, "
            f"{first}..{last}): {len(times)} merges judged ({len(pairs) - len(times)} conflicted), "
            f"{analysed} with an analyser run ({statistics.median(diagnostics) if diagnostics else 0:g} "
            f"diagnostics on a merged tree, median), {len(alarms)} alarms; per merge median "
            f"{statistics.median(times) if times else 0:.2f} s, 90th percentile {percentile(times, 0.9):.2f} s, "
            f"max {max(times, default=0):.2f} s, over 2 s {sum(t > 2 for t in times)}"
        )
        for line in alarms + [f"not checked: {u}" for u in unchecked]:
            print("  " + " ".join(line.split())[:400])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real-history", type=Path, help="a project's git dir: alarms on its history instead")
    parser.add_argument("--pairs", type=int, default=30)
    parser.add_argument("--rev", default="HEAD")
    parser.add_argument("--merges", action="store_true", help="its real merge commits, not replayed pairs")
    parser.add_argument("--node-modules", type=Path, help="a node_modules folder for a TypeScript project")
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--changed", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument(
        "--languages", default=",".join(LANGUAGES), help="languages to measure with the real analysers ('' for none)"
    )
    args = parser.parse_args()
    if TOOLS.is_dir():
        os.environ["PATH"] = f"{TOOLS}{os.pathsep}{os.environ.get('PATH', '')}"
    if args.real_history:
        return real_history(args.real_history, args.rev, args.pairs, args.merges, args.node_modules)
    languages = [lang for lang in args.languages.split(",") if lang]
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
        (
            "detected (broken cases)",
            f"{len(detected)}/{len(broken)} = {len(detected) / len(broken):.1%}",
            f">= {TARGETS['detected']:.0%}",
            len(detected) / len(broken) >= TARGETS["detected"],
        ),
        (
            "false alarms (benign cases)",
            f"{len(alarms)}/{len(benign)} = {len(alarms) / len(benign):.1%}",
            "<= 1 in 12",
            len(alarms) / len(benign) <= TARGETS["false_alarms"],
        ),
        (
            f"checks per merge ({args.modules} modules)",
            f"{checks * 1000:.0f} ms",
            "< 1000 ms",
            checks < TARGETS["seconds"],
        ),
        ("baseline: git merge-tree", f"{baseline * 1000:.0f} ms", "", True),
        ("checks / baseline", f"{checks / baseline:.1f}x", "", True),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':<20} {'target':<12} ok")
    for name, value, target, ok in rows:
        print(f"{name:<{width}}  {value:<20} {target:<12} {'yes' if ok else 'NO'}")
    print(
        f"\ncorpus: {len(results)} cases ({len(broken)} broken, {len(benign)} benign); "
        f"synthetic merge: {len(findings)} findings (expected 0)"
    )
    for name, _, expect, found in broken:
        if not expect & found:
            print(f"missed: {name} (expected {sorted(expect)}, found {sorted(found) or 'nothing'})")
    for name, _, _, found in alarms:
        print(f"false alarm: {name} ({sorted(found)})")
    if languages:
        with tempfile.TemporaryDirectory(prefix="bosun-verify-") as tmp:
            print_languages(Path(tmp), languages, args.modules, args.changed, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
