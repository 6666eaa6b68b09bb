"""The worker itself, against the real queue in PostgreSQL: a failing job is retried, then succeeds,
and a job that changed data leaves its audit row."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app

from backend.audit.models import AuditEntry
from backend.jobs.models import JobStatus
from backend.jobs.schedule import JOBS, QUEUE
from rewards import services
from rewards.models import Redemption, Reward
from tests.factories import ResidentFactory
from tests.rewards.factories import RewardFactory
from tests.rewards.helpers import give_points


def _run_worker_until_idle():
    with app.replace_connector(app.connector.get_worker_connector()):
        app.run_worker(queues=[QUEUE], wait=False, install_signal_handlers=False, delete_jobs="successful")


def _jobs(name):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, attempts FROM procrastinate_jobs WHERE task_name = %s ORDER BY id", [name]
        )
        return cursor.fetchall()


@pytest.mark.django_db(transaction=True)
def test_a_job_that_fails_is_retried_by_the_worker_and_then_succeeds(monkeypatch):
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("lost the database for a moment")
        return "ok"

    # The worker's periodic deferrer would queue its own expire_vouchers run under the same queueing
    # lock, racing the retry; this test is about the retry, so the worker runs without schedules.
    monkeypatch.setattr(app.periodic_registry, "periodic_tasks", {})
    job = JOBS["expire_vouchers"]
    monkeypatch.setitem(JOBS, "expire_vouchers", type(job)(job.name, job.cron, job.expected_every_s, flaky))
    app.configure_task("expire_vouchers").defer(timestamp=0)

    _run_worker_until_idle()

    # The failure left the job waiting for its retry, with the attempt counted.
    assert _jobs("expire_vouchers") == [("todo", 1)]
    assert JobStatus.objects.get(name="expire_vouchers").failures == 1

    # Skip the backoff instead of sleeping through it.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE procrastinate_jobs SET scheduled_at = now() WHERE task_name = 'expire_vouchers'"
        )
    _run_worker_until_idle()

    assert len(calls) == 2
    assert _jobs("expire_vouchers") == []  # succeeded, and finished rows are not kept
    status = JobStatus.objects.get(name="expire_vouchers")
    assert (status.runs, status.failures) == (1, 1) and status.last_success_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_job_the_worker_runs_leaves_one_audit_row_naming_it(monkeypatch):
    resident = ResidentFactory()
    give_points(resident, 100)
    reward = RewardFactory(points_cost=100, stock=1)
    services.redeem_reward(resident=resident, reward_id=reward.id, quantity=1)
    Reward.objects.filter(pk=reward.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    monkeypatch.setattr(app.periodic_registry, "periodic_tasks", {})
    app.configure_task("expire_vouchers").defer(timestamp=0)

    _run_worker_until_idle()

    assert Redemption.objects.get().status == "expired"
    [entry] = AuditEntry.objects.all()
    assert (entry.actor_kind, entry.actor_label, entry.route) == (
        "system",
        "job:expire_vouchers",
        "job expire_vouchers",
    )
