"""How long a published run's computing jobs took."""

import pytest

from resnet_essence.provenance import busy_time


def test_busy_time_counts_overlapping_jobs_once_and_no_pause():
    assert busy_time([]) == 0
    # two jobs side by side on two cores, then a third: 0-10 and 2-8 overlap, 10-15 follows
    assert busy_time([(0, 10), (2, 8), (10, 15)]) == pytest.approx(15)
    # a job rerun an hour later (the tables aggregated again): its own 4 s, not the hour between
    assert busy_time([(0, 10), (3600, 3604)]) == pytest.approx(14)
    assert busy_time([(5, 9), (0, 6)]) == pytest.approx(9)  # the order of the files is no matter
