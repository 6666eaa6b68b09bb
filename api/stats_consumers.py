"""`/ws/stats/`: stats.updated and kiosk.alert for sanitation staff, scoped like the API."""

from channels.db import database_sync_to_async

from accounts.models import OFFICER_ROLES
from accounts.selectors import visible_districts
from backend.realtime.groups import city_stats_group, district_stats_group

from .consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHORISED, EventConsumer, user_from_ticket


def stats_groups(user) -> list[str]:
    """A district officer hears their district's group; city-wide staff their cities' groups only.

    Every district event (stats.updated, kiosk.alert) is published to its district's group and to its
    city's, so someone in both would hear each event twice.
    """
    districts = list(visible_districts(user).values_list("id", "city_id"))
    if user.is_city_wide:
        return [city_stats_group(city_id) for city_id in sorted({city for _d, city in districts})]
    return [district_stats_group(district_id) for district_id, _city in districts]


class StatsConsumer(EventConsumer):
    async def connect(self):
        user = await user_from_ticket(self.scope)
        if user is None:
            await self.refuse(CLOSE_UNAUTHORISED)
            return
        if not (user.is_superuser or user.role in OFFICER_ROLES):
            await self.refuse(CLOSE_FORBIDDEN)
            return
        self.scope["user"] = user
        await self.join(*(await database_sync_to_async(stats_groups)(user)))
        await self.accept()
