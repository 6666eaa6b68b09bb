from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from api.pagination import FeedPagination, PagePagination
from geo.models import Community
from tests import factories

pytestmark = pytest.mark.django_db


def _request(query: dict) -> Request:
    return Request(APIRequestFactory().get("/api/v1/feed", query))


def _page(paginator, query: dict, queryset):
    return paginator.paginate_queryset(queryset, _request(query))


def test_page_size_is_capped(weidu):
    for _ in range(3):
        factories.CommunityFactory(district=weidu)
    paginator = PagePagination()

    _page(paginator, {"page_size": "100000"}, Community.objects.order_by("id"))

    assert paginator.get_page_size(_request({"page_size": "100000"})) == 200


def test_a_feed_page_does_not_shift_when_rows_arrive_at_the_head(weidu):
    rows = [factories.CommunityFactory(district=weidu) for _ in range(5)]
    paginator = FeedPagination()
    first = _page(paginator, {"page_size": "2"}, Community.objects.all())
    next_url = paginator.get_next_link()

    factories.CommunityFactory(district=weidu)
    cursor = parse_qs(urlsplit(next_url).query)["cursor"][0]
    second = _page(FeedPagination(), {"page_size": "2", "cursor": cursor}, Community.objects.all())

    assert [c.id for c in first] == [rows[4].id, rows[3].id]
    assert [c.id for c in second] == [rows[2].id, rows[1].id]


@pytest.mark.parametrize("cursor", ["garbage", "%00", "bz0tMQ==", "x" * 5000])
def test_a_forged_cursor_is_not_found_not_an_error(cursor):
    with pytest.raises(NotFound):
        _page(FeedPagination(), {"cursor": cursor}, Community.objects.all())
