import pytest
from django.db import DatabaseError, connection, transaction

from casedesk.models import CaseEvent
from casedesk.models.events import AppendOnlyError
from tests.factories import open_case


def test_events_cannot_be_edited_or_deleted_through_the_orm(org):
    event = open_case(org).events.get()

    event.reason = "rewritten history"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=event.pk).update(reason="rewritten")
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.all().delete()


def test_the_database_refuses_to_rewrite_an_event_even_in_raw_sql(org):
    event = open_case(org).events.get()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE casedesk_caseevent SET reason = 'x' WHERE id = %s", [event.pk])

    assert CaseEvent.objects.get(pk=event.pk).reason == ""


@pytest.mark.postgres
def test_postgresql_also_refuses_to_delete_an_event(org):
    event = open_case(org).events.get()

    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM casedesk_caseevent WHERE id = %s", [event.pk])

    assert CaseEvent.objects.filter(pk=event.pk).exists()
