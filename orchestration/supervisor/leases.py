"""Leases: the agents Bosun runs keep theirs renewed; anyone else's that ran out expires, and an
agent of Bosun's whose lease went anyway is stopped (its claim is no longer its own)."""

from __future__ import annotations

from bosun.orchestration.store import Store
from bosun.orchestration.supervisor.agent_run import Running


def keep_leases(store: Store, running: dict[str, Running], lease_s: float) -> None:
    """Renew the leases of the agents Bosun runs; expire everyone else's that ran out."""
    now = store.lease_clock()  # not wall time: a clock jump must not steal or keep a lease
    for unit_id, agent_run in running.items():
        if agent_run.epoch and agent_run.renew_at <= now:
            if store.renew_lease(unit_id, agent_run.epoch, lease_s, now=now, revive=True):
                agent_run.renew_at = now + lease_s / 3
    for event in store.expire_leases(now):
        agent_run = running.get(event.unit)
        if agent_run is not None and agent_run.epoch == event.data["epoch"]:
            agent_run.stop()
