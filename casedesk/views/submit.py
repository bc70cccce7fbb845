from collections.abc import Callable

from django import forms

from casedesk.errors import CaseError


def submit(form: forms.Form, call: Callable[[dict], object]) -> tuple[object | None, int]:
    """Validate a form and hand its data to a service.

    Returns the service's result and 200, or None and the status of what went wrong; a
    refusal's message then sits on the form, which keeps everything the person typed.
    """
    if not form.is_valid():
        return None, 400
    try:
        return call(form.cleaned_data), 200
    except CaseError as error:
        form.add_error(None, str(error))
        return None, error.http_status
