from datetime import timedelta

from django import forms
from django.utils import timezone

from escalation.models import ExceptionKind


class ExceptionRequestForm(forms.Form):
    kind = forms.ModelChoiceField(ExceptionKind.objects.all(), empty_label="Choose a kind")
    amount = forms.DecimalField(
        required=False,
        min_value=0.01,
        max_digits=12,
        decimal_places=2,
        help_text="For kinds with an amount (a refund, a fee).",
    )
    justification = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind and kind.has_amount and data.get("amount") is None:
            self.add_error("amount", f"A {kind.name.lower()} needs an amount.")
        return data


class DecisionForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[("approve", "Approve"), ("deny", "Deny")], widget=forms.RadioSelect
    )
    rationale = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=5000,
        help_text="The client reads the rationale of a denial.",
    )


class InviteeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}, {obj.title} ({obj.department})"


class ConveneForm(forms.Form):
    starts_at = forms.DateTimeField(
        label="When",
        input_formats=["%Y-%m-%dT%H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In your time zone, within the case department's opening hours.",
    )
    minutes = forms.IntegerField(label="Length (minutes)", min_value=15, max_value=240, initial=30)
    invitees = InviteeChoiceField(
        queryset=None,
        label="Who is invited",
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Both sides of the hand-off are ticked; add anyone of either department. "
        "You get the invitation too.",
    )
    agenda = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)
    include_client = forms.BooleanField(
        label="Invite the client's contacts too", required=False, initial=False
    )

    def __init__(self, *args, invitable, parties, convener, offer_client: bool, **kwargs):
        """`invitable` and `parties` come from escalation.convene; the convener is always
        invited, so is not a choice. The client is offered only to whoever may invite it."""
        super().__init__(*args, **kwargs)
        self.fields["invitees"].queryset = invitable.exclude(pk=convener.pk)
        self.fields["invitees"].initial = [p.pk for p in parties if p.pk != convener.pk]
        if not offer_client:
            del self.fields["include_client"]

    def clean_starts_at(self):
        starts_at = self.cleaned_data["starts_at"]
        if starts_at > timezone.now() + timedelta(days=366):
            raise forms.ValidationError("Choose a time within the next year.")
        return starts_at
