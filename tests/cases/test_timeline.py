"""The timeline is append-only: the model refuses changes, and PostgreSQL refuses them too."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from governance.cases.models import TimelineEntry

pytestmark = pytest.mark.django_db


def test_entry_refuses_save_after_creation_and_delete(open_case):
    entry = open_case().timeline.first()
    entry.body = "rewritten"
    with pytest.raises(ValidationError, match="只能追加"):
        entry.save()
    with pytest.raises(ValidationError, match="只能追加"):
        entry.delete()


def test_database_refuses_update_and_delete(require_postgres, open_case):
    case = open_case()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEntry.objects.filter(case=case).update(body="rewritten")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        TimelineEntry.objects.filter(case=case)._raw_delete(TimelineEntry.objects.db)
    assert TimelineEntry.objects.filter(case=case, body="rewritten").count() == 0


def test_deleting_an_account_keeps_its_entries_without_the_actor(require_postgres, open_case):
    case = open_case()
    reporter = case.reporter
    # The reporter's follow goes with the account; the case keeps its history.
    reporter.delete()
    opened = case.timeline.get(kind="opened")
    assert opened.actor is None
    assert opened.data["source"] == "citizen"


def test_timeline_and_audit_log_share_the_append_only_base():
    from governance.core.models import AppendOnlyModel
    from governance.stakeholders.models import AuditEvent

    assert issubclass(TimelineEntry, AppendOnlyModel)
    assert issubclass(AuditEvent, AppendOnlyModel)
    assert "审计日志" in str(AuditEvent.update_refused_message)
    assert "办理记录" in str(TimelineEntry.delete_refused_message)
