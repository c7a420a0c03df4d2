"""The plan's outline in the store (issue 30): `bosun status` reads it instead of validating the plan
again, never when it was not made from the stored text, and whatever drives agents still validates."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import pytest
from conftest import bosun, toml_plan, write_unit

from bosun.orchestration.errors import PlanError
from bosun.orchestration.gitcmd import GitRepo
from bosun.orchestration.plan.reload import apply_plan
from bosun.orchestration.plan_outline import read_outline
from bosun.orchestration.session import create_session, open_session


def _set_meta(repo, key: str, value: str) -> None:
    db = sqlite3.connect(repo / ".bosun" / "state.db")
    with db:
        db.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
    db.close()


def _started(project, **keys):
    repo = project([{"id": "a"}], {"a": [write_unit("src/a.py", "A = 1\n")]}, **keys)
    create_session(GitRepo(repo), repo / "bosun.toml").close()
    return repo


def test_status_reads_the_outline_and_loads_no_pydantic(project):
    repo = _started(project, integration="int/outline", sandbox="off")
    code = (
        "import sys; sys.argv = ['bosun', 'status', '--json']\n"
        "from bosun.app.cli.main import main\nmain()\n"
        "print('PYDANTIC' if 'pydantic' in sys.modules else 'NO-PYDANTIC')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True).stdout
    assert out.rstrip().endswith("NO-PYDANTIC"), out
    data = json.loads(out.rsplit("\n", 2)[0])
    assert data["integration"]["branch"] == "int/outline" and data["sandbox"]["mode"] == "off"
    assert [a["name"] for a in data["agents"]] == ["ada", "bob"]


# What `bosun status` must not load (docs/benchmarks.md, "Starting a command"): `dataclasses` brings
# `inspect`, `ast` and `tokenize` (~10 ms); the text starts no process (its branch is read from
# files, the sandbox it does not show is not probed), so neither `subprocess` nor a thread; `shutil`
# (with its compression modules) only argparse would load, to ask the terminal width.
NEVER = ("pydantic", "dataclasses", "inspect", "concurrent.futures")
NOT_FOR_THE_TEXT = (*NEVER, "subprocess", "threading", "shutil", "bosun.orchestration.sandbox")


def _loaded(repo, *args: str, watch: tuple[str, ...]) -> tuple[list[str], str]:
    code = (
        f"import sys; sys.argv = ['bosun', 'status', *{args!r}]\n"
        "from bosun.app.cli.main import main\nmain()\n"
        f"import json; print(json.dumps(sorted(m for m in {watch!r} if m in sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True).stdout
    printed, _, loaded = out.rstrip().rpartition("\n")
    return json.loads(loaded), printed


def test_status_loads_no_dataclasses_and_its_text_starts_no_process(project):
    repo = _started(project, integration="int/light")
    head = subprocess.run(["git", "rev-parse", "int/light"], cwd=repo, capture_output=True, text=True).stdout.strip()
    loaded, text = _loaded(repo, watch=NOT_FOR_THE_TEXT)
    assert loaded == [] and text.startswith(f"integration int/light at {head[:10]}\n"), (loaded, text)
    loaded, printed = _loaded(repo, "--json", watch=NEVER)
    assert loaded == [] and json.loads(printed)["integration"]["commit"] == head, loaded
    session = open_session(GitRepo(repo), validate=False)
    session.mark_supervisor()  # this process, alive: status checks it is (process.py)
    try:
        loaded, text = _loaded(repo, watch=(*NEVER, "bosun.orchestration.process"))
    finally:
        session.clear_supervisor()
        session.close()
    assert loaded == ["bosun.orchestration.process"], loaded


def test_an_outline_not_made_from_the_stored_text_is_not_used(project):
    repo = _started(project, integration="int/one")
    text = (repo / "bosun.toml").read_text()
    _set_meta(repo, "plan_text", text.replace('"int/one"', '"int/two"'))  # the outline still says int/one
    data = json.loads(bosun("status", "--json", cwd=repo).stdout)
    assert data["integration"]["branch"] == "int/two", "the text was validated and read instead"

    _set_meta(repo, "plan_text", text)
    _set_meta(repo, "plan_outline", '{"version": 1, "digest": "x", "project": []}')
    assert json.loads(bosun("status", "--json", cwd=repo).stdout)["integration"]["branch"] == "int/one"


def test_a_stored_plan_that_no_longer_validates_is_refused_where_it_is_read(project):
    repo = _started(project)
    _set_meta(repo, "plan_text", (repo / "bosun.toml").read_text().replace('id = "a"', 'id = "a b"'))
    with pytest.raises(PlanError):
        open_session(GitRepo(repo))  # resume and the supervisor validate the text
    status = bosun("status", cwd=repo)
    assert status.returncode == 2 and "a b" in status.stderr, status.stderr


def test_a_reload_stores_the_new_plans_outline(project):
    repo = _started(project, integration="int/one")
    text = toml_plan([{"id": "a"}, {"id": "b"}], None, integration="int/one", lease="90s")
    session = open_session(GitRepo(repo))
    try:
        apply_plan(session, text, repo / "bosun.toml")
        stored = read_outline(session.store.get_meta("plan_outline"), session.store.get_meta("plan_text") or "")
    finally:
        session.close()
    assert stored is not None and stored.project.lease == 90.0
