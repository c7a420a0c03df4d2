"""How many units one gate run covers when the plan does not pin `batch`: sized from what the
queue observes, within the bounds published practice gives (Uber's SubmitQueue, Shopify's and
Bors's merge queues): batches of 5-10 while under 2 % of units fail the gate, 3-5 at 2-5 %,
2-3 above that. A batch only takes the units waiting when a slot frees, so the band's top is a
cap that binds only under a backlog, where the larger batch saves the most runs: the queue takes
the top of its band.

The failure rate starts at a prior (one failure in 25 units) and follows the units the
queue settles; the gate's length is a moving average of the runs' durations."""

from __future__ import annotations

from dataclasses import dataclass

BANDS = ((0.02, 5, 10), (0.05, 3, 5), (1.0, 2, 3))
"""(failure rate below, smallest batch, largest batch)."""
PRIOR_UNITS, PRIOR_FAILURES = 50, 1
"""Before anything settles: one failure in 50 units (2 %), batches of up to 5; one early failure
moves a small session less than a weaker prior would."""
WINDOW = 100
"""Units remembered: an old streak of failures stops counting once this many more have settled."""


@dataclass
class BatchSizer:
    """The observed failure rate and gate length, and the batch size they give."""

    settled: int = 0
    failures: int = 0
    gate_s: float | None = None

    @property
    def failure_rate(self) -> float:
        return (self.failures + PRIOR_FAILURES) / (self.settled + PRIOR_UNITS)

    def size(self) -> int:
        rate = self.failure_rate
        return next(high for below, _, high in BANDS if rate < below or below == 1.0)

    def seed(self, merged: int, failures: int, durations: list[float]) -> None:
        """What an earlier supervisor of this session saw: units merged, culprits, runs' lengths."""
        self._settle(merged + failures, failures)
        for duration in durations:
            self.ran(duration)

    def ran(self, duration_s: float) -> None:
        """A gate run finished (passed or failed on the code) after `duration_s`."""
        self.gate_s = duration_s if self.gate_s is None else 0.8 * self.gate_s + 0.2 * duration_s

    def merged(self, units: int) -> None:
        self._settle(units, 0)

    def failed(self) -> None:
        """A culprit: one unit that failed the gate on its own."""
        self._settle(1, 1)

    def _settle(self, units: int, failures: int) -> None:
        self.settled += units
        self.failures += failures
        if self.settled > WINDOW:  # forget evenly: the rate stays, its weight stops growing
            keep = WINDOW / self.settled
            self.settled, self.failures = WINDOW, round(self.failures * keep)

    def describe(self) -> dict:
        return {"size": self.size(), "failure_rate": round(self.failure_rate, 3), "gate_s": round(self.gate_s or 0, 1)}
