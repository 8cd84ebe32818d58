"""The benchmark's data set, loaded once into its own database and topped up to the asked size.

Visits go in with one ``INSERT … SELECT generate_series`` per batch: a million rows in seconds,
where the ORM would take minutes.
"""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from governance.stakeholders.models import Organisation
from governance.stations.models import Channel, OpeningHours, Service, Station, Visit

DEPARTMENTS = [
    ("hukou", "户政管理", "Household Administration"),
    ("traffic", "交通管理", "Traffic Police"),
    ("exit-entry", "出入境管理", "Exit-Entry Administration"),
    ("tianfu", "天府通办", "Tianfutong Government Services"),
]
BATCH = 250_000


@transaction.atomic
def _catalogue(stations: int, services: int) -> None:
    departments = [
        Organisation.objects.get_or_create(
            slug=slug, defaults={"kind": "department", "name_zh": zh, "name_en": en}
        )[0]
        for slug, zh, en in DEPARTMENTS
    ]
    host, _ = Organisation.objects.get_or_create(
        slug="bench-mall", defaults={"kind": "partner", "name_zh": "基准商场", "name_en": "Mall"}
    )
    for number in range(Station.objects.filter(slug__startswith="bench-").count(), stations):
        station = Station.objects.create(
            slug=f"bench-{number:03d}",
            name_zh=f"基准服务站{number:03d}",
            name_en=f"Benchmark Station {number:03d}",
            address_zh="成都市成华区",
            host=host,
        )
        station.departments.set(departments)
        OpeningHours.objects.bulk_create(
            OpeningHours(station=station, weekday=day, opens=dt.time(10), closes=dt.time(22))
            for day in range(7)
        )
    all_stations = list(Station.objects.filter(slug__startswith="bench-").order_by("slug"))
    existing = Service.objects.filter(service_code__startswith="BENCH-").count()
    channels = [Channel.COUNTER, Channel.COUNTER, Channel.KIOSK, Channel.ONLINE]
    for number in range(existing, services):
        service = Service.objects.create(
            department=departments[number % len(departments)],
            service_code=f"BENCH-{number:04d}",
            name_zh=f"基准服务事项{number:04d}",
            name_en=f"Benchmark service {number:04d}",
            channel=channels[number % len(channels)],
            target_minutes=5 + number % 30,
            documents_zh="身份证\n户口簿",
            documents_en="ID card\nhousehold register",
            keywords="基准;测试",
        )
        service.stations.set(all_stations[number % len(all_stations) :][:3] or all_stations[:3])


def _visits(target: int) -> None:
    have = Visit.objects.count()
    while have < target:
        size = min(BATCH, target - have)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                """
                WITH st AS (SELECT array_agg(id ORDER BY id) AS ids FROM stations_station
                            WHERE slug LIKE 'bench-%%'),
                     sv AS (SELECT array_agg(id ORDER BY id) AS ids FROM stations_service
                            WHERE service_code LIKE 'BENCH-%%'),
                     rows AS (
                        SELECT g,
                               now() - ((g * 37) %% 525600) * interval '1 minute' AS arrived
                        FROM generate_series(%s, %s) AS g)
                INSERT INTO stations_visit
                    (station_id, service_id, ticket, channel, counter, arrived_at, called_at,
                     finished_at, outcome)
                SELECT st.ids[1 + g %% array_length(st.ids, 1)],
                       sv.ids[1 + (g * 7) %% array_length(sv.ids, 1)],
                       'A' || lpad((g %% 1000)::text, 3, '0'),
                       'counter', '',
                       arrived,
                       arrived + ((g %% 40) + 1) * interval '1 minute',
                       arrived + ((g %% 40) + 1 + (g %% 25)) * interval '1 minute',
                       'completed'
                FROM rows, st, sv
                """,
                [have + 1, have + size],
            )
        have += size


def load(*, stations: int, services: int, visits: int) -> dict:
    if connection.vendor != "postgresql":
        raise SystemExit("the benchmark runs on PostgreSQL (set --database-url)")
    _catalogue(stations, services)
    _visits(visits)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "stations": Station.objects.count(),
        "services": Service.objects.count(),
        "visits": Visit.objects.count(),
        "sample_service_code": Service.objects.order_by("service_code")
        .values_list("service_code", flat=True)
        .first(),
    }
