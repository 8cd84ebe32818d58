"""Writes for Open311: issuing, rotating and revoking apps' keys, and taking a report.

A report is a case like any other, opened by ``case_open`` as an anonymous citizen's with
``source=Source.OPEN311`` (so it is routed, clocked and announced the usual way); the
submission's extras go to its :class:`~governance.cases.models.Open311Request`, in the same
transaction, so a refused report leaves neither.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from governance.cases.models import (
    Case,
    Open311Client,
    Open311Request,
    ServiceAttribute,
    Source,
)
from governance.cases.open311 import keys
from governance.cases.open311.parsing import Submission
from governance.cases.services import case_open
from governance.stations.models import Service, Station

TITLE_LENGTH = Case._meta.get_field("title").max_length
DESCRIPTION_LENGTH = Case._meta.get_field("description").max_length


def _require_superuser(actor) -> None:
    if not (actor is not None and actor.is_active and actor.is_superuser):
        raise PermissionDenied(_("只有平台管理员才能管理 Open311 应用的密钥。"))


def _set_key(client: Open311Client, key: str) -> None:
    client.key_hash = keys.hash_key(key)
    client.key_prefix = keys.shown_prefix(key)


@transaction.atomic
def open311_client_issue(*, actor, client: Open311Client) -> str:
    """Save a new app with a fresh key and return the key: the only time anyone sees it."""
    _require_superuser(actor)
    key = keys.generate_key()
    _set_key(client, key)
    client.is_active = True
    client.revoked_at = None
    client.full_clean()
    client.save()
    return key


@transaction.atomic
def open311_client_rotate(*, actor, client: Open311Client) -> str:
    """Replace the app's key; the old one stops working at once. Returns the new key."""
    _require_superuser(actor)
    client = Open311Client.objects.select_for_update().get(pk=client.pk)
    key = keys.generate_key()
    _set_key(client, key)
    client.save(update_fields=["key_hash", "key_prefix", "updated_at"])
    return key


@transaction.atomic
def open311_client_update(*, actor, client: Open311Client) -> Open311Client:
    """Save an app as edited (name, contact, state); switching it off revokes its key. The key
    itself never comes from a form."""
    _require_superuser(actor)
    stored = Open311Client.objects.select_for_update().get(pk=client.pk)
    client.key_hash, client.key_prefix = stored.key_hash, stored.key_prefix
    if client.is_active != stored.is_active:
        client.revoked_at = None if client.is_active else timezone.now()
    client.full_clean()
    client.save()
    return client


@transaction.atomic
def open311_client_set_active(*, actor, client: Open311Client, active: bool) -> Open311Client:
    """Revoke the app's key (``active=False``) or restore it."""
    _require_superuser(actor)
    client = Open311Client.objects.select_for_update().get(pk=client.pk)
    if client.is_active == active:
        return client
    client.is_active = active
    client.revoked_at = None if active else timezone.now()
    client.save(update_fields=["is_active", "revoked_at", "updated_at"])
    return client


def _title(service: Service, description: str) -> str:
    """The service's name, then the start of the description: what a handler scans for."""
    first_line = description.split("\n", 1)[0].strip()
    title = f"{service.name_zh}：{first_line}" if first_line else service.name_zh
    if len(title) > TITLE_LENGTH:
        title = title[: TITLE_LENGTH - 1].rstrip() + "…"
    return title


def _description(description: str, attributes: list[ServiceAttribute], answers: dict) -> str:
    """The report as handlers read it: the citizen's words, then the attributes' answers."""
    parts = [description or gettext("（通过 Open311 应用报告，未填写描述。）")]
    lines = []
    for attribute in attributes:
        if attribute.code not in answers:
            continue
        answer = answers[attribute.code]
        if attribute.datatype in ServiceAttribute.LIST_DATATYPES:
            chosen = answer if isinstance(answer, list) else [answer]
            answer = "、".join(attribute.value_name(key) for key in chosen)
        lines.append(f"- {attribute.description_zh}：{answer}")
    if lines:
        parts.append(gettext("附加信息：") + "\n" + "\n".join(lines))
    return "\n\n".join(parts)


@transaction.atomic
def open311_request_submit(
    *,
    client: Open311Client,
    service: Service,
    attributes: list[ServiceAttribute],
    station: Station | None,
    submission: Submission,
    at: dt.datetime | None = None,
) -> Open311Request:
    """Open the case an app reports for an anonymous citizen, and keep the submission's
    extras beside it. Raises ``ValidationError`` (nothing written) when the case is refused."""
    at = at or timezone.now()
    # Stored text is in the site's language, whatever the app asked for.
    with override(settings.LANGUAGE_CODE):
        title = _title(service, submission.description)
        description = _description(submission.description, attributes, submission.attributes)
    if len(description) > DESCRIPTION_LENGTH:
        raise ValidationError(
            f"description and the answers to the attributes are longer than "
            f"{DESCRIPTION_LENGTH} characters together"
        )
    case = case_open(
        actor=None,
        source=Source.OPEN311,
        title=title,
        description=description,
        service=service,
        station=station,
        latitude=submission.latitude,
        longitude=submission.longitude,
        address=submission.address_string,
        contact_name=submission.contact_name,
        contact_phone=submission.phone,
        contact_email=submission.email,
        opened_at=at,
    )
    sidecar = Open311Request(
        case=case,
        client=client,
        attributes=submission.attributes,
        address_id=submission.address_id,
        media_url=submission.media_url,
        device_id=submission.device_id,
        account_id=submission.account_id,
        created_at=at,
    )
    sidecar.full_clean(exclude=["case", "client"], validate_unique=False)
    sidecar.save()
    Open311Client.objects.filter(pk=client.pk).update(last_used_at=at)
    return sidecar
