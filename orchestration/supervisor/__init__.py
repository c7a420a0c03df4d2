"""The supervisor: its loop (loop.py: dispatch, the ticks and the integration lane) apart from what
it carries out, one job per module: an agent's attempt on a unit (agent_run), the human commands
(decisions, takeover, reload), the budgets and leases held against running agents, the notices for
people away from the screen, and the recovery after a crash."""
