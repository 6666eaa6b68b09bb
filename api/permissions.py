"""Who may do what, by role. Object-level scope (which district, which community) lives in selectors."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import CITY_WIDE_ROLES, OFFICER_ROLES, Role


def _has_role(request, roles) -> bool:
    user = request.user
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_superuser or user.role in roles


class IsResident(BasePermission):
    def has_permission(self, request, view):
        return _has_role(request, {Role.RESIDENT})


class IsInspector(BasePermission):
    def has_permission(self, request, view):
        return _has_role(request, {Role.INSPECTOR})


class IsMerchant(BasePermission):
    def has_permission(self, request, view):
        return _has_role(request, {Role.MERCHANT})


class IsDistrictOfficer(BasePermission):
    """District or city officers (and admins): the staff who manage a district's equipment."""

    def has_permission(self, request, view):
        return _has_role(request, OFFICER_ROLES)


class IsCityOfficer(BasePermission):
    def has_permission(self, request, view):
        return _has_role(request, CITY_WIDE_ROLES)


class IsCityOfficerOrSignedInReader(BasePermission):
    """Prices and rules: anyone signed in reads them (so an app can show what a deposit earns);
    only city officers and admins change them."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            user = request.user
            return bool(user and user.is_authenticated and user.is_active)
        return _has_role(request, CITY_WIDE_ROLES)


class IsCommunityStaff(BasePermission):
    """Staff who answer for a community's residents: its inspectors and the officers above them."""

    def has_permission(self, request, view):
        return _has_role(request, OFFICER_ROLES | {Role.INSPECTOR})


class IsStaffMember(IsDistrictOfficer):
    """Sanitation staff who read statistics and equipment status: the officers."""


class CanCreateStaff(IsDistrictOfficer):
    """Officers create staff; which roles each may give is checked by accounts.services."""
