from backend.jobs.schedule import scheduled

from .services import expire_vouchers as expire_due_vouchers


@scheduled(name="expire_vouchers", cron="*/10 * * * *", expected_every_s=30 * 60)
def expire_vouchers() -> int:
    return expire_due_vouchers()
