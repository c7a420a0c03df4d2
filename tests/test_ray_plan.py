"""The plan's backend keys: `backend`, `ray_address`, `ray_hub` and an agent's
`resources`, each wrong value refused in one line naming the key; the local backend by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from bosun.orchestration.errors import PlanError
from bosun.orchestration.plan import parse_plan

UNIT = '[agents.ada]\nkind = "command"\ncommand = ["true"]\n{agent}\n[[units]]\nid = "u"\nprompt = "p"\n'


def plan_text(project: str, agent: str = "") -> str:
    return f"[project]\n{project}\n" + UNIT.format(agent=agent)


def problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, Path("bosun.toml"))
    return caught.value.problems


def test_the_local_backend_is_the_default():
    plan = parse_plan(plan_text(""), Path("bosun.toml"))
    assert plan.project.backend == "local" and plan.project.ray_address is None


def test_a_ray_plan_keeps_its_address_hub_and_resources():
    plan = parse_plan(
        plan_text(
            'backend = "ray"\nray_address = "10.0.0.5:6379"\nray_hub = "git://head/hub.git"',
            "resources = { GPU = 1, claude_cli = 0.5 }",
        ),
        Path("bosun.toml"),
    )
    assert (plan.project.backend, plan.project.ray_address, plan.project.ray_hub) == (
        "ray",
        "10.0.0.5:6379",
        "git://head/hub.git",
    )
    assert dict(plan.agents["ada"].resources) == {"GPU": 1.0, "claude_cli": 0.5}


@pytest.mark.parametrize(
    ("project", "agent", "expected"),
    [
        ('backend = "k8s"', "", "project.backend: must be one of local, ray, not 'k8s'"),
        ('backend = "ray"', "", 'project.ray_address: backend = "ray" needs ray_address'),
        ('ray_address = "127.0.0.1:6379"', "", 'project.ray_address: only applies with backend = "ray"'),
        ('backend = "ray"\nray_address = "a b"', "", "project.ray_address: must be an address without spaces"),
        ('backend = "ray"\nray_address = "auto"\nray_hub = 3', "", "project.ray_hub: must be a git address"),
        ("", 'resources = { GPU = "one" }', "agent 'ada', resources: must be a table of names and amounts"),
        ("", 'resources = ["GPU"]', "agent 'ada', resources: must be a table of names and amounts"),
    ],
)
def test_a_wrong_backend_key_is_one_line_naming_it(project, agent, expected):
    found = problems(plan_text(project, agent))
    assert len(found) == 1, found
    assert expected in found[0] and "\n" not in found[0], found[0]
