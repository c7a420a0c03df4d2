"""The plan file (`bosun.toml`): its keys declared once (keys.py), read with every problem in
its place (loading.py), written keeping comments and tables (writing.py), applied to a running
session (reload.py), and described to editors as a JSON Schema (schema.py)."""

from bosun.orchestration.plan.keys import AgentSpec, Plan, PlanFile, ProjectSpec, UnitSpec
from bosun.orchestration.plan.loading import load_plan, parse_plan
from bosun.orchestration.plan.values import mount_problem, parse_duration, parse_mount

__all__ = [
    "AgentSpec",
    "Plan",
    "PlanFile",
    "ProjectSpec",
    "UnitSpec",
    "load_plan",
    "mount_problem",
    "parse_duration",
    "parse_mount",
    "parse_plan",
]
