"""A character PostgreSQL cannot store is a 400 that says why, wherever it comes in."""

import pytest


@pytest.mark.parametrize(
    "url",
    ["/cases/%00/", "/cases/CD-%00/", "/dashboard/cases/department-%00/", "/cases/?q=a%00b"],
)
def test_a_nul_byte_in_an_address_is_a_400_that_says_why(client, joanne, url):
    client.force_login(joanne.user)

    response = client.get(url)

    assert response.status_code == 400
    assert b"NUL byte" in response.content


def test_a_nul_byte_in_a_form_field_is_a_400_before_any_view_runs(client, joanne):
    client.force_login(joanne.user)

    response = client.post("/cases/new", {"subject": "Refund\x00", "client": "1"})

    assert response.status_code == 400
    assert b"NUL byte" in response.content


def test_ordinary_input_passes(client, joanne):
    client.force_login(joanne.user)

    assert client.get("/cases/?q=refund").status_code == 200
