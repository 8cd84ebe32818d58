from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation

from governance.stations.models import OpeningHours, Service, Station, Visit
from tests.factories import ServiceFactory, StationFactory, VisitFactory

pytestmark = pytest.mark.django_db

ARRIVED = dt.datetime(2025, 3, 3, 10, 0, tzinfo=dt.UTC)


def assert_rejected_by_database(instance) -> None:
    """Saving ``instance`` bypasses ``full_clean``; only the database stands in the way."""
    with pytest.raises(IntegrityError), transaction.atomic():
        instance.save()


def field_errors(instance) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        instance.full_clean()
    return caught.value.message_dict


@pytest.fixture
def station():
    return StationFactory(hours=False)


@pytest.fixture
def service(department, station):
    return ServiceFactory(department=department, stations=[station])


def visit(station, service, **times) -> Visit:
    fields = {
        "arrived_at": ARRIVED,
        "called_at": ARRIVED + dt.timedelta(minutes=10),
        "finished_at": ARRIVED + dt.timedelta(minutes=20),
        "outcome": Visit.Outcome.COMPLETED,
    }
    fields.update(times)
    return VisitFactory.build(station=station, service=service, **fields)


# Visit ----------------------------------------------------------------------------------------
def test_a_well_ordered_visit_passes_validation_and_saves(station, service):
    row = visit(station, service)
    row.full_clean()
    row.save()
    assert row.wait_minutes == 10
    assert row.handling_minutes == 10


def test_a_waiting_visit_needs_neither_call_nor_finish(station, service):
    row = visit(station, service, called_at=None, finished_at=None, outcome=Visit.Outcome.WAITING)
    row.full_clean()
    row.save()
    assert row.wait_minutes is None
    assert row.handling_minutes is None


def test_database_rejects_a_visit_called_before_it_arrived(station, service):
    assert_rejected_by_database(
        visit(station, service, called_at=ARRIVED - dt.timedelta(minutes=1), finished_at=None)
    )


def test_database_rejects_a_visit_finished_before_it_was_called(station, service):
    assert_rejected_by_database(
        visit(
            station,
            service,
            called_at=ARRIVED + dt.timedelta(minutes=10),
            finished_at=ARRIVED + dt.timedelta(minutes=5),
        )
    )


def test_database_rejects_a_visit_finished_without_being_called(station, service):
    assert_rejected_by_database(
        visit(station, service, called_at=None, finished_at=ARRIVED + dt.timedelta(minutes=5))
    )


def test_full_clean_names_called_at_when_called_before_arrival(station, service):
    errors = field_errors(
        visit(station, service, called_at=ARRIVED - dt.timedelta(minutes=1), finished_at=None)
    )
    assert set(errors) == {"called_at"}


def test_full_clean_names_finished_at_when_finished_before_called(station, service):
    errors = field_errors(
        visit(
            station,
            service,
            called_at=ARRIVED + dt.timedelta(minutes=10),
            finished_at=ARRIVED + dt.timedelta(minutes=5),
        )
    )
    assert set(errors) == {"finished_at"}


def test_full_clean_names_finished_at_when_finished_without_being_called(station, service):
    errors = field_errors(
        visit(station, service, called_at=None, finished_at=ARRIVED + dt.timedelta(minutes=5))
    )
    assert set(errors) == {"finished_at"}


def test_nothing_is_saved_when_the_database_rejects_a_visit(station, service):
    assert_rejected_by_database(
        visit(station, service, called_at=ARRIVED - dt.timedelta(minutes=1), finished_at=None)
    )
    assert not Visit.objects.exists()


# Opening hours --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("opens", "closes"),
    [(dt.time(10), dt.time(10)), (dt.time(18), dt.time(9))],
    ids=["closes-when-it-opens", "closes-before-it-opens"],
)
def test_database_rejects_opening_hours_that_close_before_they_open(station, opens, closes):
    assert_rejected_by_database(
        OpeningHours(station=station, weekday=0, opens=opens, closes=closes)
    )


@pytest.mark.parametrize(
    ("opens", "closes"),
    [(dt.time(10), dt.time(10)), (dt.time(18), dt.time(9))],
    ids=["closes-when-it-opens", "closes-before-it-opens"],
)
def test_full_clean_names_closes_when_hours_close_before_they_open(station, opens, closes):
    errors = field_errors(OpeningHours(station=station, weekday=0, opens=opens, closes=closes))
    assert set(errors) == {"closes"}


def test_database_rejects_a_weekday_out_of_range(station):
    assert_rejected_by_database(
        OpeningHours(station=station, weekday=7, opens=dt.time(9), closes=dt.time(17))
    )


def test_valid_opening_hours_save(station):
    slot = OpeningHours(station=station, weekday=6, opens=dt.time(9), closes=dt.time(17))
    slot.full_clean()
    slot.save()
    assert str(slot).endswith("09:00–17:00")


# Service --------------------------------------------------------------------------------------
@pytest.mark.parametrize("minutes", [0, 481, 32767])
def test_database_rejects_target_minutes_out_of_range(department, minutes):
    service = ServiceFactory.build(department=department, target_minutes=minutes)
    assert_rejected_by_database(service)


@pytest.mark.parametrize("minutes", [0, 481])
def test_full_clean_names_target_minutes_out_of_range(department, minutes):
    errors = field_errors(ServiceFactory.build(department=department, target_minutes=minutes))
    assert set(errors) == {"target_minutes"}


@pytest.mark.parametrize("minutes", [1, 480])
def test_target_minutes_at_the_bounds_are_accepted(department, minutes):
    service = ServiceFactory.build(department=department, target_minutes=minutes)
    service.full_clean()
    service.save()
    assert Service.objects.get(pk=service.pk).target_minutes == minutes


def test_full_clean_rejects_a_malformed_service_code(department):
    errors = field_errors(ServiceFactory.build(department=department, service_code="hk id"))
    assert set(errors) == {"service_code"}


def test_full_clean_rejects_a_partner_as_the_department_of_a_service(partner):
    errors = field_errors(ServiceFactory.build(department=partner))
    assert set(errors) == {"department"}


# Station coordinates --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (Decimal("90.000001"), Decimal("104"), "latitude"),
        (Decimal("-91"), Decimal("104"), "latitude"),
        (Decimal("30"), Decimal("180.5"), "longitude"),
        (Decimal("30"), Decimal("-181"), "longitude"),
    ],
)
def test_database_rejects_coordinates_out_of_range(partner, latitude, longitude, field):
    station = StationFactory.build(host=partner, latitude=latitude, longitude=longitude)
    assert_rejected_by_database(station)


@pytest.mark.parametrize(
    ("latitude", "longitude", "field"),
    [
        (Decimal("90.000001"), Decimal("104"), "latitude"),
        (Decimal("-91"), Decimal("104"), "latitude"),
        (Decimal("30"), Decimal("180.5"), "longitude"),
        (Decimal("30"), Decimal("-181"), "longitude"),
    ],
)
def test_full_clean_names_the_coordinate_out_of_range(partner, latitude, longitude, field):
    station = StationFactory.build(host=partner, latitude=latitude, longitude=longitude)
    assert set(field_errors(station)) == {field}


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [(Decimal("90"), Decimal("180")), (Decimal("-90"), Decimal("-180")), (None, None)],
)
def test_coordinates_at_the_bounds_or_blank_are_accepted(partner, latitude, longitude):
    station = StationFactory.build(host=partner, latitude=latitude, longitude=longitude)
    station.full_clean()
    station.save()
    assert Station.objects.filter(pk=station.pk).exists()


def test_full_clean_rejects_a_latitude_without_a_longitude(partner):
    station = StationFactory.build(host=partner, latitude=Decimal("30.6"), longitude=None)
    assert set(field_errors(station)) == {NON_FIELD_ERRORS}


def test_database_rejects_a_latitude_without_a_longitude(partner):
    station = StationFactory.build(host=partner, latitude=Decimal("30.6"), longitude=None)
    assert_rejected_by_database(station)


def test_full_clean_rejects_a_department_as_host(department):
    station = StationFactory.build(host=department)
    assert set(field_errors(station)) == {"host"}


# Localized names ------------------------------------------------------------------------------
def test_localized_fields_follow_the_active_language(partner):
    station = StationFactory(
        host=partner,
        name_zh="万象城警务服务站",
        name_en="Mixc Police Service Station",
        address_zh="二环路东二段",
        address_en="East 2nd Section, 2nd Ring Road",
        description_zh="一站式办理",
        description_en="One-stop service",
    )
    with translation.override("zh-hans"):
        assert (station.name, station.address, station.description) == (
            "万象城警务服务站",
            "二环路东二段",
            "一站式办理",
        )
    with translation.override("en"):
        assert (station.name, station.address, station.description) == (
            "Mixc Police Service Station",
            "East 2nd Section, 2nd Ring Road",
            "One-stop service",
        )
        assert str(station) == "Mixc Police Service Station"


def test_localized_fields_fall_back_to_chinese_when_english_is_blank(department):
    service = ServiceFactory(
        department=department, name_zh="身份证换领", name_en="", description_zh="到期换领"
    )
    with translation.override("en"):
        assert service.name == "身份证换领"
        assert service.description == "到期换领"
        assert department.name == "Household Administration"


def test_localized_descriptor_reads_as_itself_on_the_class():
    assert Station.name.base == "name"


def test_service_documents_follow_the_language_and_fall_back_to_chinese(department):
    service = ServiceFactory(
        department=department,
        documents_zh="居民身份证\n\n  户口簿  \n",
        documents_en="Resident ID card\nHousehold register",
    )
    with translation.override("zh-hans"):
        assert service.documents == ["居民身份证", "户口簿"]
    with translation.override("en"):
        assert service.documents == ["Resident ID card", "Household register"]
    service.documents_en = ""
    with translation.override("en"):
        assert service.documents == ["居民身份证", "户口簿"]


def test_service_keywords_split_on_semicolons_and_spaces(department):
    service = ServiceFactory(department=department, keywords="身份证;换证  补领;;ID")
    assert service.keyword_list == ["身份证", "换证", "补领", "ID"]


def test_visit_string_names_ticket_and_service(station, service):
    row = VisitFactory(station=station, service=service, ticket="A001", arrived_at=timezone.now())
    assert str(row) == f"A001 · {service.service_code}"
