"""A session: the plan it runs, its store and its place on disk (`.bosun/`), created or reopened.

The plan's text is stored when the session starts, so `bosun resume` continues exactly the
session that crashed even if `bosun.toml` was edited since; its outline (plan_outline.py) beside
it lets the commands that only read open a session without validating the plan again.
"""

from __future__ import annotations

import json
import os
import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from bosun.orchestration.errors import BosunError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan_outline import PlanOutline, outline_json, outline_of, read_outline
from bosun.orchestration.states import DONE_STATES
from bosun.orchestration.store import Store

if TYPE_CHECKING:  # the plan's pydantic declaration loads only where a plan is validated; the
    # rest only where a command uses it (`bosun status` starts in a fraction of the time)
    from bosun.orchestration.plan import Plan
    from bosun.orchestration.worktrees import AgentClone

BOSUN_DIR = ".bosun"


class Session:
    """Everything a supervisor, a CLI command or the screen needs to act on one session.

    `plan` is the validated plan. A session opened without validating (`open_session(...,
    validate=False)`, for the commands that only read) validates its stored text when `plan` is
    first read; `outline` is what those commands read instead."""

    def __init__(self, repo: GitRepo, plan: Plan | None, store: Store, text: str = "", path: Path | None = None):
        self.repo, self.store = repo, store
        self._plan, self._text, self._path = plan, text, path
        self.archived: Path | None = None  # where create_session put the finished session it replaced

    @property
    def plan(self) -> Plan:
        if self._plan is None:
            from bosun.orchestration.plan import parse_plan

            self._plan = parse_plan(self._text, self._path or self.repo.path / "bosun.toml")
        return self._plan

    @plan.setter
    def plan(self, plan: Plan) -> None:
        self._plan = plan
        self.__dict__.pop("outline", None)

    @cached_property
    def outline(self) -> PlanOutline:
        """The plan's outline: from the store when it was made from the stored text, else from `plan`."""
        if self._plan is None and (stored := read_outline(self.store.get_meta("plan_outline"), self._text)):
            return stored
        return outline_of(self.plan)

    @cached_property
    def graph(self):
        """The unit graph (networkx), built when first asked: `status` and the claim commands never are."""
        from bosun.orchestration.graph import build_graph

        return build_graph(self.plan)

    @property
    def dir(self) -> Path:
        return self.repo.path / BOSUN_DIR

    def agent_log(self, unit: str, attempt: int) -> Path:
        """Where an attempt's output goes: the project's setup, then the agent."""
        return self.dir / "logs" / f"{unit}.{attempt}.log"

    @property
    def tasks_dir(self) -> Path:
        """Task and report files, outside every worktree."""
        return self.dir / "tasks"

    @property
    def integration_ref(self) -> str:
        return f"refs/heads/{self.outline.project.integration}"

    def clone(self) -> AgentClone:
        from bosun.orchestration.worktrees import AgentClone

        return AgentClone(self.repo, self.dir)

    def integration_head(self) -> str:
        return self.store.get_meta("integration_head") or ""

    def close(self) -> None:
        self.store.close()

    # -- the supervisor's presence, so CLI commands can say who will act on them ------------
    def running_supervisor(self) -> int | None:
        return _running_supervisor(self.store)

    def already_supervised(self) -> str | None:
        """The refusal for a second supervisor: who runs this session, since when, and how to see it."""
        return _already_supervised(self.store, self.dir)

    def clear_supervisor(self) -> None:
        """This process supervises no more: decisions from now on wait for `bosun resume`."""
        if self.store.get_meta("supervisor_pid") == str(os.getpid()):
            self.store.set_meta("supervisor_pid", "")

    def mark_supervisor(self) -> None:
        from bosun.orchestration.process import process_start_time

        if (other := self.running_supervisor()) is not None and other != os.getpid():
            raise BosunError(self.already_supervised() or f"{self.dir}: a supervisor runs this session (pid {other})")
        self.store.update_meta(
            {
                "supervisor_pid": str(os.getpid()),
                "supervisor_start": process_start_time(os.getpid()) or "",
                "reset_by": "",  # a reset that did not finish is not this supervisor's end
            }
        )


def _running_supervisor(store: Store) -> int | None:
    pid, start = store.get_meta("supervisor_pid"), store.get_meta("supervisor_start")
    if not (pid and start):
        return None
    from bosun.orchestration.process import process_start_time  # only when one was recorded

    if process_start_time(int(pid)) == start and not _is_zombie(int(pid)):
        return int(pid)
    return None


def _already_supervised(store: Store, where: Path) -> str | None:
    pid = _running_supervisor(store)
    if pid is None:
        return None
    since = _started_at(pid)
    when = f", since {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(since))}" if since else ""
    return (
        f"{where}: a supervisor is already running this session (pid {pid}{when}); "
        f"`bosun attach` shows its screen, `bosun status` its state"
    )


def _started_at(pid: int) -> float | None:
    """When `pid` started, in wall-clock seconds: the boot time plus its start in clock ticks."""
    from bosun.orchestration.process import process_start_time

    try:
        ticks = int(process_start_time(pid) or "")
        boot = next(
            int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines() if line.startswith("btime ")
        )
    except (OSError, ValueError, StopIteration):
        return None
    return boot + ticks / os.sysconf("SC_CLK_TCK")


def _is_zombie(pid: int) -> bool:
    """A killed supervisor its parent has not reaped yet still has a /proc entry: it runs nothing."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def _exclude_bosun_dir(repo: GitRepo) -> None:
    exclude = repo.git_dir / "info" / "exclude"
    exclude.parent.mkdir(parents=True, exist_ok=True)
    text = exclude.read_text() if exclude.exists() else ""
    if f"/{BOSUN_DIR}/" not in text.split("\n"):
        exclude.write_text(text + ("" if text.endswith("\n") or not text else "\n") + f"/{BOSUN_DIR}/\n")


def prepare_dir(repo: GitRepo) -> Path:
    """`.bosun/` with its folders, excluded from git status through `.git/info/exclude`."""
    root = repo.path / BOSUN_DIR
    for sub in ("logs", "tasks", "worktrees"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    _exclude_bosun_dir(repo)
    return root


def _unfinished(store: Store) -> int:
    return sum(1 for u in store.units() if u.state not in DONE_STATES)


def unfilled_submodules(session: Session) -> list[str]:
    """The base branch's submodules that worktrees and gate folders cannot be filled with (not
    initialized in your repository, or their commit not there): each left an empty folder."""
    from bosun.orchestration import submodules

    base = session.repo.rev_parse(f"refs/heads/{session.plan.project.base}")
    return submodules.missing(session.repo.path, base) if base is not None else []


NO_AGENTS = (
    "the plan has no agents, so nothing would run: add one under [agents] (bosun init's example shows "
    'each kind; kind = "external" for agents you start yourself)'
)


def create_session(repo: GitRepo, plan_path: Path) -> Session:
    """Start a new session from a plan; refuses while an unfinished one is in `.bosun/`."""
    from bosun.orchestration.plan import parse_plan
    from bosun.orchestration.plan.loading import load_plan

    try:  # the text validated is the text stored, with its outline
        text = plan_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        load_plan(plan_path)  # raises the plan's one-line error for a file it cannot read
        raise
    plan = parse_plan(text, plan_path)
    if not plan.agents:
        raise BosunError(f"{plan_path.name}: agents: {NO_AGENTS}")
    project = plan.project
    base = repo.rev_parse(f"refs/heads/{project.base}")
    if base is None:
        raise BosunError(no_base(repo, plan_path, project.base))
    db_path = repo.path / BOSUN_DIR / "state.db"
    made = None
    if db_path.exists():
        old = Store(db_path)
        live = _already_supervised(old, db_path.parent)
        left = _unfinished(old) if old.get_meta("plan_text") else 0
        made = old.get_meta("integration_head")
        old.close()
        if live:  # even a finished session: its supervisor may be waiting (--wait) for decisions
            raise BosunError(live)
        if left:
            raise BosunError(
                f"{db_path}: a session with {left} unfinished unit(s) is here; "
                "`bosun resume` continues it, `bosun reset` starts over"
            )
    integration_ref = f"refs/heads/{project.integration}"
    head = repo.rev_parse(integration_ref)
    if head is not None and not repo.is_ancestor(base, head):
        if not repo.is_ancestor(head, base):
            raise BosunError(
                f"branch '{project.integration}' has diverged from '{project.base}': "
                "land it or delete it before a new session"
            )
    elif head is not None and head != base and head != made:
        # Ahead of the base with merges no finished session here made: building on them silently
        # would hand every unit a tree it was not planned against.
        raise BosunError(
            f"branch '{project.integration}' is ahead of '{project.base}' with merges from an earlier "
            f"session: `bosun land` moves '{project.base}' there, or `bosun reset --yes` puts it back"
        )
    archived = None
    if db_path.exists():  # the finished session's store, logs and tasks: kept, out of the new one's way
        archived = new_archive(db_path.parent)
        for name in ("state.db", "state.db-wal", "state.db-shm", "state.db-claims", "logs", "tasks"):
            if (db_path.parent / name).exists():
                (db_path.parent / name).rename(archived / name)
    prepare_dir(repo)
    if head is None or head != base and repo.is_ancestor(head, base):
        if not repo.update_ref(integration_ref, base, head or "", "bosun: start integration"):
            raise BosunError(f"branch '{project.integration}' moved while the session started; try again")
        head = base
    store = Store(db_path)
    meta = {
        "plan_path": str(plan_path.resolve()),
        "plan_text": text,
        "plan_outline": outline_json(plan, text),
        "integration_head": head,
        "base_commit": base,
        "created": str(time.time()),
    }
    store.add_units([(u.id, u.agent) for u in plan.units.values()], meta)
    store.append_event(
        "session_started", None, base=project.base, integration=project.integration, commit=head, units=len(plan.units)
    )
    session = Session(repo, plan, store, text, plan_path)
    session.archived = archived
    return session


def no_base(repo: GitRepo, plan_path: Path, base: str) -> str:
    """The one line for a plan whose base branch is not in `repo`."""
    none = not repo.run("for-each-ref", "--count=1", "refs/heads").out.strip()
    empty = "; the repository has no commits yet: commit your project first" if none else ""
    return f"{plan_path.name}: project.base: branch '{base}' does not exist in {repo.path}{empty}"


def new_archive(root: Path) -> Path:
    """A new folder under `.bosun/archive/` named for now, for a session put aside."""
    archive = root / "archive" / time.strftime("%Y%m%d-%H%M%S")
    suffix = 1
    while archive.exists():
        archive = archive.with_name(f"{archive.name.split('.')[0]}.{suffix}")
        suffix += 1
    archive.mkdir(parents=True)
    return archive


def open_session(repo: GitRepo, validate: bool = True) -> Session:
    """Reopen the session in `.bosun/` (for resume, status and the human commands). With
    `validate=False` the stored plan is validated only when `session.plan` is read."""
    db_path = repo.path / BOSUN_DIR / "state.db"
    if not db_path.exists():
        raise BosunError(f"{repo.path}: no Bosun session here (start one with `bosun run`)")
    store = Store(db_path)
    text, path = store.get_meta("plan_text"), store.get_meta("plan_path")
    if not text or not path:
        store.close()
        raise BosunError(f"{db_path}: the session store is incomplete (no plan); delete .bosun/ and start again")
    session = Session(repo, None, store, text, Path(path))
    if validate:
        try:
            _ = session.plan  # validated now: a plan that no longer validates is refused here
        except BaseException:
            store.close()
            raise
    return session


def dumps(data: dict) -> str:
    return json.dumps(data, indent=2, sort_keys=False)
