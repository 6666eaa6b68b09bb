from backend.jobs.schedule import scheduled

from .services import check_silent_kiosks, purge_nonces


@scheduled(name="check_kiosks", cron="* * * * *", expected_every_s=3 * 60)
def check_kiosks() -> int:
    return check_silent_kiosks()


@scheduled(name="purge_kiosk_nonces", cron="*/10 * * * *", expected_every_s=30 * 60)
def purge_kiosk_nonces() -> int:
    return purge_nonces()
