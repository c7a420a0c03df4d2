"""How the report writes times, money and tokens, the same in the text summary and the page."""

from __future__ import annotations


def duration(seconds: float | None) -> str:
    """0.4s, 12s, 3m 05s, 1h 02m: short, and exact enough to compare rows."""
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m"


def clock(offset: float) -> str:
    """A time since the session started, for axes: 0:45, 12:30, 1:05:00."""
    whole = int(round(offset))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def money(cost: float | None) -> str:
    if cost is None:
        return "-"
    return f"${cost:.2f}" if cost >= 1 else f"${cost:.4f}"


def tokens(count: int | None) -> str:
    if not count:
        return "-"
    if count >= 1_000_000:
        return f"{count / 1_000_000:.1f}M"
    return f"{count / 1000:.1f}k" if count >= 1000 else str(count)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def nice_step(span: float, ticks: int = 10) -> float:
    """A round tick spacing (1s, 2s, 5s, 10s, 15s, 30s, 1m, ...) giving about `ticks` ticks over `span`."""
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400):
        if span / step <= ticks:
            return float(step)
    return 86400.0 * max(1, round(span / 86400 / ticks))
