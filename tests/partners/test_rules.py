"""The partners rows of docs/permissions.md, walked for every role, refusals included; the
roles the table has no column for (a partner's viewer, a community organisation's staff); and
the queries that must agree with the rules.

hukou is the department of dept admin/staff/viewer and sits at the mall station; traffic (other
dept staff) sits at the bank station; mall (partner admin/staff) and bank (other partner admin)
are the partners. Columns after the permission and the object are the ROLES, in order.
"""

from __future__ import annotations

import pytest
import rules
from django.core.exceptions import PermissionDenied

from governance.stakeholders.models import Membership
from partners import queries, services
from partners.models import Agreement, Booking, Pledge, Resource, TrainingSession, VolunteerShift
from tests.conftest import _member
from tests.factories import OrganisationFactory, ServiceFactory, StationFactory
from tests.partners.conftest import at, fresh, pdf, png
from tests.partners.fixtures_domain import *  # noqa: F403
from tests.permission_table import (
    ROLES,
    actor,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

pytestmark = pytest.mark.django_db

APP = "partners"
# The partners rows of docs/permissions.md.
TABLE = """
| `partners` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_portal` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_portal` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_portal` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.view_portal` | hukou | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.view_resource` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.view_resource` | public resource | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.view_resource` | stakeholders resource | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_resource` | inactive resource | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_resource` | bank's resource | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.add_resource` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.add_resource` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.add_resource` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.add_resource` | hukou | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.manage_resource` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.manage_resource` | public resource | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_resource` | inactive resource | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_resource` | bank's resource | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_resource` | atrium hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_resource` | atrium closure | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_resource` | atrium photo | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.book_resource` | — | ✓⁶ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.book_resource` | public resource | ✓⁶ | ✓ | ✓ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.book_resource` | stakeholders resource | ✓⁶ | ✓ | ✓ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.book_resource` | inactive resource | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.book_resource` | unbookable resource | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.book_resource` | bank's resource | ✓⁶ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_booking` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_booking` | hukou's booking | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_booking` | bank's booking | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.decide_booking` | — | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.decide_booking` | hukou's booking | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.decide_booking` | bank's booking | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.cancel_booking` | — | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.cancel_booking` | hukou's booking | ✓⁶ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.cancel_booking` | bank's booking | ✓⁶ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.add_pledge` | — | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.add_pledge` | mall | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.add_pledge` | bank | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.view_pledge` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_pledge` | pledge to public proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.view_pledge` | withdrawn pledge | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_pledge` | pledge to traffic proposal | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.decide_pledge` | — | ✓⁶ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.decide_pledge` | pledge to public proposal | ✓⁶ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.decide_pledge` | pledge to traffic proposal | ✓⁶ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.withdraw_pledge` | — | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.withdraw_pledge` | pledge to public proposal | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.withdraw_pledge` | pledge to traffic proposal | ✓⁶ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_agreement` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_agreement` | agreement mall+hukou | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_agreement` | agreement bank+traffic | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.view_agreement` | signed agreement | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_agreement` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_agreement` | agreement mall+hukou | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.manage_agreement` | agreement bank+traffic | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_agreement` | signed agreement | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.view_shift` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_shift` | shift at mall station | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_shift` | shift at bank station | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_shift` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.manage_shift` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_shift` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_shift` | shift at mall station | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_shift` | shift at bank station | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.view_training` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_training` | training by mall | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_training` | training by hukou | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_attendance` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_attendance` | training by mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_attendance` | training by hukou | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.view_attendance` | mall attendance | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_training` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.manage_training` | training by mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_training` | training by hukou | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.manage_training` | mall attendance | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.manage_members` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_members` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.manage_members` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
| `partners.manage_members` | hukou | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.manage_members` | mall invitation | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.change_resource` | public resource | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.delete_resource` | public resource | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_openingrule` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.view_openingrule` | atrium hours | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.add_openingrule` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.change_openingrule` | atrium hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.delete_openingrule` | atrium hours | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_availabilityexception` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.view_availabilityexception` | atrium closure | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.add_availabilityexception` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.change_availabilityexception` | atrium closure | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.delete_availabilityexception` | atrium closure | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_resourcephoto` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.view_resourcephoto` | atrium photo | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `partners.add_resourcephoto` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.change_resourcephoto` | atrium photo | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.delete_resourcephoto` | atrium photo | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.add_booking` | — | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.change_booking` | hukou's booking | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.delete_booking` | hukou's booking | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.change_pledge` | pledge to public proposal | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.delete_pledge` | pledge to public proposal | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.add_agreement` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `partners.change_agreement` | agreement mall+hukou | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.delete_agreement` | agreement mall+hukou | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.view_agreementdocument` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_agreementdocument` | signed agreement | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.add_agreementdocument` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `partners.change_agreementdocument` | signed agreement | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.delete_agreementdocument` | signed agreement | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.view_volunteershift` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_volunteershift` | shift at mall station | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.add_volunteershift` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.change_volunteershift` | shift at mall station | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.delete_volunteershift` | shift at mall station | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_trainingsession` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.view_trainingsession` | training by hukou | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.add_trainingsession` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.change_trainingsession` | training by hukou | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.delete_trainingsession` | training by hukou | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.add_attendance` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `partners.change_attendance` | mall attendance | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.delete_attendance` | mall attendance | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `partners.view_invitation` | — | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `partners.view_invitation` | mall invitation | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `partners.add_invitation` | — | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.change_invitation` | mall invitation | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `partners.delete_invitation` | mall invitation | ✓⁵ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
"""
ROWS = parse_table(TABLE, APP)
# Rows whose superuser ✓ is only Django's superuser rule: the rule itself says no.
SUPERUSER_BY_DJANGO_ONLY = {
    (line.split("|")[1].strip().strip("`"), line.split("|")[2].strip())
    for line in TABLE.splitlines()
    if line.startswith("| `") and line.split("|")[3].strip() in {"✓⁵", "✓⁶"}
}


@pytest.fixture
def objects(
    resource,
    room,
    kiosk,
    make_resource,
    book,
    monday,
    pledge,
    propose,
    agreement,
    shift,
    training,
    partner,
    other_partner,
    department,
    other_department,
    partner_admin,
    partner_staff,
    department_staff,
    other_department_staff,
    other_partner_admin,
):
    inactive = make_resource(name_zh="旧展台", windows=())
    inactive = services.resource_update(
        actor=partner_admin, resource=inactive, data={"is_active": False}
    )
    bank_station = StationFactory(
        slug="bank-station",
        name_zh="银行警务点",
        host=other_partner,
        departments=[other_department],
    )
    hall = make_resource(
        actor=other_partner_admin, owner=other_partner, name_zh="银行大厅", station=bank_station
    )
    traffic_service = ServiceFactory(
        department=other_department, service_code="TR-FINE", name_zh="交通罚款"
    )
    withdrawn = pledge()
    services.pledge_withdraw(actor=partner_staff, pledge=withdrawn, reason="预算调整")
    malls_agreement = agreement()
    mall_training = training(at(monday, 14))
    invitation, _token = services.invitation_send(
        actor=partner_admin, organisation=partner, email="new.staff@example.com", role="staff"
    )
    return {
        "—": None,
        "mall": partner,
        "bank": other_partner,
        "hukou": department,
        "public resource": resource,
        "stakeholders resource": room,
        "inactive resource": inactive,
        "unbookable resource": kiosk,
        "bank's resource": hall,
        "atrium hours": resource.opening_rules.first(),
        "atrium closure": services.exception_add(
            actor=partner_admin,
            resource=resource,
            kind="closed",
            starts_at=at(monday, 0),
            ends_at=at(monday, 9),
            reason="保洁",
        ),
        "hukou's booking": book(),
        "bank's booking": book(
            resource=hall, actor=other_department_staff, requester=other_department
        ),
        "pledge to public proposal": pledge(),
        "withdrawn pledge": Pledge.objects.get(pk=withdrawn.pk),
        "pledge to traffic proposal": pledge(proposal=propose(service=traffic_service)),
        "agreement mall+hukou": malls_agreement,
        "agreement bank+traffic": agreement(
            actor=other_partner_admin,
            activator=_member(other_department, "admin", "traffic.admin@example.com"),
            partner=other_partner,
            departments=[other_department],
        ),
        "signed agreement": services.agreement_attach(
            actor=partner_admin,
            agreement=malls_agreement,
            upload=pdf(),
            title="签署版",
        ),
        "shift at mall station": shift(at(monday, 10)),
        "shift at bank station": shift(
            at(monday, 10), actor=other_partner_admin, owner=other_partner, station=bank_station
        ),
        "training by mall": mall_training,
        "training by hukou": training(at(monday, 9), actor=department_staff, organiser=department),
        "mall invitation": invitation,
        "atrium photo": services.photo_add(actor=partner_staff, resource=resource, upload=png()),
        "mall attendance": services.attendance_record(
            actor=partner_staff,
            session=mall_training,
            attendees=[{"name": "王志愿", "organisation": partner}],
        )[0],
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)


def test_the_rule_itself_refuses_the_superuser_where_the_table_says_so(superuser, objects):
    """A superuser's ✓⁵ and ✓⁶ are Django's superuser rule; the rule says no, and the
    services (which ask the rule) refuse."""
    assert SUPERUSER_BY_DJANGO_ONLY
    for permission, label, _marks in ROWS:
        expected = (permission, label) not in SUPERUSER_BY_DJANGO_ONLY
        assert rules.has_perm(permission, superuser, objects[label]) is expected, (
            permission,
            label,
        )


def test_superusers_do_not_act_as_a_side(superuser, objects, monday):
    with pytest.raises(PermissionDenied):
        services.booking_approve(actor=superuser, booking=objects["hukou's booking"])
    with pytest.raises(PermissionDenied):
        services.pledge_accept(actor=superuser, pledge=objects["pledge to public proposal"])
    with pytest.raises(PermissionDenied):
        services.pledge_withdraw(
            actor=superuser, pledge=objects["pledge to public proposal"], reason="代为撤回"
        )


# Roles the table has no column for --------------------------------------------------------
MALL_VIEWER = {
    ("partners.view_portal", "mall"): True,
    ("partners.view_resource", "inactive resource"): True,
    ("partners.view_booking", "hukou's booking"): True,
    ("partners.view_pledge", "withdrawn pledge"): True,
    ("partners.view_agreement", "agreement mall+hukou"): True,
    ("partners.view_shift", "shift at mall station"): True,
    ("partners.view_attendance", "training by mall"): True,
    ("partners.manage_resource", "public resource"): False,
    ("partners.decide_booking", "hukou's booking"): False,
    ("partners.cancel_booking", "hukou's booking"): False,
    ("partners.add_pledge", "mall"): False,
    ("partners.withdraw_pledge", "pledge to public proposal"): False,
    ("partners.manage_agreement", "agreement mall+hukou"): False,
    ("partners.manage_shift", "shift at mall station"): False,
    ("partners.manage_training", "training by mall"): False,
    ("partners.manage_members", "mall"): False,
    ("partners.book_resource", "bank's resource"): False,
}


def test_a_partner_viewer_reads_but_does_not_act(partner, objects):
    viewer = _member(partner, "viewer", "mall.viewer@example.com")
    wrong = [
        (permission, label)
        for (permission, label), expected in MALL_VIEWER.items()
        if viewer.has_perm(permission, objects[label]) is not expected
    ]
    assert wrong == []


COMMUNITY_STAFF = {
    ("partners.book_resource", "public resource"): True,
    ("partners.book_resource", "stakeholders resource"): True,
    ("partners.view_resource", "stakeholders resource"): True,
    ("partners.view_resource", "inactive resource"): False,
    ("partners.view_booking", "hukou's booking"): False,
    ("partners.view_portal", "—"): False,
    ("partners.add_pledge", "mall"): False,
    ("partners.view_training", "training by mall"): True,
    ("partners.view_attendance", "training by mall"): False,
}


def test_a_community_organisations_staff_book_and_read_what_stakeholders_read(objects):
    community = OrganisationFactory(kind="community", slug="jiedao", name_zh="街道社区")
    neighbour = _member(community, "staff", "community@example.com")
    wrong = [
        (permission, label)
        for (permission, label), expected in COMMUNITY_STAFF.items()
        if neighbour.has_perm(permission, objects[label]) is not expected
    ]
    assert wrong == []


def test_a_revoked_seat_acts_for_nothing(partner_staff, objects):
    Membership.objects.filter(user=partner_staff).delete()
    user = fresh(partner_staff)
    assert not user.has_perm("partners.manage_resource", objects["public resource"])
    assert not user.has_perm("partners.decide_booking", objects["hukou's booking"])
    assert not user.has_perm("partners.view_booking", objects["hukou's booking"])
    assert not user.has_perm("partners.view_resource", objects["inactive resource"])
    assert not user.has_perm("partners.view_portal")


def test_an_inactive_organisation_counts_for_nothing(partner, partner_admin, objects):
    partner.is_active = False
    partner.save()
    user = fresh(partner_admin)
    assert not user.has_perm("partners.manage_resource", objects["public resource"])
    assert not user.has_perm("partners.manage_members", partner)
    assert not user.has_perm("partners.view_agreement", objects["agreement mall+hukou"])


def test_a_deactivated_account_is_nobody(department_staff, objects):
    department_staff.is_active = False
    department_staff.save()
    user = fresh(department_staff)
    assert not user.has_perm("partners.book_resource", objects["public resource"])
    assert not user.has_perm("partners.cancel_booking", objects["hukou's booking"])
    assert not user.has_perm("partners.view_resource", objects["stakeholders resource"])


# The queries agree with the rules ------------------------------------------------------------
READS = [
    ("partners.view_resource", Resource, queries.resources_visible_to),
    ("partners.view_booking", Booking, queries.bookings_visible_to),
    ("partners.view_pledge", Pledge, queries.pledges_visible_to),
    ("partners.view_agreement", Agreement, queries.agreements_visible_to),
    ("partners.view_shift", VolunteerShift, queries.shifts_visible_to),
    ("partners.view_training", TrainingSession, queries.trainings_visible_to),
]


@pytest.mark.parametrize("role", ROLES)
def test_what_the_queries_list_is_what_the_view_permissions_allow(request, role, objects):
    user = actor(request, role)
    for permission, model, query in READS:
        rows = [value for value in objects.values() if isinstance(value, model)]
        assert rows, model
        expected = {row.pk for row in rows if user.has_perm(permission, row)}
        listed = query(user).filter(pk__in=[row.pk for row in rows]).values_list("pk", flat=True)
        assert set(listed) == expected, permission


@pytest.mark.parametrize("role", ROLES)
def test_the_managed_resources_are_the_ones_the_user_may_manage(request, role, objects):
    user = actor(request, role)
    resources = [value for value in objects.values() if isinstance(value, Resource)]
    expected = {r.pk for r in resources if user.has_perm("partners.manage_resource", r)}
    assert set(queries.resources_managed_by(user).values_list("pk", flat=True)) == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_requests_to_answer_are_the_ones_the_user_may_decide(request, role, objects):
    user = actor(request, role)
    bookings = [value for value in objects.values() if isinstance(value, Booking)]
    expected = {b.pk for b in bookings if rules.has_perm("partners.decide_booking", user, b)}
    assert {b.pk for b in queries.pending_requests(user)} == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_pledges_to_answer_are_the_ones_the_user_may_decide(request, role, objects):
    user = actor(request, role)
    offered = [
        value
        for value in objects.values()
        if isinstance(value, Pledge) and value.status == Pledge.Status.OFFERED
    ]
    expected = {p.pk for p in offered if rules.has_perm("partners.decide_pledge", user, p)}
    assert {p.pk for p in queries.pledges_to_answer(user)} == expected
