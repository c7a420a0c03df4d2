"""The supervisor's decisions (orchestration/supervisor/decisions.py): every command a person can
leave in the store has something that carries it out, so none waits forever or fails the tick."""

from __future__ import annotations

from bosun.orchestration.states import COMMAND_STATES
from bosun.orchestration.supervisor.decisions import HANDLERS


def test_every_command_kind_has_a_handler():
    # takeover runs off the tick (it stops an agent and runs git); reload is not about a unit.
    assert set(COMMAND_STATES) - {"takeover"} == set(HANDLERS)
