"""Differential checking: run a real analyser (a type checker, a compiler, a linter) on the merge
base, on each side and on the merged tree, and report what only the merge has.

A diagnostic present in the merged tree and in neither side nor the base is a finding, named
with its file, line and rule and with what each side changed; a diagnostic that already existed
anywhere is never blamed on the merge. Diagnostics are matched across trees by file, rule and
message with line and column references taken out (lines shift when a side edits above them),
counting copies.

Each tree is written into a plain temporary folder from git's objects (a private index,
`read-tree` + `checkout-index`): no work tree, hook or config of the repository is touched. The
analyser itself runs through a `Runner` the caller hands in (the gate's runs it in its sandbox).
Results are cached by (command, tree id): the base and the integration head recur from merge to
merge, so most merges run the analyser on two trees, not four.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from bosun.orchestration.semantic.blame import finding_of
from bosun.orchestration.semantic.diagnostics import Diagnostic, new_in_merge, parse
from bosun.orchestration.semantic.findings import Finding
from bosun.orchestration.semantic.tscheck import split
from bosun.orchestration.semantic.versions import (  # noqa: F401  (SYMLINK, materialise, tree_listing: re-exported)
    SYMLINK,
    VERSIONS,
    changed_files,
    fits_one_argument,
    materialise,
    narrowed_files,
    same_as_a_side,
    tree_ids,
    tree_listing,
)


@dataclass(frozen=True)
class Analyser:
    """One analyser, run in the root of each version of the tree."""

    name: str  # shown in verdicts: "pyrefly", "tsc --noEmit"
    command: str  # a shell command
    kind: str = "new_diagnostic"  # the kind of finding it produces
    timeout: float = 300.0
    env: tuple[tuple[str, str], ...] = ()  # extra environment (caches, offline switches)
    link: tuple[str, ...] = ()  # untracked folders of the repository made visible in each tree (node_modules)
    only_errors: bool = True  # warnings of a linter are taken too when False
    reads: tuple[str, ...] = ()  # endings of the files it reads ("" : any file); lets a merge whose
    # files of that kind are exactly one side's skip the runs (the output could only be that side's)
    batch: bool = False  # one run for several trees: the command gets their folders as arguments, runs
    # in their parent folder and ends each tree's output with a tscheck.MARK line
    narrows: bool = False  # the command ends in " ." (the tree), which a list of files may replace
    needs: tuple[str, ...] = ()  # endings of the only files it reads (written into each tree); () : all

    def on_files(self, files: tuple[str, ...]) -> str:
        """The command checking only `files` (paths in the tree)."""
        return self.command.removesuffix(" .") + " " + " ".join(shlex.quote("./" + path) for path in files)

    @property
    def program(self) -> str:
        words = shlex.split(self.command)
        while words and "=" in words[0] and not words[0].startswith(("/", ".")):
            words = words[1:]  # VAR=value prefixes
        return words[0] if words else ""


@dataclass(frozen=True)
class Run:
    """What an analyser printed for one tree."""

    exit_code: int | None
    output: str
    seconds: float


Runner = Callable[[Analyser, Path], Run]


@dataclass
class Outcome:
    """The differential result for one analyser on one merge."""

    analyser: str
    findings: list[Finding] = field(default_factory=list)
    new: list[Diagnostic] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # diagnostics per version
    ran: int = 0  # trees the analyser actually ran on (the rest came from the cache, or were not needed)
    skipped: str | None = None  # why it could not run (the tool is missing, ...)
    failed: str | None = None  # it ran, but not as an analyser should (a crash on the merge only, ...)
    seconds: float = 0.0
    files: int | None = None  # the files it checked on the merge, when not the whole tree


def local_runner(analyser: Analyser, folder: Path) -> Run:
    """Run the analyser as a plain child process (its own process group, killed on timeout)."""
    env = {**os.environ, **dict(analyser.env)}
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            ["/bin/sh", "-c", analyser.command],
            cwd=folder,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return Run(127, str(exc), 0.0)
    try:
        out, _ = proc.communicate(timeout=analyser.timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)
        proc.communicate()
        return Run(None, f"timed out after {analyser.timeout:g}s", time.monotonic() - started)
    return Run(proc.returncode, out.decode("utf-8", "replace"), time.monotonic() - started)


class Cache:
    """Diagnostics by (command, tree id), the most recent few hundred, shared by the gate's merges.
    An entry knows which files it covers (None: the whole tree), so a run on some files of a tree
    answers later questions about those files, and runs on more files of it add to the entry."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, str], tuple[frozenset[str] | None, list[Diagnostic], Run]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], files: tuple[str, ...] | None = None) -> tuple[list[Diagnostic], Run] | None:
        """The diagnostics of `files` (None: every file) of the tree, when the entry covers them."""
        with self._lock:
            if key not in self._items:
                return None
            covered, found, run = self._items[key]
            if covered is not None and (files is None or not covered.issuperset(files)):
                return None
            self._items.move_to_end(key)
        wanted = set(files or ())
        return (found, run) if files is None else ([d for d in found if d.path in wanted], run)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def put(self, key: tuple[str, str], files: tuple[str, ...] | None, found: list[Diagnostic], run: Run) -> None:
        with self._lock:
            if files is not None and key in self._items:
                covered, known, _ = self._items[key]
                if covered is None:
                    return
                found = known + [d for d in found if d.path not in covered]
                files = tuple(covered | set(files))
            self._items[key] = (None if files is None else frozenset(files), found, run)
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)


CACHE = Cache()


def tool_missing(analyser: Analyser, env_path: str | None = None) -> str | None:
    """Why the analyser's program cannot be run here, or None."""
    program = analyser.program
    if not program:
        return "no command"
    if "/" in program:
        return None if os.access(program, os.X_OK) else f"{program} is not installed"
    path = dict(analyser.env).get("PATH", env_path or os.environ.get("PATH", ""))
    return None if shutil.which(program, path=path) else f"{program} is not installed (not on PATH)"


def differential(
    repo: Path,
    analyser: Analyser,
    treeishes: dict[str, str],
    runner: Runner = local_runner,
    cache: Cache | None = CACHE,
    work: Path | None = None,
    only: frozenset[str] | None = None,
    on_ready: Callable[[], None] | None = None,
) -> Outcome:
    """Run `analyser` on the four versions (`treeishes`: base, ours, theirs, merged -> commit or tree)
    and return what only the merge has, as findings of `analyser.kind`. `only`: the files that can
    hold something new (semantic/affected.py), checked instead of each whole tree when the
    analyser `narrows`. `on_ready` is called once the first runs are started (or none is needed):
    a caller with work of its own for the processor waits for that, so as not to slow the
    preparation (git, mostly) down."""
    told = []

    def ready() -> None:
        if not told:
            told.append(True)
            if on_ready is not None:
                on_ready()

    try:
        return _differential(repo, analyser, treeishes, runner, cache, work, only, ready)
    finally:
        ready()


def _differential(
    repo: Path,
    analyser: Analyser,
    treeishes: dict[str, str],
    runner: Runner,
    cache: Cache | None,
    work: Path | None,
    only: frozenset[str] | None,
    ready: Callable[[], None],
) -> Outcome:
    started = time.monotonic()
    outcome = Outcome(analyser.name)
    outcome.skipped = tool_missing(analyser)
    if outcome.skipped:
        return outcome
    trees = tree_ids(repo, treeishes)
    if trees["merged"] in (trees["ours"], trees["theirs"]) or same_as_a_side(repo, analyser.reads, trees):
        outcome.seconds = time.monotonic() - started  # the merge is one side for this tool: nothing can be new
        return outcome
    files = narrowed_files(repo, trees, only) if only is not None and analyser.narrows else None
    files = files or {version: None for version in VERSIONS}
    outcome.files = None if files["merged"] is None else len(files["merged"])
    with tempfile.TemporaryDirectory(prefix="bosun-diff-", dir=work) as tmp:
        staged = _Staged(repo, analyser, trees, files, runner, cache, Path(tmp), ready)
        staged.run()
    outcome.ran = len(staged.ran)
    outcome.counts = {v: len(staged.results[v][0]) for v in VERSIONS if v not in staged.unknown}
    _judge(repo, analyser, trees, staged.results, outcome)
    outcome.seconds = time.monotonic() - started
    return outcome


def _judge(
    repo: Path, analyser: Analyser, trees: dict[str, str], results: dict[str, tuple[list, Run]], outcome: Outcome
) -> None:
    """The verdict from the four versions' diagnostics: what only the merge has, or why none can be told."""
    merged_found, merged_run = results["merged"]
    if merged_run.exit_code == 127 and not merged_found:
        outcome.skipped = f"{analyser.program} could not start: {merged_run.output.strip()[-200:]}"
        return
    if merged_run.exit_code is None:
        outcome.failed = f"{analyser.name} {merged_run.output.strip()}"
    outcome.new = new_in_merge(*(results[v][0] for v in VERSIONS))
    if not outcome.new and merged_run.exit_code not in (0, None) and not merged_found:
        # it fails and says nothing we can read (a crash, a broken setup, an unknown format): a
        # visible verdict that blocks nothing, never a silent pass
        where = "on the merge only" if all(results[v][1].exit_code == 0 for v in ("ours", "theirs")) else ""
        outcome.failed = (
            " ".join(f"failed {where} (exit {merged_run.exit_code}) with no diagnostic read: ".split())
            + " "
            + " ".join(merged_run.output.strip()[-300:].split())
        )
    if outcome.new:
        ours = changed_files(repo, trees["base"], trees["ours"])
        theirs = changed_files(repo, trees["base"], trees["theirs"])
        outcome.findings = [finding_of(analyser, d, ours, theirs) for d in outcome.new]


def _nothing() -> tuple[list[Diagnostic], Run]:
    return [], Run(0, "", 0.0)


class _Staged:
    """The analyser's runs on the versions of one merge, each tree written once into `tmp`.

    Runs are saved where they cannot change the answer. The unit's branch is needed only when the
    merge shows something the integration branch does not (whose run is usually cached: it was the
    last merge), or fails without a word; the base only when the merge shows something neither side
    does (it tells whether that was there before both removed it). An analyser that takes a list of
    files then checks only the files holding those diagnostics."""

    def __init__(self, repo, analyser, trees, files, runner, cache, tmp: Path, ready) -> None:
        self.repo, self.analyser, self.trees, self.files = repo, analyser, trees, files
        self.runner, self.cache, self.tmp, self.ready = runner, cache, tmp, ready
        self.results: dict[str, tuple[list[Diagnostic], Run]] = {}
        self.ran: list[str] = []
        self.unknown: set[str] = set()  # versions not run: their diagnostics cannot change the verdict

    def run(self) -> None:
        results = self.results
        if self.analyser.batch:
            self.run_versions(("ours", "theirs", "merged"))
        else:
            self.run_versions(("ours", "merged"))
            merged_found, merged_run = results["merged"]
            beyond = new_in_merge([], results["ours"][0], [], merged_found)
            if beyond or (not merged_found and merged_run.exit_code not in (0, None)):
                self.only_where("theirs", beyond)
                self.run_versions(("theirs",))
            else:
                self.skip("theirs")
        key = (self.analyser.command, self.trees["base"])
        cached_base = self.cache.get(key, self.files["base"]) if self.cache else None
        beyond = new_in_merge([], results["ours"][0], results["theirs"][0], results["merged"][0])
        if cached_base is None and not beyond:
            self.skip("base")
            return
        if cached_base is None:
            self.only_where("base", beyond)
        self.run_versions(("base",))

    def skip(self, version: str) -> None:
        self.unknown.add(version)
        self.results[version] = _nothing()

    def prepare(self, version: str) -> Path:
        folder = self.tmp / version
        if folder.exists():
            return folder
        analyser = self.analyser
        listing = tree_listing(self.repo, self.trees[version]) if analyser.needs else ()
        needed = [path for path, _, _ in listing if path.endswith(analyser.needs)]
        if not analyser.needs or any(mode == SYMLINK for _, _, mode in listing):
            needed = None  # every file: a link may lead to a folder of the kind it needs
        materialise(self.repo, self.trees[version], folder, needed)
        for name in analyser.link:
            source = self.repo / name
            if source.is_dir() and not (folder / name).exists():
                (folder / name).symlink_to(source, target_is_directory=True)
        return folder

    def read(self, folder: Path, run: Run) -> tuple[list[Diagnostic], Run]:
        only_errors = self.analyser.only_errors
        found = [d for d in parse(run.output, str(folder)) if d.severity == "error" or not only_errors]
        return found, run

    def one(self, version: str) -> tuple[list[Diagnostic], Run]:
        folder = self.prepare(version)
        files = self.files[version]
        narrowed = replace(self.analyser, command=self.analyser.on_files(files)) if files else self.analyser
        return self.read(folder, self.runner(narrowed, folder))

    def batch(self, versions: list[str]) -> list[tuple[list[Diagnostic], Run]]:
        command = " ".join([self.analyser.command, *versions])
        run = self.runner(replace(self.analyser, command=command), self.tmp)
        parts = split(run.output, versions, run.exit_code)
        share = run.seconds / len(versions)
        return [self.read(self.tmp / v, Run(parts[v][0], parts[v][1], share)) for v in versions]

    def cached(self, version: str) -> tuple[list[Diagnostic], Run] | None:
        if self.cache is None:
            return None
        return self.cache.get((self.analyser.command, self.trees[version]), self.files[version])

    def run_versions(self, versions: tuple[str, ...]) -> None:
        results, trees = self.results, self.trees
        todo = []
        for version in versions:
            hit = self.cached(version)
            if hit is not None:
                results[version] = hit
            elif self.files[version] == ():
                results[version] = _nothing()  # none of the files that matter is in this tree
            elif trees[version] not in [trees[v] for v in todo]:
                todo.append(version)
        for version in todo:
            self.prepare(version)
        self.ready()  # the runs start now
        with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
            done = self.batch(todo) if self.analyser.batch and todo else pool.map(self.one, todo)
            for version, result in zip(todo, done):
                results[version] = result
                if self.cache is not None and result[1].exit_code not in (None, 127):
                    self.cache.put((self.analyser.command, trees[version]), self.files[version], *result)
        self.ran.extend(todo)
        for version in versions:  # versions with the same tree share one run
            if version not in results:
                results[version] = next(results[v] for v in results if trees[v] == trees[version])

    def only_where(self, version: str, diagnostics: list[Diagnostic]) -> None:
        if not self.analyser.narrows or not diagnostics:
            return
        paths = {d.path for d in diagnostics}
        merged_paths = {path for path, _, _ in tree_listing(self.repo, self.trees["merged"])}
        if not paths <= merged_paths or not fits_one_argument(paths):
            return  # a path read back differently from the tree's (not UTF-8), or too many: the whole tree
        present = {path for path, _, _ in tree_listing(self.repo, self.trees[version])}
        self.files[version] = tuple(sorted(paths & present))
