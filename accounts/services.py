import secrets
from datetime import datetime

from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.audit import access_record
from accounts.chain import would_create_cycle
from accounts.models import AccessKind, StaffProfile, User


@transaction.atomic
def staff_set_manager(*, person: StaffProfile, manager: StaffProfile | None) -> StaffProfile:
    """Put `person` under `manager`, refusing any change that would make the chain a loop."""
    person = StaffProfile.objects.select_for_update().get(pk=person.pk)
    if manager is not None and would_create_cycle(person, manager):
        raise ValidationError(
            f"{manager.name} cannot manage {person.name}: the reporting chain would loop."
        )
    person.manager = manager
    person.save(update_fields=["manager"])
    return person


@transaction.atomic
def sessions_end_others(*, request, now: datetime) -> User:
    """End every session of the signed-in person but this one: a new salt changes the hash
    each session must match (`User._get_session_auth_hash`), and this session takes the
    new one. The others end on their next request, wherever they are."""
    user = request.user
    user.session_salt = secrets.token_hex(16)
    user.save(update_fields=["session_salt"])
    update_session_auth_hash(request, user)
    access_record(kind=AccessKind.OTHER_SESSIONS_ENDED, user=user, request=request, now=now)
    return user


@transaction.atomic
def password_change(*, request, form: PasswordChangeForm, now: datetime) -> User:
    """Set the new password from a valid form. The session hash follows the password, so
    every other session ends; this one takes the new hash and stays signed in."""
    user = form.save()
    update_session_auth_hash(request, user)
    access_record(kind=AccessKind.PASSWORD_CHANGED, user=user, request=request, now=now)
    return user
