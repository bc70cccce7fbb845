"""The second factor: who must have one, enrolment, signing in with it, recovery codes."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import second_factor
from tests.factories import UserFactory

REQUIRED = override_settings(CASEDESK_SECOND_FACTOR_REQUIRED=True)


def code_for(device: TOTPDevice, *, at=None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = (at or timezone.now()).timestamp()
    return f"{totp.token():0{device.digits}d}"


def sign_in(client, user, password="casedesk"):
    user.set_password(password)
    user.save()
    return client.post("/accounts/login/", {"username": user.username, "password": password})


def enrol(client, user) -> list[str]:
    client.get("/accounts/two-factor/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/accounts/two-factor/", {"code": code_for(device)})
    assert response.status_code == 200
    return re.findall(r'cd-recovery-code">([^<]+)<', response.content.decode())


def test_by_default_nobody_is_asked_for_a_second_factor(client, maria):
    sign_in(client, maria.user)

    assert client.get("/cases/").status_code == 200


@REQUIRED
@pytest.mark.parametrize(("who", "asked"), [("maria", True), ("lee", True), ("joanne", False)])
def test_when_required_supervisors_and_above_must_set_one_up(client, org, who, asked):
    sign_in(client, getattr(org, who).user)

    response = client.get("/cases/")

    if asked:
        assert response.status_code == 302
        assert response.url.startswith("/accounts/two-factor/?next=%2Fcases%2F")
    else:
        assert response.status_code == 200


@REQUIRED
@override_settings(CASEDESK_SECOND_FACTOR_AGENTS="required")
def test_agents_can_be_required_too(client, joanne):
    sign_in(client, joanne.user)

    assert client.get("/cases/").url.startswith("/accounts/two-factor/")


@REQUIRED
def test_administrators_must_set_one_up(client, db):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    sign_in(client, admin)

    assert client.get("/admin/").url.startswith("/accounts/two-factor/?next=%2Fadmin%2F")


@REQUIRED
def test_enrolling_shows_recovery_codes_once_and_verifies_the_session(client, maria):
    sign_in(client, maria.user)

    codes = enrol(client, maria.user)

    assert len(codes) == second_factor.RECOVERY_CODES
    assert client.get("/cases/").status_code == 200
    assert client.get("/accounts/two-factor/qr.svg")["Content-Type"] == "image/svg+xml"


def test_a_wrong_code_at_enrolment_is_refused_and_nothing_is_confirmed(client, maria):
    sign_in(client, maria.user)
    client.get("/accounts/two-factor/")

    response = client.post("/accounts/two-factor/", {"code": "000000"})

    assert response.status_code == 400
    assert b"does not match" in response.content
    assert not second_factor.has_second_factor(maria.user)


def test_with_a_second_factor_signing_in_asks_for_the_code(client, maria):
    sign_in(client, maria.user)
    enrol(client, maria.user)
    client.post("/accounts/logout/")
    device = TOTPDevice.objects.get(user=maria.user, confirmed=True)

    sign_in(client, maria.user)
    asked = client.get("/cases/")
    wrong = client.post("/accounts/two-factor/verify/", {"code": "000000", "next": "/cases/"})
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        right = client.post(
            "/accounts/two-factor/verify/", {"code": code_for(device), "next": "/cases/"}
        )
        page = client.get("/cases/")

    assert asked.url.startswith("/accounts/two-factor/verify/?next=%2Fcases%2F")
    assert wrong.status_code == 400
    assert (right.status_code, right.url) == (302, "/cases/")
    assert page.status_code == 200


def test_a_recovery_code_signs_in_once(client, maria):
    sign_in(client, maria.user)
    code = enrol(client, maria.user)[0]

    for attempt in range(2):
        client.post("/accounts/logout/")
        sign_in(client, maria.user)
        response = client.post("/accounts/two-factor/verify/", {"code": code, "next": "/cases/"})
        assert response.status_code == (302 if attempt == 0 else 400)


def test_after_a_reset_the_person_signs_in_with_the_password_alone(client, maria):
    sign_in(client, maria.user)
    enrol(client, maria.user)
    client.post("/accounts/logout/")

    second_factor.second_factor_reset(user=maria.user, by=None, now=timezone.now())
    sign_in(client, maria.user)

    assert client.get("/cases/").status_code == 200


def test_a_reset_while_signed_in_elsewhere_does_not_lock_that_session_out(client, maria):
    sign_in(client, maria.user)
    enrol(client, maria.user)

    second_factor.second_factor_reset(
        user=maria.user, by=None, now=timezone.now()
    )  # the session still remembers one
    response = client.get("/accounts/two-factor/verify/?next=%2Fcases%2F")

    assert (response.status_code, response.url) == (302, "/cases/")


def test_verify_never_sends_anyone_off_site(client, maria):
    sign_in(client, maria.user)

    response = client.get("/accounts/two-factor/verify/?next=https://evil.example/")

    assert response.url == "/"


def test_client_contacts_have_no_second_factor_page(client, org):
    client.force_login(org.sam.user)

    assert client.get("/accounts/two-factor/").status_code == 404


def test_an_administrator_resets_a_lost_phone_in_the_admin_and_it_is_audited(client, maria):
    from accounts.models import AccessEvent

    sign_in(client, maria.user)
    enrol(client, maria.user)
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    response = client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factor", "_selected_action": [maria.user.pk]},
    )

    assert response.status_code == 302
    assert not second_factor.has_second_factor(maria.user)
    kinds = list(AccessEvent.objects.filter(user=maria.user).values_list("kind", flat=True))
    assert "second_factor_enrolled" in kinds
    assert "second_factor_reset" in kinds
