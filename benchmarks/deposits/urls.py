from django.http import JsonResponse
from django.urls import path

from backend.urls import urlpatterns as product_urls


def plain(request):
    return JsonResponse({"ok": True})


urlpatterns = [path("bench/plain", plain), *product_urls]
