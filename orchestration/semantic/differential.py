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

import functools
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

from bosun.orchestration.gitcmd import GIT_ENV, SAFE_CONFIG
from bosun.orchestration.semantic.diagnostics import Diagnostic, new_in_merge, parse
from bosun.orchestration.semantic.findings import Finding
from bosun.orchestration.semantic.tscheck import split

VERSIONS = ("base", "ours", "theirs", "merged")
SYMLINK = "120000"


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


def git(repo: Path, args: list[str], env: dict[str, str] | None = None, stdin: bytes | None = None) -> str:
    proc = subprocess.run(
        ["git", *SAFE_CONFIG, *args],
        cwd=repo,
        env={**GIT_ENV, **(env or {})},
        input=stdin,
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout.decode("utf-8", "replace")


def tree_ids(repo: Path, treeishes: dict[str, str]) -> dict[str, str]:
    """The tree of each version, in one git call."""
    ids = git(repo, ["rev-parse", *(f"{treeishes[v]}^{{tree}}" for v in VERSIONS)]).split()
    return dict(zip(VERSIONS, ids))


@functools.lru_cache(maxsize=64)
def tree_listing(repo: Path, tree: str) -> tuple[tuple[str, str, str], ...]:
    """(path, blob id, mode) of every file in a tree (a tree id names its content: safe to keep).
    A path that is not UTF-8 keeps its bytes as surrogates, so that it can be handed back to git."""
    proc = subprocess.run(
        ["git", *SAFE_CONFIG, "ls-tree", "-r", "-z", tree], cwd=repo, env=GIT_ENV, capture_output=True, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"git ls-tree {tree}: {proc.stderr.decode(errors='replace').strip()}")
    found = []
    for entry in filter(None, proc.stdout.decode("utf-8", "surrogateescape").split("\0")):
        meta, path = entry.split("\t", 1)
        mode, _, blob = meta.split()
        found.append((path, blob, mode))
    return tuple(found)


def materialise(repo: Path, treeish: str, folder: Path, only: list[str] | None = None) -> None:
    """Write exactly the files of `treeish` (or those of them in `only`) into `folder` (created),
    through a private index."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder.parent / f".{folder.name}.index"
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        git(repo, ["read-tree", treeish], env=env)
        if only is None:
            git(repo, ["checkout-index", "-a", "-f", f"--prefix={folder}/"], env=env)
        elif only:
            git(
                repo,
                ["checkout-index", "-f", "-z", "--stdin", f"--prefix={folder}/"],
                env=env,
                stdin="\0".join(only).encode("utf-8", "surrogateescape") + b"\0",
            )
    finally:
        index.unlink(missing_ok=True)


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


def changed_files(repo: Path, old: str, new: str) -> list[str]:
    out = git(repo, ["diff", "--name-only", "--no-renames", "-z", old, new])
    return [p for p in out.split("\0") if p]


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
    missing = tool_missing(analyser)
    if missing:
        outcome.skipped = missing
        return outcome
    trees = tree_ids(repo, treeishes)
    if trees["merged"] in (trees["ours"], trees["theirs"]) or same_as_a_side(repo, analyser, trees):
        outcome.seconds = time.monotonic() - started  # the merge is one side for this tool: nothing can be new
        return outcome
    files = narrowed_files(repo, trees, only) if only is not None and analyser.narrows else None
    files = files or {version: None for version in VERSIONS}
    outcome.files = None if files["merged"] is None else len(files["merged"])
    results: dict[str, tuple[list[Diagnostic], Run]] = {}
    ran: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bosun-diff-", dir=work) as tmp:

        def prepare(version: str) -> Path:
            folder = Path(tmp) / version
            if not folder.exists():
                listing = tree_listing(repo, trees[version]) if analyser.needs else ()
                needed = [path for path, _, _ in listing if path.endswith(analyser.needs)]
                if not analyser.needs or any(mode == SYMLINK for _, _, mode in listing):
                    needed = None  # every file: a link may lead to a folder of the kind it needs
                materialise(repo, trees[version], folder, needed)
                for name in analyser.link:
                    source = repo / name
                    if source.is_dir() and not (folder / name).exists():
                        (folder / name).symlink_to(source, target_is_directory=True)
            return folder

        def read(folder: Path, run: Run) -> tuple[list[Diagnostic], Run]:
            found = [d for d in parse(run.output, str(folder)) if d.severity == "error" or not analyser.only_errors]
            return found, run

        def one(version: str) -> tuple[list[Diagnostic], Run]:
            folder = prepare(version)
            narrowed = replace(analyser, command=analyser.on_files(files[version])) if files[version] else analyser
            return read(folder, runner(narrowed, folder))

        def batch(versions: list[str]) -> list[tuple[list[Diagnostic], Run]]:
            command = " ".join([analyser.command, *versions])
            run = runner(replace(analyser, command=command), Path(tmp))
            parts = split(run.output, versions, run.exit_code)
            return [read(Path(tmp) / v, Run(parts[v][0], parts[v][1], run.seconds / len(versions))) for v in versions]

        def run_versions(versions: tuple[str, ...]) -> None:
            todo = []
            for version in versions:
                hit = cache.get((analyser.command, trees[version]), files[version]) if cache else None
                if hit is not None:
                    results[version] = hit
                elif files[version] == ():
                    results[version] = ([], Run(0, "", 0.0))  # none of the files that matter is in this tree
                elif trees[version] not in [trees[v] for v in todo]:
                    todo.append(version)
            for version in todo:
                prepare(version)
            ready()  # the runs start now
            with ThreadPoolExecutor(max_workers=max(1, len(todo))) as pool:
                done = batch(todo) if analyser.batch and todo else pool.map(one, todo)
                for version, result in zip(todo, done):
                    results[version] = result
                    if cache is not None and result[1].exit_code not in (None, 127):
                        cache.put((analyser.command, trees[version]), files[version], *result)
            ran.extend(todo)
            for version in versions:  # versions with the same tree share one run
                if version not in results:
                    results[version] = next(results[v] for v in results if trees[v] == trees[version])

        # Runs are saved where they cannot change the answer. The unit's branch is needed only when
        # the merge shows something the integration branch does not (whose run is usually cached:
        # it was the last merge), or fails without a word; the base only when the merge shows
        # something neither side does (it tells whether that was there before both removed it).
        # An analyser that takes a list of files then checks only the files holding those diagnostics.
        def only_where(version: str, diagnostics: list[Diagnostic]) -> None:
            if not analyser.narrows or not diagnostics:
                return
            paths = {d.path for d in diagnostics}
            merged_paths = {path for path, _, _ in tree_listing(repo, trees["merged"])}
            if not paths <= merged_paths or not fits_one_argument(paths):
                return  # a path read back differently from the tree's (not UTF-8), or too many: the whole tree
            present = {path for path, _, _ in tree_listing(repo, trees[version])}
            files[version] = tuple(sorted(paths & present))

        unknown: set[str] = set()
        if analyser.batch:
            run_versions(("ours", "theirs", "merged"))
        else:
            run_versions(("ours", "merged"))
            merged_found, merged_run = results["merged"]
            beyond = new_in_merge([], results["ours"][0], [], merged_found)
            if beyond or (not merged_found and merged_run.exit_code not in (0, None)):
                only_where("theirs", beyond)
                run_versions(("theirs",))
            else:
                unknown.add("theirs")
                results["theirs"] = ([], Run(0, "", 0.0))
        cached_base = cache.get((analyser.command, trees["base"]), files["base"]) if cache else None
        beyond = new_in_merge([], results["ours"][0], results["theirs"][0], results["merged"][0])
        if cached_base is not None or beyond:
            if cached_base is None:
                only_where("base", beyond)
            run_versions(("base",))
        else:
            unknown.add("base")
            results["base"] = ([], Run(0, "", 0.0))
    outcome.ran = len(ran)
    outcome.counts = {version: len(results[version][0]) for version in VERSIONS if version not in unknown}
    merged_run = results["merged"][1]
    if merged_run.exit_code == 127 and not results["merged"][0]:
        outcome.skipped = f"{analyser.program} could not start: {merged_run.output.strip()[-200:]}"
        return outcome
    if merged_run.exit_code is None:
        outcome.failed = f"{analyser.name} {merged_run.output.strip()}"
    outcome.new = new_in_merge(*(results[v][0] for v in VERSIONS))
    if not outcome.new and merged_run.exit_code not in (0, None) and not results["merged"][0]:
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
    outcome.seconds = time.monotonic() - started
    return outcome


NARROW_SHARE = 0.8  # a run on this share of a tree's files or more checks the whole tree (and caches it)
NARROW_CHARS = 100_000  # and so does a list of files this long in bytes (one argument is at most 128 kB)


def fits_one_argument(paths) -> bool:
    """Whether `paths`, as `Analyser.on_files` quotes them, fit well inside one shell argument."""
    return sum(len(shlex.quote("./" + p).encode("utf-8", "surrogateescape")) + 1 for p in paths) <= NARROW_CHARS


def narrowed_files(repo: Path, trees: dict[str, str], only: frozenset[str]) -> dict[str, tuple[str, ...]] | None:
    """The files of `only` each version holds, or None when checking each whole tree is as good."""
    files = {}
    for version in VERSIONS:
        present = {path for path, _ in read_files(repo, trees[version], (".py",))}
        files[version] = tuple(sorted(only & present))
        if version == "merged" and (
            len(files[version]) >= NARROW_SHARE * len(present) or not fits_one_argument(files[version])
        ):
            return None
    return files


def read_files(repo: Path, tree: str, endings: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset((path, blob) for path, blob, _ in tree_listing(repo, tree) if path.endswith(endings))


def same_as_a_side(repo: Path, analyser: Analyser, trees: dict[str, str]) -> bool:
    """Whether the merge holds exactly one side's files of the kinds the analyser reads."""
    if not analyser.reads:
        return False
    merged = read_files(repo, trees["merged"], analyser.reads)
    return any(merged == read_files(repo, trees[side], analyser.reads) for side in ("ours", "theirs"))


def related(diagnostic: Diagnostic, changed: list[str], limit: int = 3) -> list[str]:
    """The files a side changed that most likely produced the diagnostic: the file itself, then
    files named (by path, name or stem) in its message, then other files of the same language."""
    if not changed:
        return []
    message = diagnostic.message
    suffix = Path(diagnostic.path).suffix

    def rank(path: str) -> int:
        if path == diagnostic.path:
            return 0
        stem = Path(path).stem
        if path in message or Path(path).name in message or (len(stem) > 2 and stem in message):
            return 1
        return 2 if Path(path).suffix == suffix else 3

    return sorted(changed, key=lambda p: (rank(p), p))[:limit]


def describe(side: str, files: list[str], total: int) -> str:
    if not files:
        return f"{side} changed nothing near it"
    more = f" (+{total - len(files)} more)" if total > len(files) else ""
    return f"{side} changed {', '.join(files)}{more}"


def finding_of(analyser: Analyser, diagnostic: Diagnostic, ours: list[str], theirs: list[str]) -> Finding:
    rule = diagnostic.rule or analyser.program
    our_part = describe("the integration branch", related(diagnostic, ours), len(ours))
    their_part = describe("the unit's branch", related(diagnostic, theirs), len(theirs))
    message = (
        f"{analyser.name}: {rule}: {diagnostic.message} (new in the merge, in neither side: {our_part}; {their_part})"
    )
    return Finding(
        analyser.kind,
        diagnostic.path,
        max(diagnostic.line, 1),
        rule,
        " ".join(message.split()),
        our_part.removeprefix("the integration branch "),
        their_part.removeprefix("the unit's branch "),
    )
