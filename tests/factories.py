"""Test data builders. Phone numbers are valid mainland mobile numbers, unique per call."""

import functools
import itertools

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import Household, Role, User
from geo.models import Community, District

_phone_numbers = itertools.count(1)
PASSWORD = "sorting-is-fun-42"


@functools.cache
def _password_hash() -> str:
    return make_password(PASSWORD)


def next_phone() -> str:
    return f"+86138{next(_phone_numbers):08d}"


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    district = factory.LazyFunction(lambda: District.objects.get(slug="weidu"))
    name = factory.Sequence(lambda n: f"社区{n}")


class HouseholdFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Household

    community = factory.SubFactory(CommunityFactory)
    address = factory.Sequence(lambda n: f"{n}号楼{n % 30 + 1}0{n % 4 + 1}室")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    phone = factory.LazyFunction(next_phone)
    display_name = factory.Sequence(lambda n: f"居民{n}")
    role = Role.RESIDENT
    # Argon2 is slow by design; hashing once and sharing the hash keeps hundreds of factory users fast.
    password = factory.LazyFunction(lambda: _password_hash())


class ResidentFactory(UserFactory):
    household = factory.SubFactory(HouseholdFactory)


class InspectorFactory(UserFactory):
    class Meta:
        skip_postgeneration_save = True

    role = Role.INSPECTOR
    district = factory.LazyFunction(lambda: District.objects.get(slug="weidu"))
    display_name = factory.Sequence(lambda n: f"督导员{n}")

    @factory.post_generation
    def communities(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.communities.set(extracted)


class DistrictOfficerFactory(UserFactory):
    role = Role.DISTRICT_OFFICER
    district = factory.LazyFunction(lambda: District.objects.get(slug="weidu"))
    display_name = factory.Sequence(lambda n: f"环卫{n}")


class CityOfficerFactory(UserFactory):
    role = Role.CITY_OFFICER
    city = factory.LazyFunction(lambda: District.objects.get(slug="weidu").city)
    display_name = factory.Sequence(lambda n: f"市局{n}")


class MerchantFactory(UserFactory):
    role = Role.MERCHANT
    display_name = factory.Sequence(lambda n: f"商户{n}")
