"""The integration lane: the merge check, the gate folder and its pipeline of checks, and the
crash-safe move of the integration branch."""
