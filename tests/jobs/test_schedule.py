"""Scheduled jobs: each is a periodic procrastinate task that cannot overlap itself or pile up,
records its runs, and can be run again without doing anything twice."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from procrastinate.contrib.django import app

from backend.jobs.models import JobStatus
from backend.jobs.schedule import JOBS, QUEUE, run_recorded
from kiosks.models import KioskNonce
from tests.kiosks.helpers import make_kiosk

pytestmark = pytest.mark.django_db

EXPECTED = {
    "refresh_rollups": "* * * * * */5",
    "auto_accept_drops": "*/5 * * * *",
    "check_kiosks": "* * * * *",
    "expire_vouchers": "*/10 * * * *",
    "purge_kiosk_nonces": "*/10 * * * *",
    "purge_ws_tickets": "17 3 * * *",
}


def test_every_scheduled_job_is_a_periodic_task_on_its_schedule():
    periodic = {task.periodic_id: task for task in app.periodic_registry.periodic_tasks.values()}

    assert {name: job.cron for name, job in JOBS.items()} == EXPECTED
    assert {name: periodic[name].cron for name in EXPECTED} == EXPECTED


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_job_never_overlaps_itself_never_piles_up_and_is_retried(name):
    task = app.tasks[name]

    assert task.queue == QUEUE
    assert task.lock == name  # two runs of one job never at once
    assert task.queueing_lock == name  # a slow run does not collect a queue of ticks behind it
    assert task.retry_strategy is not None and task.retry_strategy.max_attempts >= 2


def test_a_run_is_recorded_and_running_it_again_does_nothing_twice(community):
    kiosk = make_kiosk(community)
    KioskNonce.objects.create(kiosk=kiosk, nonce="a" * 16, seen_at=timezone.now() - timedelta(hours=1))
    KioskNonce.objects.create(kiosk=kiosk, nonce="b" * 16, seen_at=timezone.now())

    first = run_recorded(JOBS["purge_kiosk_nonces"])
    second = run_recorded(JOBS["purge_kiosk_nonces"])

    assert (first, second) == (1, 0)
    assert list(KioskNonce.objects.values_list("nonce", flat=True)) == ["b" * 16]
    status = JobStatus.objects.get(name="purge_kiosk_nonces")
    assert (status.runs, status.failures) == (2, 0)
    assert status.last_success_at is not None and status.last_duration_ms is not None


def test_a_failed_run_is_recorded_with_its_error_and_raised_for_the_retry(monkeypatch):
    def broken():
        raise RuntimeError("database went away")

    job = JOBS["check_kiosks"]
    monkeypatch.setitem(JOBS, "check_kiosks", type(job)(job.name, job.cron, job.expected_every_s, broken))

    with pytest.raises(RuntimeError):
        run_recorded(JOBS["check_kiosks"])

    status = JobStatus.objects.get(name="check_kiosks")
    assert (status.runs, status.failures) == (0, 1)
    assert "database went away" in status.last_error and status.last_success_at is None


def test_job_status_check_fails_only_when_a_job_is_late(capsys):
    now = timezone.now()
    for name in EXPECTED:
        JobStatus.objects.create(name=name, runs=1, last_success_at=now)
    call_command("job_status", "--check")

    JobStatus.objects.filter(name="check_kiosks").update(last_success_at=now - timedelta(minutes=30))
    with pytest.raises(SystemExit) as exited:
        call_command("job_status", "--check")

    assert exited.value.code == 1
    late = [line for line in capsys.readouterr().out.splitlines() if "LATE" in line]
    assert [line.split()[0] for line in late] == ["check_kiosks"]


def test_a_job_not_yet_due_since_the_worker_started_is_not_late_but_one_no_worker_knows_is():
    from backend.jobs.status import job_health, register_jobs

    assert all(job.late for job in job_health())  # no worker ever started

    register_jobs()
    health = {job.name: job for job in job_health()}

    assert not health["purge_ws_tickets"].late and health["purge_ws_tickets"].last_success_at is None
    later = {job.name: job for job in job_health(now=timezone.now() + timedelta(days=3))}
    assert later["purge_ws_tickets"].late
