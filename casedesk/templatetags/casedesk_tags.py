from django import forms, template
from django.forms.utils import flatatt
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.timesince import timesince, timeuntil

from casedesk.plain_words import client_time, headline

register = template.Library()

STATE_BADGES = {
    "open": "text-bg-primary",
    "escalated": "text-bg-warning",
    "cross_department": "text-bg-info",
    "denied": "text-bg-danger",
    "resolved": "text-bg-success",
}
PRIORITY_BADGES = {"urgent": "text-bg-danger", "high": "text-bg-warning"}


@register.simple_tag
def due(when, now=None, late=None):
    """Relative deadline text, the exact local time on hover; overdue stands out. `late`: a
    deadline missed at the top of a chain that has re-armed since; it stays the one shown."""
    if when is None:
        return format_html('<span class="text-body-secondary">no deadline</span>')
    now = now or timezone.now()
    when = late or when
    exact = timezone.localtime(when).strftime("%a %d %b %Y, %H:%M %Z")
    iso = when.isoformat()
    if when < now:
        return format_html(
            '<time class="cd-overdue fw-semibold" datetime="{}" title="{}">overdue by {}</time>',
            iso,
            exact,
            timesince(when, now, depth=1),
        )
    return format_html(
        '<time datetime="{}" title="{}">in {}</time>', iso, exact, timeuntil(when, now, depth=1)
    )


@register.filter
def is_late(case, now) -> bool:
    """An active case past its deadline, or whose breach at the top still stands."""
    return case.is_active and (case.late_since is not None or case.due_at < now)


@register.simple_tag
def when(moment):
    """An event's time: exact, in the reader's time zone."""
    local = timezone.localtime(moment)
    return format_html(
        '<time datetime="{}">{}</time>', moment.isoformat(), local.strftime("%d %b %Y, %H:%M")
    )


@register.filter
def state_badge(case_or_state):
    state = getattr(case_or_state, "state", case_or_state)
    label = getattr(case_or_state, "get_state_display", lambda: state)()
    return format_html(
        '<span class="badge {}">{}</span>', STATE_BADGES.get(state, "text-bg-secondary"), label
    )


@register.filter
def priority_badge(case):
    css = PRIORITY_BADGES.get(case.priority, "text-bg-light border")
    return format_html('<span class="badge {}">{}</span>', css, case.get_priority_display())


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "")


@register.filter
def duration(value):
    """A timedelta as '3 h 20 min' or '2 d 4 h'."""
    minutes = int(value.total_seconds() // 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min"


@register.filter
def client_headline(event):
    """A timeline event as the client reads it."""
    return headline(event)


@register.filter
def last_digits(phone: str, count: int = 4) -> str:
    """A phone number shown to a link holder: enough to recognise it, not to read it off."""
    digits = [c for c in phone if c.isdigit()]
    return "".join(digits[-count:])


@register.filter
def requested_time(callback) -> str:
    """A call-back's time as the client chose it, in their own zone."""
    return client_time(callback.requested_for, callback.time_zone)


# --- Forms, as Bootstrap 5 lays them out -------------------------------------------------
# The markup crispy-bootstrap5 gives a plain form (label, control, errors, help text), built
# here in one pass: the case and status pages render a dozen forms each, and crispy's
# templates per field were most of their time.


REQUIRED_MARK = SafeString('<span class="asteriskField">*</span>')


@register.filter
def bootstrap_form(form):
    """A form's errors that belong to no field or to a hidden one (which shows nowhere
    else), then each field (hidden ones bare)."""
    parts = []
    errors = [
        *form.non_field_errors(),
        *(
            f"{error} (the page's hidden {field.name}: reload the page and try again)"
            for field in form.hidden_fields()
            for error in field.errors
        ),
    ]
    if errors:
        parts.append(
            format_html(
                '<div class="alert alert-block alert-danger"><ul class="m-0">{}</ul></div>',
                format_html_join("", "<li>{}</li>", ((error,) for error in errors)),
            )
        )
    parts.extend(bootstrap_field(field) for field in form)
    return format_html_join("", "{}", ((part,) for part in parts))


@register.filter
def bootstrap_field(field):
    """One field: its label (a legend over radio buttons or checkboxes), control, errors and
    help text."""
    if field.is_hidden:
        return _control(field, "")
    required = field.field.required
    label_class = "form-label requiredField" if required else "form-label"
    asterisk = REQUIRED_MARK if required else ""
    if isinstance(field.field.widget, forms.RadioSelect):
        return format_html(
            '<div id="div_{}" class="mb-3"><fieldset{}><legend class="{} fs-6">{}{}'
            "</legend><div>{}</div>{}</fieldset></div>",
            field.auto_id,
            format_html(' aria-describedby="{}"', field.aria_describedby)
            if field.aria_describedby
            else "",
            label_class,
            field.label,
            asterisk,
            _radio_buttons(field),
            _help_text(field),
        )
    css = "form-select" if isinstance(field.field.widget, forms.Select) else "form-control"
    own = field.field.widget.attrs.get("class")
    css = " ".join(filter(None, [own, css, "is-invalid" if field.errors else ""]))
    if isinstance(field.field.widget, forms.FileInput):
        # (as crispy-bootstrap5 draws a file input: control, errors and help in a box)
        return format_html(
            '<div id="div_{}" class="mb-3"><label for="{}" class="{}">{}{}</label>'
            "<div{}>{}{}{}</div></div>",
            field.auto_id,
            field.id_for_label,
            label_class,
            field.label,
            asterisk,
            SafeString(' class="is-invalid"') if field.errors else "",
            _control(field, css),
            _errors(field),
            _help_text(field),
        )
    return format_html(
        '<div id="div_{}" class="mb-3"><label for="{}" class="{}">{}{}</label>{}{}{}</div>',
        field.auto_id,
        field.id_for_label,
        label_class,
        field.label,
        asterisk,
        _control(field, css),
        _errors(field),
        _help_text(field),
    )


@register.simple_tag
def control(field):
    """A field's control alone, with its widget's own attributes: `{{ field }}` without a
    template per control and per option (the queue's filters)."""
    return _control(field, "")


def _control(field, css: str):
    """The field's control, as Django's own widget templates write it (the same context,
    the same attributes), without a template per control and per option: the commonest
    widgets here; any other goes through its template."""
    widget = field.field.widget
    attrs = field.build_widget_attrs({"class": css} if css else {})
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    if isinstance(widget, forms.Select) and not widget.allow_multiple_selected:
        context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
        if any(group is not None for group, _, _ in context["optgroups"]):
            return field.as_widget(attrs={"class": css})  # grouped choices: Django's template
        return format_html(
            '<select name="{}"{}>{}</select>',
            context["name"],
            flatatt(context["attrs"]),
            format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (option["value"], flatatt(option["attrs"]), option["label"])
                    for _, options, _ in context["optgroups"]
                    for option in options
                ),
            ),
        )
    if isinstance(widget, forms.Textarea):
        context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
        return format_html(
            '<textarea name="{}"{}>\n{}</textarea>',
            context["name"],
            flatatt(context["attrs"]),
            context["value"] or "",
        )
    if isinstance(widget, forms.widgets.Input) and widget.input_type not in (
        "checkbox",
        "radio",
        "file",
    ):
        context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
        value = context["value"]
        return format_html(
            '<input type="{}" name="{}"{}{}>',
            context["type"],
            context["name"],
            format_html(' value="{}"', value) if value is not None else "",
            flatatt(context["attrs"]),
        )
    if isinstance(widget, forms.FileInput):
        # (ClearableFileInput's "Currently:" never applies: an upload is never re-shown)
        context = widget.get_context(field.html_name, None, attrs)["widget"]
        return format_html(
            '<input type="file" name="{}"{}>', context["name"], flatatt(context["attrs"])
        )
    return field.as_widget(attrs={"class": css} if css else None)


def _radio_buttons(field):
    invalid = " is-invalid" if field.errors else ""
    options = list(field.subwidgets)
    return format_html_join(
        "",
        '<div class="form-check"><input type="{}" class="form-check-input{}" name="{}" '
        'value="{}"{}><label for="{}" class="form-check-label">{}</label>{}</div>',
        (
            (
                option.data["type"],  # radio, or checkbox (CheckboxSelectMultiple)
                invalid,
                option.data["name"],
                option.data["value"],
                flatatt(option.data["attrs"]),
                option.id_for_label,
                option.choice_label,
                _errors(field) if number == len(options) - 1 else "",
            )
            for number, option in enumerate(options)
        ),
    )


def _errors(field):
    if not field.errors:
        return ""
    return format_html(
        '<div id="{}_error" class="invalid-feedback">{}</div>',
        field.auto_id,
        format_html_join(
            "",
            '<p id="error_{}_{}"><strong>{}</strong></p>',
            ((number, field.auto_id, error) for number, error in enumerate(field.errors, 1)),
        ),
    )


def _help_text(field):
    if not field.help_text:
        return ""
    return format_html(
        '<div id="{}_helptext" class="form-text">{}</div>', field.auto_id, field.help_text
    )
