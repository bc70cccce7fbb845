"""Forms for what staff do with waiting mail; the services decide what it means."""

from django import forms

from casedesk.models import Client


class AttachForm(forms.Form):
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(),
        help_text="The sender becomes one of this client's contacts, and the email opens a "
        "case for them.",
    )

    def __init__(self, *args, clients, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["client"].queryset = clients


class ReasonForm(forms.Form):
    reason = forms.CharField(
        max_length=1000, widget=forms.Textarea(attrs={"rows": 2}), help_text="Kept with the email."
    )


class AcceptForm(forms.Form):
    add_contact = forms.BooleanField(
        required=False,
        label="Add the sender as one of the client's contacts",
        help_text="Their next emails on this client's cases then arrive without a hold.",
    )
