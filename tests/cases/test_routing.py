"""Routing: rules by service, category and station, the first by order, co-handlers from the
rule, the explanation on the case, and the triage queue for what no rule matches."""

from __future__ import annotations

import pytest
from django.utils import translation

from governance.cases import queries, routing
from governance.cases.models import Case
from governance.notifications.models import Notification
from tests.cases.factories import RoutingRuleFactory

pytestmark = pytest.mark.django_db


def test_service_rule_routes_to_its_department(open_case, rules_, department):
    case = open_case()
    assert case.responsible == department
    assert case.routed_by == rules_["service"]
    with translation.override("zh-hans"):
        assert case.routing_explanation == "由分派规则“户籍业务”分派"
    with translation.override("en"):
        assert "Household services" in case.routing_explanation


def test_category_rule_routes_to_the_partner(open_case, facility, partner):
    case = open_case(service=None, category=facility, title="二楼电梯停运")
    assert case.responsible == partner


def test_station_specific_rule_with_a_lower_order_wins(
    open_case, service, station, other_department, rules_
):
    rules_["service"].order = 50
    rules_["service"].save()
    special = RoutingRuleFactory(
        name_zh="商场站点户籍",
        service=service,
        station=station,
        responsible=other_department,
        order=10,
    )
    assert open_case().routed_by == special
    # Elsewhere the station rule does not match.
    assert open_case(station=None, address="成华区建设路 1 号").routed_by == rules_["service"]


def test_inactive_rules_and_organisations_are_skipped(open_case, rules_, department):
    rules_["service"].is_active = False
    rules_["service"].save()
    assert open_case().responsible is None
    rules_["service"].is_active = True
    rules_["service"].save()
    department.is_active = False
    department.save()
    assert (
        routing.route(
            service_id=rules_["service"].service_id, category_id=None, station_id=None
        ).rule
        is None
    )


def test_rule_cohandlers_share_the_case(open_case, service, partner, department, rules_):
    rules_["service"].cohandlers.set([partner, department])
    rules_["service"].cohandler_task_zh = "提供场地监控录像"
    rules_["service"].save()
    case = open_case()
    cohandlers = list(case.cohandlers.all())
    # The responsible organisation is never its own co-handler.
    assert [c.organisation for c in cohandlers] == [partner]
    assert cohandlers[0].task == "提供场地监控录像"


def test_unmatched_case_waits_in_triage_and_the_triage_desk_is_told(
    open_case, lost_item, triager, triage_admin, department_staff
):
    case = open_case(service=None, category=lost_item, title="捡到钱包")
    assert case.responsible is None
    assert case.routing == Case.Routing.TRIAGE
    with translation.override("zh-hans"):
        assert case.routing_explanation == "没有匹配的分派规则，等待分拨"
    told = {n.recipient for n in Notification.objects.filter(event_type="cases.opened")}
    assert told == {triager, triage_admin}
    assert list(queries.triage_queue(triager)) == [case]
    assert list(queries.triage_queue(department_staff)) == []


def test_triage_role_is_an_acting_seat_in_the_configured_organisation(
    open_case, lost_item, settings, triage_org, department, department_staff
):
    case = open_case(service=None, category=lost_item, is_public=False)
    settings.CASES_TRIAGE_ORGANISATION = department.slug
    assert department_staff.has_perm("cases.triage_case", case)
    settings.CASES_TRIAGE_ORGANISATION = "nobody"
    department_staff = type(department_staff).objects.get(pk=department_staff.pk)
    assert not department_staff.has_perm("cases.triage_case", case)
