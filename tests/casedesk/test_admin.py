import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from accounts.models import User


@pytest.fixture
def admin_client(client, db):
    call_command("seed_demo")
    client.force_login(User.objects.get(username="admin"))
    return client


def test_every_model_of_ours_is_in_the_admin():
    ours = {"accounts", "casedesk", "escalation", "inbound"}
    registered = {model._meta.label for model in admin.site._registry}
    from django.apps import apps

    for app in ours:
        for model in apps.get_app_config(app).get_models():
            assert model._meta.label in registered, f"{model._meta.label} is not in the admin"


def test_every_admin_list_search_and_record_page_opens(admin_client):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"accounts", "casedesk", "escalation", "inbound"}:
            continue
        info = (model._meta.app_label, model._meta.model_name)
        changelist = reverse("admin:{}_{}_changelist".format(*info))
        assert admin_client.get(changelist).status_code == 200, changelist
        if model_admin.search_fields:
            assert admin_client.get(changelist, {"q": "CD"}).status_code == 200
        record = model.objects.first()
        if record is not None:
            page = reverse("admin:{}_{}_change".format(*info), args=[record.pk])
            assert admin_client.get(page).status_code == 200, page


def test_the_timeline_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    from casedesk.models import CaseEvent

    event = CaseEvent.objects.first()
    page = reverse("admin:casedesk_caseevent_change", args=[event.pk])

    admin_client.post(page, {"reason": "rewritten"})
    delete = admin_client.post(
        reverse("admin:casedesk_caseevent_delete", args=[event.pk]), {"post": "yes"}
    )

    assert delete.status_code == 403
    assert CaseEvent.objects.get(pk=event.pk).reason == event.reason
