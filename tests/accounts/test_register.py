import pytest

from accounts.models import Role, User
from tests.factories import PASSWORD

REGISTER = "/api/v1/auth/register"


def _register(api, phone="138 0013 8000", password=PASSWORD, display_name="小王", **extra):
    return api.post(
        REGISTER, {"phone": phone, "password": password, "display_name": display_name, **extra}, format="json"
    )


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("throttle_rates")]


def test_register_creates_a_resident_and_answers_with_a_masked_phone(api):
    response = _register(api, phone="+86 138 1234 5678", display_name="  小王 ")

    assert response.status_code == 201
    body = response.json()
    user = User.objects.get()
    assert body == {"id": user.id, "display_name": "小王", "phone": "+86 138****5678"}
    assert str(user.phone) == "+8613812345678"
    assert user.role == Role.RESIDENT
    assert not user.is_staff and not user.is_superuser
    assert user.check_password(PASSWORD)
    assert user.password.startswith("argon2")


@pytest.mark.parametrize(
    "second_form", ["+8613800138000", "13800138000", "+86 138-0013-8000", "008613800138000"]
)
def test_the_same_number_in_another_format_is_taken(api, second_form):
    assert _register(api, phone="138 0013 8000").status_code == 201

    response = _register(api, phone=second_form, display_name="冒名")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "phone_taken"
    assert User.objects.count() == 1
    assert User.objects.get().display_name == "小王"


@pytest.mark.parametrize("phone", ["12345", "abc", "+86 000 0000 0000", "1" * 40, "+1 555", ""])
def test_an_invalid_phone_is_refused_and_nothing_is_stored(api, phone):
    response = _register(api, phone=phone)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in {"invalid_phone", "validation_error"}
    assert "phone" in error["fields"]
    assert not User.objects.exists()


@pytest.mark.parametrize("password", ["short", "12345678901", "password123", "13800138000"])
def test_a_weak_password_is_refused_with_reasons(api, password):
    response = _register(api, password=password)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "weak_password"
    assert error["fields"]["password"]
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["phone", "password", "display_name"])
def test_a_missing_field_is_a_validation_error_naming_it(api, missing):
    body = {"phone": "13800138000", "password": PASSWORD, "display_name": "小王"}
    del body[missing]

    response = api.post(REGISTER, body, format="json")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["fields"]) == [missing]
    assert error["message"]
    assert not User.objects.exists()


def test_a_blank_display_name_is_refused(api):
    response = _register(api, display_name="   ")

    assert response.status_code == 400
    assert "display_name" in response.json()["error"]["fields"]
    assert not User.objects.exists()


def test_register_ignores_a_role_in_the_body(api):
    response = _register(api, role="city_officer", is_superuser=True)

    assert response.status_code == 201
    user = User.objects.get()
    assert user.role == Role.RESIDENT
    assert not user.is_superuser


def test_registration_is_throttled_after_the_rate(api, throttle_rates):
    throttle_rates(register="3/min")

    answers = [_register(api, phone=f"+86138000000{n:02d}").status_code for n in range(4)]

    assert answers == [201, 201, 201, 429]
    assert User.objects.count() == 3
    refused = _register(api, phone="+8613800000099")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "throttled"
    assert int(refused["Retry-After"]) > 0
    assert User.objects.count() == 3


@pytest.mark.parametrize("password", ["+8613800138000", "8613800138000x", "小王小王小王小王"])
def test_a_password_like_the_phone_or_name_is_refused(api, password):
    response = _register(api, phone="13800138000", display_name="小王小王小王小王", password=password)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "weak_password"
    assert not User.objects.exists()
