from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.chain import would_create_cycle
from accounts.models import StaffProfile


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
