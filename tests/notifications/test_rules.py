import pytest

from governance.notifications.models import Notification
from tests.permission_table import (
    ROLES,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

pytestmark = pytest.mark.django_db

APP = "notifications"
# The notifications rows of docs/permissions.md.
TABLE = """
| `notifications` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `notifications.view_notification` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `notifications.view_notification` | citizen's | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `notifications.view_notification` | staff's | ✓ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `notifications.change_notification` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ |
| `notifications.change_notification` | citizen's | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ |
| `notifications.change_notification` | staff's | ✓ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `notifications.view_delivery` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `notifications.resend_delivery` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `notifications.view_digest` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `notifications.view_preference` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""
ROWS = parse_table(TABLE, APP)


@pytest.fixture
def objects(citizen, department_staff):
    def notification_for(user):
        return Notification.objects.create(
            recipient=user, event_type="stakeholders.membership_granted", mode="immediate"
        )

    return {
        "—": None,
        "citizen's": notification_for(citizen),
        "staff's": notification_for(department_staff),
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)
