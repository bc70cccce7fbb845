"""The forms clients fill in on their status pages; plain HTML controls that work without
JavaScript and with a keyboard, each with a visible label."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.core.validators import RegexValidator

from casedesk.forms import AttachmentsField
from casedesk.models import CallBack, CallBackState

# Time zones a client can pick for their call-back: the site's, plus the common ones.
COMMON_ZONES = [
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Amsterdam",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Hong_Kong",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/St_Johns",
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "UTC",
]
RATINGS = [
    (5, "5: excellent"),
    (4, "4: good"),
    (3, "3: all right"),
    (2, "2: poor"),
    (1, "1: very poor"),
]


def _text(label: str, *, required: bool = True, help_text: str = ""):
    return forms.CharField(
        label=label,
        required=required,
        max_length=5000,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class MessageForm(forms.Form):
    text = _text("Your message")
    files = AttachmentsField(label="Attach files (optional)")


class RequestForm(forms.Form):
    """A new request from a client contact's own page."""

    subject = forms.CharField(
        label="Subject",
        max_length=200,
        help_text="A few words: what it is about.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    description = forms.CharField(
        label="What happened, and what you would like us to do",
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    files = AttachmentsField(label="Attach files (optional)")


class AppealForm(forms.Form):
    reason = _text("Why you would like a supervisor to look at it")


class ReopenForm(forms.Form):
    reason = _text("What is still wrong", required=False)


class CallBackForm(forms.Form):
    phone = forms.CharField(
        label="Number to call",
        max_length=40,
        validators=[
            RegexValidator(
                r"^\+?[0-9][0-9 ()./-]{5,38}$",
                "Enter a phone number: digits, spaces and + ( ) - only.",
            )
        ],
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    date = forms.DateField(label="Date", widget=forms.DateInput(attrs={"type": "date"}))
    time = forms.TimeField(label="Time of day", widget=forms.TimeInput(attrs={"type": "time"}))
    time_zone = forms.ChoiceField(label="Your time zone")
    note = _text("What it is about (optional)", required=False)

    def __init__(self, *args, zone: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        zones = list(dict.fromkeys([settings.TIME_ZONE, *([zone] if zone else []), *COMMON_ZONES]))
        self.fields["time_zone"].choices = [(name, name.replace("_", " ")) for name in zones]
        self.fields["time_zone"].initial = zone or settings.TIME_ZONE

    def clean(self):
        data = super().clean()
        if data.get("date") and data.get("time") and data.get("time_zone"):
            data["at"] = datetime.combine(
                data["date"], data["time"], tzinfo=ZoneInfo(data["time_zone"])
            )
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            "phone": data["phone"],
            "at": data["at"],
            "time_zone": data["time_zone"],
            "note": data["note"],
        }


class CancelCallBackForm(forms.Form):
    """Which booked call-back to cancel: only this case's."""

    callback = forms.ModelChoiceField(queryset=None, widget=forms.HiddenInput)

    def __init__(self, *args, case, **kwargs):
        super().__init__(*args, **kwargs)
        if self.is_bound:  # (shown, it is a hidden field the page fills in itself)
            self.fields["callback"].queryset = CallBack.objects.filter(
                case=case, state=CallBackState.PENDING
            )
        self.fields["callback"].error_messages["invalid_choice"] = (
            "That call-back is no longer booked."
        )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How did we do?", choices=RATINGS, coerce=int, widget=forms.RadioSelect
    )
    letter = _text("Anything you would like to tell us (optional)", required=False)


class SignInForm(forms.Form):
    email = forms.EmailField(
        label="Your email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )


class CaseListFilterForm(forms.Form):
    q = forms.CharField(label="Search your cases", required=False, max_length=100)
    show = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("", "All cases"), ("open", "Open cases"), ("closed", "Closed cases")],
    )
