"""The case and status pages draw their forms with casedesk_tags' bootstrap_form (one pass in
Python, for speed) instead of crispy-bootstrap5's templates: the same markup, and on pages
holding many forms, ids of each form's own, so every label names its own control."""

import re
from collections import Counter
from html.parser import HTMLParser
from types import SimpleNamespace

import pytest
from django import forms as django_forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template

from casedesk import client_forms, forms, handoffs
from casedesk.actors import Actor
from casedesk.status_links import status_token
from tests.casedesk.helpers import book_call
from tests.factories import open_case


class _Markup(HTMLParser):
    """Tags with their attributes sorted, and text without the whitespace around it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.ids, self.label_targets = [], [], []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # crispy marks a control with its widget's name too (class="textarea form-control"),
        # which no style of ours uses
        classes = (attributes.get("class") or "").split()
        crispy_marks = {"textarea", "textinput", "dateinput", "timeinput", "select"}
        if classes:
            attributes["class"] = " ".join(c for c in classes if c not in crispy_marks)
        self.parts.append(f"<{tag} {sorted(attributes.items())}>")
        if "id" in attributes:
            self.ids.append(attributes["id"])
        if tag == "label" and "for" in attributes:
            self.label_targets.append(attributes["for"])

    def handle_endtag(self, tag):
        self.parts.append(f"</{tag}>")

    def handle_data(self, data):
        if data.strip():
            self.parts.append(re.sub(r"\s+", " ", data.strip()))


def markup(html: str) -> _Markup:
    parsed = _Markup()
    parsed.feed(html)
    return parsed


def by_crispy(form) -> list[str]:
    template = Template("{% load crispy_forms_tags %}{{ form|crispy }}")
    return markup(template.render(Context({"form": form}))).parts


def by_us(form) -> list[str]:
    template = Template("{% load casedesk_tags %}{{ form|bootstrap_form }}")
    return markup(template.render(Context({"form": form}))).parts


def every_kind_of_form(case):
    """Each form of the two pages, blank and sent back with errors (a fresh one each call:
    crispy writes its classes into the widgets it draws)."""
    handoff, callback = SimpleNamespace(pk=7), SimpleNamespace(pk=8)
    # files the hand-off request offers to share (checkboxes), as the case page reads them
    case.live_files = [SimpleNamespace(pk=11, original_name="statement.pdf")]
    svg = SimpleUploadedFile("logo.svg", b"<svg></svg>")
    return [
        forms.NoteForm(case=case),
        forms.NoteForm({"version": "1", "text": "a"}, {"files": [svg]}, case=case),
        forms.EscalateForm(case=case),
        forms.EscalateForm({"version": "x"}, case=case),
        forms.ResolveForm(case=case),
        forms.StatusLinkForm(case=case),
        forms.RiskForm({"version": "3", "risk": "press", "reason": 'a <b> & "q"'}, case=case),
        forms.HandoffRequestForm(case=case),
        forms.HandoffRequestForm(
            {"version": "1", "to_department": "0", "accountable": "0", "request": "a"}, case=case
        ),
        forms.HandoffAnswerForm(handoff=handoff),
        forms.HandoffAnswerForm({"outcome": "neither"}, handoff=handoff),
        forms.CallBackDoneForm(callback=callback),
        client_forms.MessageForm(),
        client_forms.FeedbackForm(),
        client_forms.FeedbackForm({"rating": "9"}),
        client_forms.CallBackForm(zone="Asia/Tokyo", initial={"phone": "+44 20 7946 0101"}),
        client_forms.CallBackForm({"phone": "x", "date": "2026-01-02", "time": "10:00"}),
    ]


def test_every_form_of_the_case_and_status_pages_is_drawn_as_crispy_drew_it(org):
    case = open_case(org)
    for ours, theirs in zip(every_kind_of_form(case), every_kind_of_form(case), strict=True):
        if ours.is_bound:
            ours.is_valid(), theirs.is_valid()
        drawn, expected = by_us(ours), by_crispy(theirs)
        if any(field.errors for field in ours.hidden_fields()):
            # crispy dropped a hidden field's errors; we list them above the form
            alert = drawn[: len(drawn) - len(expected)]
            assert any("reload the page and try again" in part for part in alert), alert
            drawn = drawn[len(alert) :]
        assert drawn == expected, type(ours).__name__


@pytest.mark.parametrize("who", ["joanne", "maria", "devon"])
def test_every_label_of_the_case_page_names_its_own_control(client, org, who):
    case = open_case(org)
    book_call(case)
    case.refresh_from_db()
    handoffs.handoff_request(
        case=case,
        actor=Actor.for_staff(org.joanne),
        to_department=org.institutional,
        accountable=org.devon,
        request="Please check the mapping.",
        shared_summary="Billing move.",
    )
    client.force_login(getattr(org, who).user)

    page = markup(client.get(f"/cases/{case.reference}/").content.decode())

    duplicated = [name for name, count in Counter(page.ids).items() if count > 1]
    assert not duplicated
    assert page.label_targets
    assert set(page.label_targets) <= set(page.ids)


def test_every_label_of_the_status_page_names_its_own_control(client, org):
    case = open_case(org)

    page = markup(client.get(f"/status/{status_token(case)}/").content.decode())

    duplicated = [name for name, count in Counter(page.ids).items() if count > 1]
    assert not duplicated
    assert len(page.label_targets) >= 5
    assert set(page.label_targets) <= set(page.ids)


def test_grouped_choices_are_drawn_as_crispy_drew_them_too():
    class Grouped(django_forms.Form):
        kind = django_forms.ChoiceField(
            choices=[("Money", [("refund", "Refund"), ("waiver", "Fee waiver")])]
        )

    assert by_us(Grouped()) == by_crispy(Grouped())
    assert "<optgroup [('label', 'Money')]>" in by_us(Grouped())
