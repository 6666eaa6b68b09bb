from rest_framework.pagination import CursorPagination, PageNumberPagination


class PagePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class FeedPagination(CursorPagination):
    """Cursor pages for feeds that grow at the head (the ledger), so pages never shift under a reader."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = "-id"
