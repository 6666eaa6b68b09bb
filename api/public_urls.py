from django.urls import path

from . import public, public_page

app_name = "public"

urlpatterns = [
    path("", public_page.public_page, name="home"),
    path("data/", public.PublicDataIndexView.as_view(), name="data"),
]
for _name, (_json_view, _csv_view) in public.VIEWS.items():
    urlpatterns += [
        path(f"data/{_name}.json", _json_view.as_view(), name=f"{_name}-json"),
        path(f"data/{_name}.csv", _csv_view.as_view(), name=f"{_name}-csv"),
    ]
