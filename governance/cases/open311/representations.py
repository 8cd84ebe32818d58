"""The spec's fields, built from rows: plain dicts and lists that both renderers write.

Datetimes are W3C (ISO 8601) in Asia/Shanghai with their offset, e.g.
``2026-10-20T10:00:00+08:00``; coordinates are numbers; absent values are ``null``.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext

from governance.cases.models import OPEN_STATUSES, Case, ServiceAttribute, Status
from governance.kpis.registry import TZ
from governance.stations.models import Service

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ["text/xml", "application/json"]


def w3(moment: dt.datetime | None) -> str | None:
    return moment.astimezone(TZ).isoformat(timespec="seconds") if moment else None


def _number(value) -> float | None:
    return float(value) if value is not None else None


def service(row: Service) -> dict:
    department = row.department
    return {
        "service_code": row.service_code,
        "service_name": row.name,
        "description": row.description,
        "metadata": bool(getattr(row, "has_attributes", False)),
        "type": "realtime",
        "keywords": ", ".join(row.keyword_list),
        "group": department.short_name or department.name,
    }


def attribute(row: ServiceAttribute) -> dict:
    return {
        "variable": row.variable,
        "code": row.code,
        "datatype": row.datatype,
        "required": row.required,
        "datatype_description": row.datatype_description,
        "order": row.order,
        "description": row.description,
        "values": [
            {"key": value["key"], "name": row.value_name(value["key"])} for value in row.values
        ],
    }


def definition(row: Service) -> dict:
    return {
        "service_code": row.service_code,
        "attributes": [attribute(item) for item in row.attributes],
    }


def status(case: Case) -> str:
    return "open" if case.status in OPEN_STATUSES else "closed"


def status_notes(case: Case) -> str | None:
    """Why the request is where it is: the reason it was refused, else the latest public reply,
    else the original of a duplicate."""
    if case.status == Status.REJECTED and case.rejection_reason:
        return case.rejection_reason
    if getattr(case, "latest_reply", None):
        return case.latest_reply
    if case.status == Status.DUPLICATE and case.duplicate_of_id:
        return gettext("与 %(reference)s 重复，请关注原事项。") % {
            "reference": case.duplicate_of.reference
        }
    return None


def _sidecar(case: Case):
    try:
        return case.open311
    except Case.open311.RelatedObjectDoesNotExist:
        return None


def request(case: Case) -> dict:
    """One case as a GeoReport service request. Never the reporter's contact details, nor the
    identifiers an app sent with it."""
    station = case.station if case.station_id else None
    sidecar = _sidecar(case)
    if case.service_id:
        name, code = case.service.name, case.service.service_code
    else:
        name, code = (case.category.name if case.category_id else ""), None
    has_point = case.latitude is not None
    moments = [case.updated_at, case.status_changed_at, getattr(case, "latest_reply_at", None)]
    return {
        "service_request_id": case.reference,
        "status": status(case),
        "status_notes": status_notes(case),
        "service_name": name,
        "service_code": code,
        "description": case.description,
        "agency_responsible": case.responsible.name if case.responsible_id else None,
        "service_notice": None,
        "requested_datetime": w3(case.created_at),
        "updated_datetime": w3(max(moment for moment in moments if moment is not None)),
        "expected_datetime": w3(case.expected_datetime),
        "address": case.address or (station.address if station else None) or None,
        "address_id": (sidecar.address_id if sidecar else "")
        or (station.slug if station else None),
        "zipcode": None,
        "lat": _number(case.latitude if has_point else (station.latitude if station else None)),
        "long": _number(case.longitude if has_point else (station.longitude if station else None)),
        "media_url": (sidecar.media_url if sidecar else "") or None,
    }


def created(case: Case, *, token, account_id: str) -> dict:
    """The answer to a POST: the request id (the service is realtime), its token, and what
    happens next."""
    expected = case.expected_datetime
    if expected is not None:
        notice = gettext("已收到，编号 %(reference)s，预计 %(expected)s 前办结。") % {
            "reference": case.reference,
            "expected": expected.astimezone(TZ).strftime("%Y-%m-%d %H:%M"),
        }
    else:
        notice = gettext("已收到，编号 %(reference)s。") % {"reference": case.reference}
    return {
        "service_request_id": case.reference,
        "token": str(token),
        "service_notice": notice,
        "account_id": account_id or None,
    }


def token(sidecar) -> dict:
    return {"service_request_id": sidecar.case.reference, "token": str(sidecar.token)}


def discovery(*, url: str, changeset: dt.datetime | None, production: bool) -> dict:
    changed = w3(changeset) or w3(dt.datetime(2026, 1, 1, tzinfo=TZ))
    return {
        "changeset": changed,
        "contact": gettext("Gongzhi 共治平台管理员；紧急情况请拨打 110。"),
        "key_service": gettext("API 密钥由平台管理员在管理后台按组织和应用签发。"),
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": url,
                "changeset": changed,
                "type": "production" if production else "test",
                "formats": list(FORMATS),
            }
        ],
    }
