import pytest
from django.core.management import call_command

from accounts.models import User


@pytest.fixture
def demo(db):
    call_command("seed_demo")


def test_the_sign_in_page_is_public(client, db):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    assert b'name="username"' in response.content


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    for path in ("/", "/cases/"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_signing_in_lands_on_my_queue_with_my_name_and_department(client, demo):
    response = client.post(
        "/accounts/login/", {"username": "joanne", "password": "casedesk"}, follow=True
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == "/cases/"
    assert b"Joanne Baker" in response.content
    assert b"Client Support Agent, Client Support" in response.content


def test_a_wrong_password_says_so_without_signing_in(client, demo):
    response = client.post("/accounts/login/", {"username": "joanne", "password": "nope"})

    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content
    assert "_auth_user_id" not in client.session


def test_the_admin_link_is_offered_only_to_those_who_may_use_it(client, demo):
    client.force_login(User.objects.get(username="joanne"))
    assert b"/admin/" not in client.get("/cases/").content

    client.force_login(User.objects.get(username="admin"))
    assert client.get("/").url == "/admin/"


def test_signing_out_takes_a_post_and_ends_the_session(client, demo):
    client.force_login(User.objects.get(username="joanne"))

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert client.get("/cases/").url.startswith("/accounts/login/")
