from django.urls import path

from . import dashboard

app_name = "dashboard"

urlpatterns = [
    path("", dashboard.dashboard, name="home"),
    path("login/", dashboard.DashboardLoginView.as_view(), name="login"),
    path("logout/", dashboard.dashboard_logout, name="logout"),
]
