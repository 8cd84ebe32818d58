"""The KPI catalogue in the admin: superusers define indicators and targets; rollups, figures
and alerts are read-only there; department and partner staff are refused (they work on the
KPI pages, through the services)."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.kpis.models import Alert, Indicator, Measurement, ReportedFigure, Target
from tests.kpis.factories import daily, indicator, monthly_target
from tests.query_budget import assert_constant_queries
from tests.stations.test_admin import admin_url

pytestmark = pytest.mark.django_db

MODELS = (Indicator, Target, ReportedFigure, Alert, Measurement)
READ_ONLY = (ReportedFigure, Alert, Measurement)
STAFF_ROLES = (
    "department_admin",
    "department_staff",
    "department_viewer",
    "partner_admin",
    "partner_staff",
)
MONTH = dt.date(2026, 9, 1)


@pytest.fixture
def rows(department_admin):
    hukou = department_admin.memberships.get().organisation
    kpi = indicator("visits", owners=[hukou])
    target = monthly_target(kpi, MONTH, 100, 80)
    daily("stations.visits", MONTH, 3, value=5)
    Alert.objects.create(indicator=kpi, target=target, period="month", period_start=MONTH, value=15)
    footfall = indicator("footfall", kind=Indicator.Kind.REPORTED, owners=[hukou], unit="人次")
    ReportedFigure.objects.create(
        indicator=footfall, period="month", period_start=MONTH, value=9, reported_by=hukou
    )
    return {"kpi": kpi, "target": target}


def test_superusers_see_every_kpi_model(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 200, model
    assert client.get(admin_url(Indicator, "change", rows["kpi"].pk)).status_code == 200


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_department_and_partner_staff_are_refused(request, mfa_client, rows, role):
    client = mfa_client(request.getfixturevalue(role))
    response = client.get("/admin/")
    assert "kpis" not in {app["app_label"] for app in response.context["app_list"]}
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 403, model
    url = admin_url(Target, "change", rows["target"].pk)
    assert client.post(url, {"green": 1, "amber": 2}).status_code == 403
    rows["target"].refresh_from_db()
    assert (rows["target"].green, rows["target"].amber) == (100, 80)


@pytest.mark.parametrize("model", READ_ONLY)
def test_rollups_figures_and_alerts_are_read_only(mfa_client, superuser, rows, model):
    client = mfa_client(superuser)
    assert client.get(admin_url(model, "add")).status_code == 403
    row = model.objects.first()
    assert client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_a_target_in_the_wrong_order_is_refused_with_the_rule(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    response = client.post(
        admin_url(Target, "change", rows["target"].pk),
        {
            "indicator": rows["kpi"].pk,
            "period": "month",
            "period_start": "2026-09-01",
            "green": "50",
            "amber": "80",
        },
    )
    assert response.status_code == 200
    assert "该指标越高越好：绿灯阈值必须高于黄灯阈值。" in response.content.decode()
    rows["target"].refresh_from_db()
    assert rows["target"].green == 100


def test_saving_a_target_records_who_set_it(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    response = client.post(
        admin_url(Target, "change", rows["target"].pk),
        {
            "indicator": rows["kpi"].pk,
            "period": "month",
            "period_start": "2026-09-01",
            "green": "120",
            "amber": "90",
        },
    )
    assert response.status_code == 302
    rows["target"].refresh_from_db()
    assert (rows["target"].green, rows["target"].set_by) == (120, superuser)


def test_the_rollup_list_costs_the_same_for_more_rows(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    url = admin_url(Measurement, "changelist")
    start = [dt.date(2025, 1, 1)]

    def more(count):
        daily("stations.visits", start[0], count, value=1)
        start[0] += dt.timedelta(days=count)

    assert_constant_queries(lambda: client.get(url), more)
