"""What a review of the case pages found: the reporter named to people without the contact,
the reporter not seeing their own photos, and the report form with no limit of its own."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.cases.models import Case
from tests.cases.test_attachments import image_bytes, upload

pytestmark = pytest.mark.django_db


def test_a_viewer_sees_that_the_reporter_acted_not_who_they_are(
    client, open_case, citizen, department_viewer
):
    citizen.display_name = "王小明"
    citizen.save(update_fields=["display_name"])
    case = open_case(actor=citizen)
    client.force_login(department_viewer)
    page = client.get(reverse("cases:detail", args=[case.reference])).content.decode()
    assert "王小明" not in page
    assert citizen.email not in page
    assert "报告人" in page


def test_the_reporter_sees_the_photos_they_sent(client, open_case, citizen):
    case = open_case(actor=citizen, uploads=[upload("a.png", image_bytes("PNG"))])
    attachment = case.attachments.get()
    assert attachment.is_public is False
    client.force_login(citizen)
    url = reverse("cases:attachment", args=[case.reference, attachment.pk])
    assert client.get(url).status_code == 200
    client.logout()
    assert client.get(url).status_code == 404


def test_anonymous_reports_from_one_address_are_limited(client, settings, station, service, rules_):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "case_report": "2/hour",
        },
    }
    data = {
        "station": station.slug,
        "service": service.service_code,
        "title": "叫号屏不亮",
        "description": "二号窗口上方的屏幕黑屏。",
        "is_public": "on",
    }
    assert client.post(reverse("cases:report"), data).status_code == 302
    assert client.post(reverse("cases:report"), data).status_code == 302
    refused = client.post(reverse("cases:report"), data)
    assert refused.status_code == 429
    assert refused["Retry-After"]
    assert Case.objects.count() == 2
