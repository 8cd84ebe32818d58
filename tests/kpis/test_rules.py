"""The kpis rows of docs/permissions.md, walked for every role."""

import datetime as dt

import pytest

from governance.kpis.models import Indicator, ReportedFigure, Visibility
from tests.kpis.factories import indicator
from tests.permission_table import (
    ROLES,
    assert_role_matches_its_column,
    assert_rows_are_the_documents,
    assert_rows_cover_registered_permissions,
    parse_table,
)

pytestmark = pytest.mark.django_db

APP = "kpis"
# The kpis rows of docs/permissions.md.
TABLE = """
| `kpis.view_indicator` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `kpis.view_indicator` | public KPI | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
| `kpis.view_indicator` | stakeholders KPI | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `kpis.view_indicator` | owners-only KPI (hukou+mall) | ✓ | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `kpis.view_indicator` | inactive public KPI | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.set_target` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `kpis.set_target` | public KPI | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `kpis.set_target` | stakeholders KPI | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.set_target` | owners-only KPI (hukou+mall) | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ |
| `kpis.report_figure` | — | ✓ | ✓ | ✓ | ✗ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `kpis.report_figure` | public KPI | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.report_figure` | reported KPI (hukou+mall) | ✓ | ✓ | ✓ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `kpis.review_figure` | — | ✓ | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✓ | ✗ | ✗ |
| `kpis.review_figure` | mall-reported figure | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.review_figure` | hukou-only figure, staff-entered | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.review_figure` | hukou-only figure, admin-entered | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.view_organisation_kpis` | — | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ |
| `kpis.view_organisation_kpis` | hukou | ✓ | ✓ | ✓ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.view_organisation_kpis` | traffic | ✓ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ |
| `kpis.view_organisation_kpis` | mall | ✓ | ✗ | ✗ | ✗ | ✗ | ✓ | ✓ | ✗ | ✗ | ✗ |
| `kpis.view_organisation_kpis` | bank | ✓ | ✗ | ✗ | ✗ | ✗ | ✗ | ✗ | ✓ | ✗ | ✗ |
"""
ROWS = parse_table(TABLE, APP)


@pytest.fixture
def objects(
    department,
    other_department,
    partner,
    other_partner,
    department_admin,
    department_staff,
    partner_staff,
):
    reported = {"kind": Indicator.Kind.REPORTED, "unit": "人次"}
    co_owned = indicator("footfall", owners=[department, partner], **reported)
    hukou_only = indicator("hukou-count", owners=[department], **reported)

    def figure(kpi, month, organisation, entered_by):
        return ReportedFigure.objects.create(
            indicator=kpi,
            period="month",
            period_start=month,
            value=1200,
            reported_by=organisation,
            entered_by=entered_by,
        )

    return {
        "—": None,
        "public KPI": indicator("visits", owners=[department, partner]),
        "stakeholders KPI": indicator(
            "within-target", owners=[other_department], visibility=Visibility.STAKEHOLDERS
        ),
        "owners-only KPI (hukou+mall)": indicator(
            "wait-median", owners=[department, partner], visibility=Visibility.OWNERS
        ),
        "inactive public KPI": indicator("retired", owners=[department, partner], is_active=False),
        "reported KPI (hukou+mall)": co_owned,
        "mall-reported figure": figure(co_owned, dt.date(2026, 1, 1), partner, partner_staff),
        "hukou-only figure, staff-entered": figure(
            hukou_only, dt.date(2026, 1, 1), department, department_staff
        ),
        "hukou-only figure, admin-entered": figure(
            hukou_only, dt.date(2026, 2, 1), department, department_admin
        ),
        "hukou": department,
        "traffic": other_department,
        "mall": partner,
        "bank": other_partner,
    }


def test_table_is_the_one_in_the_docs():
    assert_rows_are_the_documents(APP, ROWS)


def test_table_covers_every_permission_the_app_registers():
    assert_rows_cover_registered_permissions(APP, ROWS)


@pytest.mark.parametrize("role", ROLES)
def test_role_holds_exactly_the_permissions_in_the_table(request, role, objects):
    assert_role_matches_its_column(request, role, ROWS, objects)
