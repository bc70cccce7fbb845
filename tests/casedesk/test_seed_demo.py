from django.apps import apps
from django.core.management import call_command

from accounts.models import StaffProfile
from casedesk.models import Case, CaseState


def _counts():
    return {model._meta.label: model.objects.count() for model in apps.get_models()}


def test_seed_demo_builds_the_stories_people_and_a_case_in_every_state(db, capsys):
    call_command("seed_demo")

    chain = {
        p.user.username: p.manager.user.username if p.manager else None
        for p in StaffProfile.objects.select_related("user", "manager__user")
    }
    assert chain == {
        "joanne": "maria",
        "maria": "lee",
        "lee": None,
        "devon": "priya",
        "priya": "lee",
    }
    assert set(Case.objects.values_list("state", flat=True)) == set(CaseState.values)
    assert "every password is 'casedesk'" in capsys.readouterr().out


def test_seed_demo_twice_leaves_the_same_counts(db):
    call_command("seed_demo")
    first = _counts()

    call_command("seed_demo")

    assert _counts() == first
    assert first["casedesk.Case"] >= 5
