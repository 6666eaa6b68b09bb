"""`greenloop serve` runs the jobs itself exactly where events could not cross processes otherwise."""

from types import SimpleNamespace

import pytest

from backend.cli import _wants_in_process_worker, build_parser


@pytest.mark.parametrize(
    ("argv", "redis", "runs_jobs"),
    [
        (["serve"], "", True),  # the embedded default: one process, in-memory layer
        (["serve", "--workers", "3"], "", False),  # several processes cannot share an in-memory layer
        (["serve"], "redis://cache:6379/0", False),  # production shape: `greenloop worker` apart
        (["serve", "--worker"], "redis://cache:6379/0", True),
        (["serve", "--no-worker"], "", False),
    ],
)
def test_serve_runs_the_jobs_in_process_only_when_that_is_the_way_events_arrive(argv, redis, runs_jobs):
    args = build_parser().parse_args(argv)

    assert _wants_in_process_worker(args, SimpleNamespace(REDIS_URL=redis)) is runs_jobs
