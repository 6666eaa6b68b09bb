from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from api import health
from api.login_forms import AdminLockoutAuthenticationForm
from backend.observability.exposition import metrics

# The admin signs in through the same lockout as the API and the dashboard.
admin.site.login_form = AdminLockoutAuthenticationForm

urlpatterns = [
    # /healthz stays for images and probes that know only it: it means ready.
    path("healthz", health.ready, name="healthz"),
    path("healthz/live", health.live, name="healthz-live"),
    path("healthz/ready", health.ready, name="healthz-ready"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("api/v1/", include("api.urls")),
    path("dashboard/", include("api.dashboard_urls")),
    path("public/", include("api.public_urls")),
]

handler400 = "api.handlers.bad_request"
handler403 = "api.handlers.permission_denied"
handler404 = "api.handlers.not_found"
handler500 = "api.handlers.server_error"
