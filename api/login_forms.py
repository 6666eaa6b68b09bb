"""Sign-in forms of the dashboard and the admin: a lockout is a form error, not a server error."""

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts.errors import LoginLocked


class LockoutAware:
    def clean(self):
        try:
            return super().clean()
        except LoginLocked as exc:
            raise forms.ValidationError(str(exc.message), code="login_locked") from exc


class DashboardAuthenticationForm(LockoutAware, AuthenticationForm):
    pass


class AdminLockoutAuthenticationForm(LockoutAware, AdminAuthenticationForm):
    pass
