"""The frozen wall clock of `pytest --frozen-clock` (tests/conftest.py): under it the wall clock
stands still while the interval timers run; without it both run."""

from __future__ import annotations

import datetime as dt
import time

from conftest import FROZEN_AT


def test_the_wall_clock_stands_still_only_under_frozen_clock(request):
    frozen = request.config.getoption("--frozen-clock")
    wall, mono = time.time(), time.perf_counter()
    time.sleep(0.02)
    assert time.perf_counter() - mono >= 0.02  # the interval timers always run
    if frozen:
        assert time.time() == wall == FROZEN_AT
        assert dt.datetime.now(dt.UTC) == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    else:
        assert time.time() - wall >= 0.02
        assert dt.datetime.now(dt.UTC).timestamp() > FROZEN_AT - 1e9  # a real date
