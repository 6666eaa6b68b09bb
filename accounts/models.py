import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField

from geo.models import City, Community, District

from .names import clean_display_name
from .phone import mask_phone, normalise_phone


class Role(models.TextChoices):
    RESIDENT = "resident", _("resident")
    INSPECTOR = "inspector", _("inspector")
    MERCHANT = "merchant", _("merchant")
    DISTRICT_OFFICER = "district_officer", _("district officer")
    CITY_OFFICER = "city_officer", _("city officer")
    ADMIN = "admin", _("administrator")


# The role sets every permission and scope check uses; defined here once.
# Roles an administrator (or an officer, for the roles below theirs) can give a new staff member.
STAFF_ROLES = (Role.INSPECTOR, Role.MERCHANT, Role.DISTRICT_OFFICER, Role.CITY_OFFICER)
# Sanitation staff who manage a district's equipment and read its statistics.
OFFICER_ROLES = frozenset({Role.DISTRICT_OFFICER, Role.CITY_OFFICER, Role.ADMIN})
# Staff who see every district of their city.
CITY_WIDE_ROLES = frozenset({Role.CITY_OFFICER, Role.ADMIN})
# Who may create staff of which role: the city officer manages the roles below it; a district officer
# staffs their own district with inspectors and merchants.
CREATABLE_ROLES = {
    Role.CITY_OFFICER: frozenset({Role.INSPECTOR, Role.MERCHANT, Role.DISTRICT_OFFICER}),
    Role.DISTRICT_OFFICER: frozenset({Role.INSPECTOR, Role.MERCHANT}),
}


class Household(models.Model):
    community = models.ForeignKey(Community, on_delete=models.PROTECT, related_name="households")
    address = models.CharField(_("address"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        constraints = [
            models.UniqueConstraint(fields=["community", "address"], name="household_unique_address")
        ]

    def __str__(self):
        return f"{self.community} · {self.address}"


class HouseholdInvitation(models.Model):
    """A member's invitation into their household: single use, short-lived, kept only as a digest.

    The code itself is shown once to the member who asked for it; a database dump cannot be used to
    join anyone's household.
    """

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="invitations")
    issued_by = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"invitation to {self.household_id}"


class HouseholdJoinRequest(models.Model):
    """A resident asking to join a household that has members, without a member's invitation: the
    community's staff approve or refuse it. One pending request per resident."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REFUSED = "refused", _("refused")
        WITHDRAWN = "withdrawn", _("withdrawn")

    resident = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="household_requests")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="join_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident"],
                condition=models.Q(status="pending"),
                name="one_pending_household_request",
            )
        ]

    def __str__(self):
        return f"{self.resident_id} -> {self.household_id} ({self.status})"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, phone):
        return self.get(phone=normalise_phone(phone) or phone)

    def create_user(self, phone, password=None, **fields):
        normalised = normalise_phone(phone)
        if not normalised:
            raise ValueError("A valid phone number is required.")
        user = self.model(phone=normalised, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, phone, password=None, **fields):
        fields.setdefault("display_name", "Administrator")
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMIN)
        return self.create_user(phone, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    # Codes and URLs name users by this opaque id, never by the phone number or the row id.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    phone = PhoneNumberField(_("phone number"), unique=True)
    display_name = models.CharField(_("display name"), max_length=40)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.RESIDENT)
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    city = models.ForeignKey(City, on_delete=models.PROTECT, null=True, blank=True, related_name="officers")
    district = models.ForeignKey(
        District, on_delete=models.PROTECT, null=True, blank=True, related_name="staff"
    )
    communities = models.ManyToManyField(Community, blank=True, related_name="inspectors")
    is_active = models.BooleanField(_("active"), default=True)
    # Off until the resident says so: nobody is ranked in public by default.
    leaderboard_opt_in = models.BooleanField(_("shown on leaderboards"), default=False, db_default=False)
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="district_officer") | Q(district__isnull=False),
                name="district_officer_has_district",
            ),
            models.CheckConstraint(
                condition=~Q(role="inspector") | Q(district__isnull=False),
                name="inspector_has_district",
            ),
        ]

    def __str__(self):
        return self.display_name or str(self.public_id)

    @property
    def masked_phone(self) -> str:
        """What everyone but the owner sees of the phone number."""
        return mask_phone(self.phone)

    @property
    def shown_name(self) -> str:
        """The display name as others see it; rows stored before names were cleaned are cleaned here."""
        return clean_display_name(self.display_name)

    @property
    def is_city_wide(self) -> bool:
        return self.is_superuser or self.role in CITY_WIDE_ROLES


class WsTicket(models.Model):
    """A single-use, short-lived ticket that lets a browser or app open a WebSocket without a JWT in a URL."""

    token_hash = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"ticket for {self.user_id} until {self.expires_at:%H:%M:%S}"


class TokenFamily(models.Model):
    """Every refresh token descended from one sign-in. A rotated token used again means one of its
    copies is in someone else's hands: the whole family is revoked, the thief's and the owner's alike."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="token_families")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in token family")
        verbose_name_plural = _("sign-in token families")

    def __str__(self):
        return f"tokens of {self.user_id} since {self.created_at:%Y-%m-%d %H:%M}"
