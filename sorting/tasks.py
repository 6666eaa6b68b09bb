from backend.jobs.schedule import scheduled

from .services import auto_accept_pending


@scheduled(name="auto_accept_drops", cron="*/5 * * * *", expected_every_s=15 * 60)
def auto_accept_drops() -> int:
    return auto_accept_pending()
