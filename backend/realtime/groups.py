"""Channel-layer group names: one place, so publishers and consumers cannot disagree."""


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def kiosk_group(kiosk_id) -> str:
    return f"kiosk.{kiosk_id}"


def district_stats_group(district_id: int) -> str:
    return f"stats.district.{district_id}"


def city_stats_group(city_id: int) -> str:
    return f"stats.city.{city_id}"
