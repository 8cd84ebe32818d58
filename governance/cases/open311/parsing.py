"""Open311 parameters → checked values, or an :class:`Open311Error` that says what was wrong.

Everything a request carries is checked here, before anything is written: bounds on every text
(the spec's 4,000 characters for ``description``), coordinates in range, W3C datetimes, the
90-day rule of ``GET requests``, and the answers to a service's attributes against their
datatypes. Text is kept as plain text: nothing is interpreted as markup (the renderers escape
it), and control characters that are neither tabs nor line breaks are refused.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils.dateparse import parse_datetime

from governance.cases.models import ServiceAttribute
from governance.cases.open311.errors import Open311Error
from governance.kpis.registry import TZ
from governance.stakeholders.models import phone_validator

MAX_DESCRIPTION = 4000
MAX_ADDRESS = 250
MAX_ADDRESS_ID = 64
MAX_NAME = 80
MAX_IDENTIFIER = 100
MAX_MEDIA_URL = 500
MAX_EMAIL = 254
MAX_PHONE = 20
MAX_ATTRIBUTE_STRING = 250
MAX_ATTRIBUTE_TEXT = 2000
MAX_NUMBER_LENGTH = 40
# GET requests: at most this many rows, over at most this many days.
LIMIT = 1000
WINDOW = dt.timedelta(days=90)
MAX_LISTED_IDS = LIMIT
MAX_LISTED_CODES = 200

Datatype = ServiceAttribute.Datatype
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
# C0 controls and DEL, except tab, line feed and carriage return.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
STATUSES = frozenset({"open", "closed"})
COORDINATE_PLACES = Decimal("0.000001")


def jurisdiction(value: str | None) -> None:
    """Check ``jurisdiction_id`` when the site names one (``OPEN311_JURISDICTION_ID``)."""
    configured = getattr(settings, "OPEN311_JURISDICTION_ID", "")
    if not configured:
        return
    if not (value or "").strip():
        raise Open311Error(400, "jurisdiction_id was not provided")
    if value.strip() != configured:
        raise Open311Error(404, "jurisdiction_id not found")


# Plain values ----------------------------------------------------------------------------------
def text(name: str, raw: str | None, *, max_length: int, multiline: bool = False) -> str:
    """A bounded, plain text (the bound counts what was sent); single-line fields have their
    whitespace folded."""
    value = raw or ""
    if len(value) > max_length:
        raise Open311Error(400, f"{name} is longer than {max_length} characters")
    if CONTROL.search(value):
        raise Open311Error(400, f"{name} contains control characters")
    value = value.strip()
    if not multiline:
        return " ".join(value.split())
    return value.replace("\r\n", "\n").replace("\r", "\n")


def usable(value: str, *, max_length: int) -> bool:
    """Whether ``value`` could name a row at all (the database cannot compare NUL)."""
    return bool(value) and len(value) <= max_length and not CONTROL.search(value)


def when(name: str, raw: str) -> dt.datetime:
    """A W3C datetime (``2026-01-01T00:00:00Z``, an offset, or a date); no zone means
    Asia/Shanghai."""
    value = (raw or "").strip()
    problem = f"{name} must be a W3C datetime such as 2026-01-01T00:00:00+08:00"
    if not value or len(value) > 40:
        raise Open311Error(400, problem)
    try:
        moment = parse_datetime(value)
        if moment is None:
            raise ValueError(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=TZ)
        # In UTC: PostgreSQL takes no offset past ±15:59, Python up to ±23:59. Out of range
        # once in UTC (e.g. 0001-01-01T00:00:00+01:00) is a bad date like any other.
        return moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise Open311Error(400, problem) from None


def coordinate(name: str, raw: str, *, limit: int) -> Decimal:
    try:
        value = Decimal((raw or "").strip())
    except InvalidOperation:
        raise Open311Error(400, f"{name} must be a number") from None
    if not value.is_finite() or not -limit <= value <= limit:
        raise Open311Error(400, f"{name} must be a number between -{limit} and {limit}")
    return value.quantize(COORDINATE_PLACES, rounding=ROUND_HALF_EVEN)


def comma_list(name: str, raw: str | None, *, most: int) -> tuple[str, ...]:
    """The distinct items of a comma-delimited parameter, in order."""
    if CONTROL.search(raw or ""):
        raise Open311Error(400, f"{name} contains control characters")
    items = [item.strip() for item in (raw or "").split(",")]
    items = list(dict.fromkeys(item for item in items if item))
    if len(items) > most:
        raise Open311Error(400, f"{name} lists more than {most} values")
    return tuple(items)


# GET requests ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RequestFilter:
    """What ``GET requests`` asks for. With ``ids`` the other filters do not apply (the spec)."""

    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: dt.datetime | None = None
    end: dt.datetime | None = None
    statuses: frozenset[str] = frozenset()


def request_filter(params, *, now: dt.datetime) -> RequestFilter:
    ids = comma_list("service_request_id", params.get("service_request_id"), most=MAX_LISTED_IDS)
    # Every parameter is checked, even those ids make moot: a malformed one is a 400 either way.
    codes = comma_list("service_code", params.get("service_code"), most=MAX_LISTED_CODES)
    statuses = frozenset(comma_list("status", params.get("status"), most=len(STATUSES)))
    if statuses - STATUSES:
        raise Open311Error(400, "status must be open, closed or both, comma delimited")
    start, end = _window(params.get("start_date"), params.get("end_date"), now=now)
    if ids:
        # GeoReport v2: with service_request_id, the other filters are ignored.
        return RequestFilter(ids=ids)
    return RequestFilter(service_codes=codes, start=start, end=end, statuses=statuses)


def _window(raw_start, raw_end, *, now: dt.datetime) -> tuple[dt.datetime, dt.datetime | None]:
    """The range of ``requested_datetime``: never more than 90 days; without dates, the last
    90 days; with one date, the 90 days from (or up to) it."""
    start = when("start_date", raw_start) if raw_start is not None else None
    end = when("end_date", raw_end) if raw_end is not None else None
    if start is not None and end is not None:
        if end < start:
            raise Open311Error(400, "end_date must not be earlier than start_date")
        if end - start > WINDOW:
            raise Open311Error(400, "start_date and end_date may not span more than 90 days")
        return start, end
    if start is not None:
        try:
            return start, start + WINDOW
        except OverflowError:
            return start, None
    if end is None:
        end = now
    try:
        return end - WINDOW, end
    except OverflowError:
        return dt.datetime.min.replace(tzinfo=dt.UTC), end


# POST requests ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Submission:
    """A checked ``POST requests``; the service and the place are resolved by the caller."""

    latitude: Decimal | None = None
    longitude: Decimal | None = None
    address_string: str = ""
    address_id: str = ""
    description: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""
    # code → the answer (a string, or a list of keys for a multivaluelist).
    attributes: dict = field(default_factory=dict)

    @property
    def contact_name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


def submission(data, *, attributes: list[ServiceAttribute]) -> Submission:
    """Check a POST's fields against the spec and the service's ``attributes``; every problem
    found is reported at once, as one 400 with one error each."""
    problems: list[str] = []
    values: dict = {}

    def take(check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except Open311Error as error:
            problems.extend(error.descriptions)
            return None

    raw_lat, raw_long = data.get("lat"), data.get("long")
    has_lat = bool((raw_lat or "").strip())
    has_long = bool((raw_long or "").strip())
    if has_lat != has_long:
        problems.append("lat and long must be given together")
    elif has_lat:
        values["latitude"] = take(coordinate, "lat", raw_lat, limit=90)
        values["longitude"] = take(coordinate, "long", raw_long, limit=180)
    for name, max_length, multiline in (
        ("address_string", MAX_ADDRESS, False),
        ("address_id", MAX_ADDRESS_ID, False),
        ("description", MAX_DESCRIPTION, True),
        ("first_name", MAX_NAME, False),
        ("last_name", MAX_NAME, False),
        ("email", MAX_EMAIL, False),
        ("phone", MAX_PHONE, False),
        ("device_id", MAX_IDENTIFIER, False),
        ("account_id", MAX_IDENTIFIER, False),
        ("media_url", MAX_MEDIA_URL, False),
    ):
        values[name] = (
            take(text, name, data.get(name), max_length=max_length, multiline=multiline) or ""
        )
    if not (has_lat or values["address_string"] or values["address_id"]):
        problems.append("a location is required: lat and long, address_string or address_id")
    first, last = values["first_name"], values["last_name"]
    if len(" ".join(part for part in (first, last) if part)) > MAX_NAME:
        problems.append(f"first_name and last_name together are longer than {MAX_NAME} characters")
    for name, validator in (
        ("email", EmailValidator()),
        ("phone", phone_validator),
        ("media_url", URLValidator(schemes=["http", "https"])),
    ):
        if values[name]:
            try:
                validator(values[name])
            except ValidationError:
                problems.append(f"{name} is not valid")
    values["attributes"] = take(answers, data, attributes) or {}
    if problems:
        raise Open311Error(400, problems)
    return Submission(**values)


def answers(data, attributes: list[ServiceAttribute]) -> dict:
    """``attribute[code]=value`` (``attribute[code][]=…`` repeated for a multivaluelist),
    checked against each attribute's datatype, options and ``required``."""
    given: dict[str, list[str]] = {}
    for key in data:
        match = ATTRIBUTE_KEY.match(key)
        if match is None:
            if key.startswith("attribute"):
                raise Open311Error(400, f"{key[:80]} is not of the form attribute[code]")
            continue
        raw = [item for item in data.getlist(key) if isinstance(item, str)]
        given.setdefault(match.group(1), []).extend(raw)
    by_code = {attribute.code: attribute for attribute in attributes if attribute.variable}
    problems = [
        f"attribute[{code}] is not an attribute of this service"
        for code in given
        if code not in by_code
    ]
    result = {}
    for code, attribute in by_code.items():
        raw = [item.strip() for item in given.get(code, [])]
        raw = [item for item in raw if item]
        if not raw:
            if attribute.required:
                problems.append(f"attribute[{code}] is required")
            continue
        try:
            result[code] = _answer(attribute, raw)
        except Open311Error as error:
            problems.extend(error.descriptions)
    if problems:
        raise Open311Error(400, problems)
    return result


def _answer(attribute: ServiceAttribute, raw: list[str]):
    name = f"attribute[{attribute.code}]"
    if attribute.datatype == Datatype.MULTIVALUELIST:
        keys = {value["key"] for value in attribute.values}
        chosen = list(dict.fromkeys(raw))
        unknown = [item for item in chosen if item not in keys]
        if unknown:
            raise Open311Error(400, f"{name} has no value {unknown[0][:64]!r}")
        return chosen
    if len(raw) > 1:
        raise Open311Error(400, f"{name} takes one value")
    value = raw[0]
    if attribute.datatype == Datatype.SINGLEVALUELIST:
        if value not in {option["key"] for option in attribute.values}:
            raise Open311Error(400, f"{name} has no value {value[:64]!r}")
        return value
    if attribute.datatype == Datatype.NUMBER:
        if len(value) > MAX_NUMBER_LENGTH:
            raise Open311Error(400, f"{name} must be a number")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise Open311Error(400, f"{name} must be a number") from None
        if not number.is_finite():
            raise Open311Error(400, f"{name} must be a number")
        return str(number)
    if attribute.datatype == Datatype.DATETIME:
        return when(name, value).astimezone(TZ).isoformat(timespec="seconds")
    if attribute.datatype == Datatype.TEXT:
        return text(name, value, max_length=MAX_ATTRIBUTE_TEXT, multiline=True)
    return text(name, value, max_length=MAX_ATTRIBUTE_STRING)
