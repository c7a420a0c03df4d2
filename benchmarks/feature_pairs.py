"""False alarms of the semantic checks on pairs of real features written for the same code.

    python benchmarks/feature_pairs.py COOPERBENCH_GIT_DIR REPO=PROJECT_GIT_DIR [...] [--limit N]
        [--without-tests]

CooperBench (github.com/cooperbench/CooperBench) holds, per task, one commit of a real project and
several features written against it, each a patch with its tests, all meant to live together
(they come from one pull request). Each feature becomes a branch off that commit; every pair of
branches that git merges without a conflict is judged by the gate's whole semantic verdict with
every kind set to block, and each finding is printed as an alarm. The projects' git directories
are read only (a shared clone takes the branches). REPO is the dataset's folder name without
`_task` (`pallets_click`, `pallets_jinja`, `pillow`, `huggingface_datasets`, `dspy`,
`dottxt_ai_outlines`, ...). With `--without-tests` the branches hold the features alone: the
tests of one pull request's features mostly edit the same lines of one test file, so with them
nearly every pair conflicts.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bosun.orchestration.gitcmd import GitRepo  # noqa: E402
from bosun.orchestration.integration.checks import semantic_verdict  # noqa: E402
from bosun.orchestration.semantic.findings import ALL_SEVERITY, SemanticSettings  # noqa: E402

PARTS = ("feature.patch", "tests.patch")
IDENTITY = ["-c", "user.name=bench", "-c", "user.email=bench@example.com"]


def git(repo: Path, *args: str, stdin: bytes | None = None, env: dict | None = None, ok: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(
        ["git", *IDENTITY, *args], cwd=repo, input=stdin, capture_output=True, env={**os.environ, **(env or {})}
    )
    if done.returncode not in ok:
        raise RuntimeError(f"git {' '.join(args[:3])}: {done.stderr.decode(errors='replace').strip()}")
    return done.stdout.decode("utf-8", "replace")


def dataset_files(dataset: Path, folder: str) -> list[str]:
    return git(dataset, "ls-tree", "-r", "--name-only", "HEAD", folder).split()


def feature_branch(repo: Path, base: str, patches: list[bytes], index: Path) -> str | None:
    """A commit on `base` with the patches applied (through a private index), or None when one does not apply."""
    env = {"GIT_INDEX_FILE": str(index)}
    git(repo, "read-tree", base, env=env)
    for patch in patches:
        if (
            patch.strip()
            and subprocess.run(
                ["git", "apply", "--cached", "-"], cwd=repo, input=patch, env={**os.environ, **env}, capture_output=True
            ).returncode
            != 0
        ):
            return None
    tree = git(repo, "write-tree", env=env).strip()
    return git(repo, "commit-tree", tree, "-p", base, "-m", "feature").strip()


def run(dataset: Path, mirrors: dict[str, Path], limit: int, parts: tuple[str, ...] = PARTS) -> int:
    alarms: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bosun-pairs-") as tmp:
        for name, mirror in mirrors.items():
            folder = f"dataset/{name}_task"
            files = dataset_files(dataset, folder)
            tasks = sorted({f.split("/")[2] for f in files})
            repo = Path(tmp) / name
            subprocess.run(["git", "clone", "-q", "--shared", "--no-checkout", str(mirror), str(repo)], check=True)
            judged = conflicted = unusable = 0
            times: list[float] = []
            found: list[str] = []
            for task in tasks:
                setup = git(dataset, "show", f"HEAD:{folder}/{task}/setup.sh")
                match = re.search(r'BASE_COMMIT="([0-9a-f]{40})"', setup)
                if not match or git(repo, "cat-file", "-t", match[1], ok=(0, 128)).strip() != "commit":
                    print(f"  {name}/{task}: its base commit is not in {mirror}; left out")
                    continue
                base = match[1]
                features = sorted(
                    {f.split("/")[3] for f in files if f.startswith(f"{folder}/{task}/feature")},
                    key=lambda f: int(f.removeprefix("feature")),
                )
                branches = {}
                for feature in features:
                    patches = [
                        subprocess.run(
                            ["git", "show", f"HEAD:{folder}/{task}/{feature}/{part}"], cwd=dataset, capture_output=True
                        ).stdout
                        for part in parts
                    ]
                    branches[feature] = feature_branch(repo, base, patches, Path(tmp) / "index")
                unusable += sum(1 for b in branches.values() if b is None)
                usable = [(f, b) for f, b in branches.items() if b is not None]
                for (one, ours), (two, theirs) in itertools.combinations(usable, 2):
                    if limit and judged >= limit:
                        break
                    merged = subprocess.run(
                        ["git", "merge-tree", "--write-tree", ours, theirs], cwd=repo, capture_output=True, text=True
                    )
                    if merged.returncode != 0:
                        conflicted += 1
                        continue
                    started = time.perf_counter()
                    verdict = semantic_verdict(
                        GitRepo(repo), ours, theirs, merged.stdout.split()[0], SemanticSettings(ALL_SEVERITY)
                    )
                    times.append(time.perf_counter() - started)
                    judged += 1
                    found += [
                        f"{name}/{task} {one}+{two}: {f['kind']} {f['path']}:{f['line']}: {f['message']}"
                        for f in verdict["findings"]
                    ]
            print(
                f"{name}: {len(tasks)} tasks, {judged} clean pairs judged ({conflicted} conflicted, "
                f"{unusable} features whose patch did not apply), {len(found)} alarms; per merge median "
                f"{statistics.median(times) if times else 0:.2f} s, max {max(times, default=0):.2f} s"
            )
            alarms += found
    for line in alarms:
        print("  " + " ".join(line.split())[:400])
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path, help="CooperBench's git dir")
    parser.add_argument("repos", nargs="+", help="NAME=GIT_DIR, NAME the dataset folder without _task")
    parser.add_argument("--limit", type=int, default=0, help="pairs judged per project at most")
    parser.add_argument("--without-tests", action="store_true", help="the features' patches without their tests")
    args = parser.parse_args()
    mirrors = {}
    for item in args.repos:
        name, _, path = item.partition("=")
        if not path or not Path(path).is_dir():
            print(f"feature_pairs: {item}: expected NAME=GIT_DIR of an existing folder", file=sys.stderr)
            return 2
        mirrors[name] = Path(path).resolve()
    return run(args.dataset.resolve(), mirrors, args.limit, PARTS[:1] if args.without_tests else PARTS)


if __name__ == "__main__":
    sys.exit(main())
