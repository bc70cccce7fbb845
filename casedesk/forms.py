"""Forms validate what people type; the services decide what it means."""

from collections.abc import Iterable

from django import forms
from django.conf import settings
from django.db.models import Q

from accounts.directory import Directory
from accounts.models import Department, StaffProfile
from casedesk.attachments import ACCEPTED_WORDS, check_uploads, megabytes
from casedesk.keyset import CURSOR_PATTERN, cursor_in
from casedesk.models import Attachment, CaseState, Client, Priority, Risk
from casedesk.selectors import (
    QUEUE_ORDERS,
    QUEUE_SORTS,
    QUEUE_VIEWS,
    SEARCH_SORTS,
    QueueFilters,
    Viewer,
    staff_of_department,
)


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.field.listed():
            yield self.choice(obj)

    def __len__(self):
        return len(self.field.listed()) + (self.field.empty_label is not None)


class ListedChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that reads its options once per form: the same rows render the
    <select> and validate the choice (a list page's query budget has no room for two)."""

    iterator = ListedChoiceIterator

    def _set_queryset(self, queryset):
        self._listed = None
        super()._set_queryset(queryset)

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def listed(self) -> list:
        if getattr(self, "_listed", None) is None:
            self._listed = list(self.queryset)
        return self._listed

    def to_python(self, value):
        if value in self.empty_values:
            return None
        key = self.to_field_name or "pk"
        for obj in self.listed():
            if str(getattr(obj, key)) == str(value):
                return obj
        raise forms.ValidationError(
            self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: StaffProfile) -> str:
        return f"{obj.name} · {obj.title}"


def offer(field: forms.ModelChoiceField, objects: Iterable) -> None:
    """Show `objects` (the queryset's rows, already read: the staff directory's) as the
    choices, so rendering asks no query; what is posted is still checked on the queryset."""
    empty = [("", field.empty_label)] if field.empty_label is not None else []
    field.choices = empty + [(obj.pk, field.label_from_instance(obj)) for obj in objects]


class ListedStaffChoiceField(ListedChoiceField, StaffChoiceField):
    pass


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Files to attach: each checked by its content (casedesk.attachments.check_uploads)
    before anything is stored; cleaned to the checked uploads the action stores."""

    widget = MultipleFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Attach files")
        super().__init__(**kwargs)
        self.help_text = (
            f"Up to {settings.CASEDESK_ATTACHMENT_MAX_FILES} files of at most "
            f"{megabytes(settings.CASEDESK_ATTACHMENT_MAX_BYTES)} each: {ACCEPTED_WORDS}."
        )

    def clean(self, data, initial=None):
        files = list(data) if isinstance(data, list | tuple) else [data] if data else []
        for file in files:
            if not hasattr(file, "size") or not hasattr(file, "name"):
                raise forms.ValidationError("Choose files to attach with the file picker.")
        return check_uploads(files)


class QueueFilterForm(forms.Form):
    view = forms.ChoiceField(choices=QUEUE_VIEWS.items(), required=False)
    q = forms.CharField(label="Search", required=False, max_length=100)
    state = forms.ChoiceField(choices=[("", "Any state"), *CaseState.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "Any priority"), *Priority.choices], required=False)
    client = ListedChoiceField(Client.objects.none(), required=False, empty_label="Any client")
    owner = ListedStaffChoiceField(
        StaffProfile.objects.none(), required=False, empty_label="Anyone"
    )
    # "Best match" is accepted always (a link kept after the search box was emptied still
    # opens) but offered only with a search term, where it is the default.
    sort = forms.ChoiceField(choices=SEARCH_SORTS.items(), required=False, label="Sort")
    # where the page starts: the Next and Previous links' cursors (casedesk.keyset)
    after = forms.RegexField(CURSOR_PATTERN, required=False, max_length=80)
    before = forms.RegexField(CURSOR_PATTERN, required=False, max_length=80)

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("state", "priority", "client", "owner", "sort"):
            self.fields[name].widget.attrs["class"] = "form-select"
        if not (self.data.get("q") or "").strip():
            self.fields["sort"].widget.choices = list(QUEUE_SORTS.items())
        self.fields["client"].queryset = Client.objects.filter(
            department_id=viewer.department_id
        ).order_by("name")
        self.fields["owner"].queryset = (
            StaffProfile.objects.filter(
                Q(department_id=viewer.department_id) | Q(pk__in=viewer.subtree_ids)
            )
            .select_related("user")
            .order_by("user__first_name", "user__username")
        )

    def clean(self):
        """A page link must fit the chosen sort: a damaged one is said to be so (and the
        page offers the first page) rather than quietly showing the first page."""
        data = super().clean()
        order = QUEUE_ORDERS[self._sort(data)]
        for name in ("after", "before"):
            if data.get(name) and cursor_in({name: data[name]}, order) is None:
                self.add_error(name, "This page link is damaged: start from the first page.")
        return data

    def clean_q(self) -> str:
        # Only punctuation finds nothing (PostgreSQL's parser keeps no word of it): the page
        # says no case matches, as for any word nobody wrote.
        return self.cleaned_data["q"].strip()

    @staticmethod
    def _sort(data: dict) -> str:
        searching = bool(data.get("q"))
        sort = data.get("sort") or ("rank" if searching else "due")
        return sort if searching or sort != "rank" else "due"

    def filters(self) -> QueueFilters:
        data = self.cleaned_data
        return QueueFilters(
            view=data.get("view") or "mine",
            sort=self._sort(data),
            state=data.get("state") or "",
            priority=data.get("priority") or "",
            client=data["client"].pk if data.get("client") else None,
            owner=data["owner"].pk if data.get("owner") else None,
            search=data.get("q") or "",
        )


class NewCaseForm(forms.Form):
    client = forms.ModelChoiceField(Client.objects.none(), empty_label="Choose a client")
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False)
    priority = forms.ChoiceField(choices=Priority.choices, initial=Priority.NORMAL)
    owner = StaffChoiceField(StaffProfile.objects.none(), help_text="Who holds the case first.")

    def __init__(self, *args, viewer: Viewer, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = Client.objects.filter(department_id=viewer.department_id)
        self.fields["owner"].queryset = staff_of_department(viewer.department_id)
        self.fields["owner"].initial = viewer.staff.pk


# --- Actions on a case: each carries the version of the case its author saw ------------


class CaseActionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, case, directory: Directory | None = None, **kwargs):
        # The case page holds a form per action: each field's id names its form, so every
        # label points at its own control.
        kwargs.setdefault("auto_id", f"id_{type(self).__name__.lower()}_%s")
        super().__init__(*args, **kwargs)
        self.case = case
        self.fields["version"].initial = case.version

    def checks_choices(self, directory: Directory | None) -> bool:
        """Whether the choices' querysets are needed: to check what was sent, or to offer
        them when no directory does. A form only shown (the case page holds a dozen) offers
        the directory's people and builds no queryset."""
        return self.is_bound or directory is None


def _text(label: str, *, required: bool = True, help_text: str = "", rows: int = 3):
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


class ResolveForm(CaseActionForm):
    summary = _text("How it was resolved", required=False)


class DenyForm(CaseActionForm):
    rationale = _text(
        "Why, for the client",
        help_text="The client reads this, with a way to ask for a review.",
    )


class EscalateForm(CaseActionForm):
    reason = _text(
        "Why it needs someone above",
        help_text="The client sees that a supervisor has it, and this reason.",
    )


class ReturnForm(CaseActionForm):
    guidance = _text("Guidance for whoever works it next")


class ReopenForm(CaseActionForm):
    reason = _text("Why it is reopened", required=False)


class NoteForm(CaseActionForm):
    text = _text("Internal note", help_text="Only staff see internal notes.")
    files = AttachmentsField()


class MessageForm(CaseActionForm):
    text = _text("Message to the client", help_text="The client sees this on their status page.")
    files = AttachmentsField(label="Attach files (the client can download them)")


class WaitForClientForm(CaseActionForm):
    question = _text(
        "What you need from the client",
        help_text="The client reads this. The clock pauses until they answer.",
    )


class ResumeForm(CaseActionForm):
    note = _text("How they answered", required=False, rows=2)


class StatusLinkForm(CaseActionForm):
    pass


class RiskForm(CaseActionForm):
    risk = forms.ChoiceField(choices=Risk.choices, label="Kind of risk")
    reason = _text(
        "What happened",
        help_text="The case goes straight to the lowest manager over every department involved.",
    )


class ReassignForm(CaseActionForm):
    to = StaffChoiceField(StaffProfile.objects.none(), label="Give the case to")
    reason = _text("Why", required=False, rows=2)

    def __init__(self, *args, case, directory: Directory | None = None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        if self.checks_choices(directory):
            self.fields["to"].queryset = staff_of_department(case.department_id).exclude(
                pk=case.owner_id
            )
        if directory is not None:
            staff = directory.staff_of(case.department_id)
            offer(self.fields["to"], (person for person in staff if person.pk != case.owner_id))


class HandoffRequestForm(CaseActionForm):
    to_department = forms.ModelChoiceField(Department.objects.none(), label="Department")
    accountable = StaffChoiceField(StaffProfile.objects.none(), label="Accountable person there")
    request = _text("What you ask of them")
    shared_summary = _text(
        "What they may see of the case",
        help_text="They never see the client's contact details.",
    )
    shared_attachments = forms.ModelMultipleChoiceField(
        Attachment.objects.none(),
        required=False,
        label="Files they may download",
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, case, directory: Directory | None = None, **kwargs):
        super().__init__(*args, case=case, **kwargs)
        files = self.fields["shared_attachments"]
        files.label_from_instance = lambda attachment: attachment.original_name
        if self.checks_choices(directory):
            files.queryset = Attachment.objects.filter(case=case, removed_at=None)
        # The case page passes the files its timeline read: offered without a query.
        live = getattr(case, "live_files", None)
        if live is not None and not self.is_bound:
            offer(files, live)
        if not self.is_bound and not live:
            del self.fields["shared_attachments"]  # nothing to share
        if self.checks_choices(directory):
            self.fields["to_department"].queryset = Department.objects.exclude(
                pk=case.department_id
            )
            self.fields["accountable"].queryset = (
                StaffProfile.objects.exclude(department_id=case.department_id)
                .select_related("user", "department")
                .order_by("department__name", "user__first_name")
            )
        if directory is not None:
            offer(self.fields["to_department"], directory.departments_except(case.department_id))
            offer(self.fields["accountable"], directory.staff_outside(case.department_id))

    def clean(self):
        data = super().clean()
        department, person = data.get("to_department"), data.get("accountable")
        if department and person and person.department_id != department.pk:
            self.add_error("accountable", f"{person.name} does not work in {department}.")
        return data


class HandoffAnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("complete", "Done: here is the answer"), ("decline", "We cannot do this")],
        widget=forms.RadioSelect,
        initial="complete",
    )
    answer = _text("Answer, or why you cannot")
    files = AttachmentsField(label="Attach files (the requesting department can download them)")

    def __init__(self, *args, handoff, **kwargs):
        super().__init__(*args, auto_id=f"id_handoff{handoff.pk}_%s", **kwargs)


class HandoffAssignForm(forms.Form):
    to = StaffChoiceField(StaffProfile.objects.none(), label="Give it to")

    def __init__(self, *args, handoff, directory: Directory | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound or directory is None:  # (as CaseActionForm.checks_choices)
            self.fields["to"].queryset = staff_of_department(handoff.to_department_id).exclude(
                pk=handoff.accountable_id
            )
        # Whom the template offers: the queryset, or the same people read from the directory.
        self.people = (
            self.fields["to"].queryset
            if directory is None
            else [
                person
                for person in directory.staff_of(handoff.to_department_id)
                if person.pk != handoff.accountable_id
            ]
        )


class CallBackDoneForm(forms.Form):
    made = forms.TypedChoiceField(
        label="The call",
        choices=[("yes", "Made"), ("no", "Not needed any more")],
        coerce=lambda value: value == "yes",
        initial="yes",
        widget=forms.RadioSelect,
    )
    outcome = forms.CharField(
        label="How the call went, or why it is not needed (the client reads this)",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, callback, **kwargs):
        super().__init__(*args, auto_id=f"id_callback{callback.pk}_%s", **kwargs)


class AttachmentRemoveForm(forms.Form):
    reason = forms.CharField(label="Why it is removed", max_length=500)
