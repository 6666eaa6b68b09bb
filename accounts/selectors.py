"""Reads of accounts and geography, already scoped to the caller."""

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from backend.codes.signing import RESIDENT, InvalidCode, verify, verify_issued
from geo.models import City, Community, District
from geo.selectors import sole_city

from .errors import CityUnknown
from .models import HouseholdJoinRequest, Role, User


def visible_districts(user: User) -> QuerySet[District]:
    """Districts whose staff data the user may read: all of a city for city officers, else their own."""
    districts = District.objects.select_related("city")
    if user.is_superuser or user.role == Role.ADMIN:
        return districts.all()
    if user.role == Role.CITY_OFFICER:
        return districts.filter(city_id=user.city_id) if user.city_id else districts.all()
    if user.district_id:
        return districts.filter(id=user.district_id)
    return districts.none()


def inspected_communities(user: User) -> QuerySet[Community]:
    if user.role == Role.INSPECTOR:
        return user.communities.all()
    return Community.objects.filter(district__in=visible_districts(user))


def can_manage_district(user: User, district: District) -> bool:
    """District officers manage their own district; city officers and admins manage every district."""
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role == Role.CITY_OFFICER:
        return user.city_id in (None, district.city_id)
    return user.role == Role.DISTRICT_OFFICER and user.district_id == district.id


def city_of(user: User) -> City:
    """The city a staff member acts for: their own, their district's, or the only one there is.

    An administrator of a several-city installation names no city, and none is guessed for them.
    """
    city = user.city or (user.district.city if user.district_id else None) or sole_city()
    if city is None:
        raise CityUnknown()
    return city


def resident_from_code(code) -> User:
    """The active resident a signed, fresh resident code names; InvalidCode for anything else."""
    return _resident_named(verify(RESIDENT, code))


def resident_from_dated_code(code):
    """The active resident a genuine resident code names and when it was issued, however long ago:
    a kiosk's offline upload judges the code's freshness against the deposit's own time."""
    payload, issued_at = verify_issued(RESIDENT, code)
    return _resident_named(payload), issued_at


def _resident_named(payload: dict) -> User:
    try:
        return User.objects.get(public_id=payload["u"], role=Role.RESIDENT, is_active=True)
    except (User.DoesNotExist, KeyError, ValueError, TypeError, ValidationError) as exc:
        raise InvalidCode() from exc


def home_city_of(user: User) -> City:
    """The city whose rules apply to the user: a resident's household's, else the city they act for."""
    if user.household_id:
        return user.household.community.district.city
    return city_of(user)


def household_requests_visible_to(user: User) -> QuerySet[HouseholdJoinRequest]:
    """Requests to join a household that this staff member may decide: an inspector's communities,
    a district officer's district, a city officer's city; nobody else's."""
    requests = HouseholdJoinRequest.objects.all()
    if user.is_superuser or user.role == Role.ADMIN:
        return requests
    if user.role == Role.INSPECTOR:
        return requests.filter(household__community__in=user.communities.all())
    if user.role in (Role.DISTRICT_OFFICER, Role.CITY_OFFICER):
        return requests.filter(household__community__district__in=visible_districts(user))
    return requests.none()
