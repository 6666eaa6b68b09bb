"""Shops and their merchants, managed by the officers of the shop's city."""

from django.db import transaction

from accounts.errors import CityUnknown
from accounts.models import Role
from accounts.selectors import city_of

from .errors import DistrictOfOtherCity, MerchantOfOtherCity, NotAMerchant
from .models import Shop


def _checked_district(city, district):
    if district is not None and district.city_id != city.pk:
        raise DistrictOfOtherCity()
    return district


def create_shop(*, actor, name: str, district=None) -> Shop:
    city = city_of(actor)
    return Shop.objects.create(name=name, city=city, district=_checked_district(city, district))


def update_shop(*, actor, shop: Shop, **fields) -> Shop:
    if "district" in fields:
        _checked_district(shop.city, fields["district"])
    for name, value in fields.items():
        setattr(shop, name, value)
    shop.save()
    return shop


def add_merchant(*, shop: Shop, merchant) -> Shop:
    if merchant.role != Role.MERCHANT:
        raise NotAMerchant()
    try:
        merchant_city = city_of(merchant)
    except CityUnknown as exc:
        raise MerchantOfOtherCity() from exc
    if merchant_city.pk != shop.city_id:
        raise MerchantOfOtherCity()
    with transaction.atomic():
        shop.merchants.add(merchant)
    return shop


def remove_merchant(*, shop: Shop, merchant) -> Shop:
    with transaction.atomic():
        shop.merchants.remove(merchant)
    return shop
