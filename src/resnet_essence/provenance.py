"""Where a published run comes from: how long its computing jobs took."""

from __future__ import annotations


def busy_time(spans: list[tuple[float, float]]) -> float:
    """Seconds during which at least one of the (start, end) spans was running: the wall time of
    a run's computing jobs, without the pauses between them (a run resumed later, or a table
    aggregated again after the figure was redrawn, adds no idle time)."""
    total, covered_until = 0.0, float("-inf")
    for start, end in sorted(spans):
        if end <= covered_until:
            continue
        total += end - max(start, covered_until)
        covered_until = end
    return total
