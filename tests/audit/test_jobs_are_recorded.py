"""A scheduled job that changes data leaves one audit row naming it as a system job; the technical
purges and the rollup refresh, run many times an hour, leave none."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from backend.audit.models import AuditEntry
from backend.jobs.schedule import JOBS, run_recorded
from kiosks.models import Kiosk, KioskAlert, KioskNonce
from rewards import services as rewards
from rewards.models import Redemption, Reward
from tests.kiosks.helpers import make_kiosk
from tests.rewards.factories import RewardFactory
from tests.rewards.helpers import give_points

pytestmark = pytest.mark.django_db


def _lapsed_voucher(resident) -> Redemption:
    give_points(resident, 100)
    reward = RewardFactory(points_cost=100, stock=1)
    rewards.redeem_reward(resident=resident, reward_id=reward.id, quantity=1)
    Reward.objects.filter(pk=reward.pk).update(valid_until=timezone.now() - timedelta(seconds=1))
    return Redemption.objects.get(reward=reward)


def test_a_job_that_changes_rows_by_update_leaves_one_row_naming_it(resident):
    redemption = _lapsed_voucher(resident)

    assert run_recorded(JOBS["expire_vouchers"]) == 1

    redemption.refresh_from_db()
    assert redemption.status == "expired"
    [entry] = AuditEntry.objects.all()
    assert (entry.actor_kind, entry.actor_id, entry.actor_role) == ("system", None, "system")
    assert (entry.actor_label, entry.route) == ("job:expire_vouchers", "job expire_vouchers")
    assert (entry.action, entry.changes) == ("other", {"rows_changed": [None, 1]})


def test_the_same_work_run_by_hand_as_a_command_leaves_one_row_naming_the_command(resident):
    from django.core.management import call_command

    from backend.audit.commands import audited_command

    _lapsed_voucher(resident)

    with audited_command(["expire_vouchers"]):
        call_command("expire_vouchers", verbosity=0)

    [entry] = AuditEntry.objects.all()
    assert (entry.actor_kind, entry.actor_label, entry.route) == (
        "system",
        "command:expire_vouchers",
        "manage expire_vouchers",
    )
    assert entry.changes == {"rows_changed": [None, 1]}


def test_a_run_with_nothing_to_do_leaves_no_row(resident):
    _lapsed_voucher(resident)
    run_recorded(JOBS["expire_vouchers"])

    assert run_recorded(JOBS["expire_vouchers"]) == 0
    assert run_recorded(JOBS["auto_accept_drops"]) == 0
    assert AuditEntry.objects.count() == 1


def test_a_job_that_saves_rows_names_the_row_it_made(community):
    kiosk = make_kiosk(community)
    Kiosk.objects.filter(pk=kiosk.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert run_recorded(JOBS["check_kiosks"]) == 1

    alert = KioskAlert.objects.get(kiosk=kiosk, kind="silent")
    [entry] = AuditEntry.objects.all()
    assert (entry.actor_kind, entry.actor_label) == ("system", "job:check_kiosks")
    assert (entry.object_type, entry.object_id, entry.action) == (
        "kiosks.kioskalert",
        str(alert.pk),
        "create",
    )
    assert entry.district_id == community.district_id


def test_a_job_that_fails_after_saving_rows_still_leaves_its_row(community, monkeypatch):
    # Its runs commit item by item: what it saved before the failure stays saved, and recorded.
    from kiosks.services import check_silent_kiosks

    kiosk = make_kiosk(community)
    Kiosk.objects.filter(pk=kiosk.pk).update(created_at=timezone.now() - timedelta(hours=1))

    def alerts_then_fails():
        check_silent_kiosks()
        raise RuntimeError("lost the database half way")

    job = JOBS["check_kiosks"]
    monkeypatch.setitem(
        JOBS, job.name, type(job)(job.name, job.cron, job.expected_every_s, alerts_then_fails)
    )

    with pytest.raises(RuntimeError):
        run_recorded(JOBS["check_kiosks"])

    [entry] = AuditEntry.objects.all()
    assert (entry.actor_label, entry.object_type) == ("job:check_kiosks", "kiosks.kioskalert")


def test_the_technical_purges_leave_no_row(community):
    kiosk = make_kiosk(community)
    KioskNonce.objects.create(kiosk=kiosk, nonce="a" * 16, seen_at=timezone.now() - timedelta(hours=1))

    assert run_recorded(JOBS["purge_kiosk_nonces"]) == 1
    assert not AuditEntry.objects.exists()


def test_every_unrecorded_job_is_a_scheduled_job():
    # A renamed job would otherwise drop out of the list silently and start filling the trail.
    assert settings.AUDIT_UNRECORDED_JOBS <= set(JOBS)
