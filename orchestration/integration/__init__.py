"""Integration, one path: the merge queue (its chain of candidates, scheduling and bisection,
gate runs, verdicts and landing), the gate and its pipeline of checks, and the crash-safe move
of the integration branch."""
