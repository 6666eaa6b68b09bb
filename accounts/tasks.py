from backend.jobs.schedule import scheduled

from .services import purge_ws_tickets as purge_expired_tickets


@scheduled(name="purge_ws_tickets", cron="17 3 * * *", expected_every_s=2 * 24 * 3600)
def purge_ws_tickets() -> int:
    return purge_expired_tickets()
