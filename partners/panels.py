"""The pledges panel on the core's proposal and case pages (``governance.core.panels``).

Registered from ``PartnersConfig.ready`` for both pages. It lists the pledges the reader may
see (``queries.pledges_to``: live pledges to public proposals and cases for everyone, all of
them for both sides), one query for any number of proposals or cases; the API gives each as
:class:`PledgePanelSerializer`; a delivery becomes a step of the proposal's timeline
("<partner> delivered <resource × quantity>"). A partner's acting members get a link to
pledge to a proposal or case that takes pledges; the acting members of the organisation
responsible for it get, on each open pledge, a link to the pledge's page to accept it or
confirm its delivery.
"""

from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers

from governance.cases.models import OPEN_STATUSES as CASE_OPEN_STATUSES
from governance.core.panels import Link, Panel, TimelineEntry, register_panel
from governance.proposals.models import Proposal
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import organisation_ids
from partners import queries
from partners.models import Pledge, Unit
from partners.rules import ACTING_ROLES, acts_for, is_partner_seat
from partners.services import PLEDGEABLE_PROPOSALS

OPEN = (Pledge.Status.OFFERED, Pledge.Status.ACCEPTED)


def _url(name: str, *args, query: str = "") -> str | None:
    """The URL, or None while the page that serves it does not exist."""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return None
    return f"{url}?{query}" if query else url


def amount(pledge: Pledge) -> str:
    """ "大屏 × 2 台/个", or "5000 元" for money, in the active language."""
    quantity = f"{pledge.quantity.normalize():f} {pledge.get_unit_display()}"
    if pledge.resource_id:
        return f"{pledge.resource.name} × {quantity}"
    return quantity


# The panel's four parts ---------------------------------------------------------------------
def load_pledges(user, page: str, objects) -> dict[int, list[Pledge]]:
    """The pledges ``user`` may see on these proposals (or cases), oldest first, each with
    ``amount`` (its words) and ``link`` (the pledge page's ``Link`` for those who may act on
    it, else None). One query, whatever the number of objects and pledges."""
    ids = [obj.pk for obj in objects]
    if page == "proposal":
        found = queries.pledges_to(user, proposal_ids=ids)
    else:
        found = queries.pledges_to(user, case_ids=ids)
    by_object = {}
    for (_kind, pk), pledges in found.items():
        for pledge in pledges:
            pledge.amount = amount(pledge)
            pledge.link = _pledge_link(user, pledge)
        by_object[pk] = pledges
    return by_object


def _pledge_link(user, pledge: Pledge) -> Link | None:
    """The pledge's page, for whoever may act on it there: the responsible organisation's
    acting members while it is open (to accept or decline it, then confirm its delivery), and
    the partner's members (to follow or withdraw it)."""
    target = pledge.target
    if pledge.status in OPEN and acts_for(user, getattr(target, "responsible_id", None)):
        label = _("接受或谢绝") if pledge.status == Pledge.Status.OFFERED else _("确认兑现")
    elif is_partner_seat(user, pledge):
        label = _("查看承诺")
    else:
        return None
    url = _url("partners:pledge", pledge.pk)
    return Link(label, url) if url else None


class PledgePanelSerializer(serializers.Serializer):
    """A pledge as the proposal and case APIs list it under ``panels.pledges``."""

    id = serializers.IntegerField(read_only=True)
    partner = serializers.CharField(source="partner.name", read_only=True)
    resource = serializers.CharField(
        source="resource.name",
        read_only=True,
        allow_null=True,
        help_text=gettext_lazy("承诺的资源；承诺资金时为 null。"),
    )
    url = serializers.SerializerMethodField(
        help_text=gettext_lazy("这项承诺在伙伴 API 中的地址（接受、兑现等操作）。")
    )
    funding = serializers.SerializerMethodField(help_text=gettext_lazy("是否承诺资金。"))
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    unit = serializers.ChoiceField(choices=Unit.choices, read_only=True)
    unit_label = serializers.CharField(source="get_unit_display", read_only=True)
    note = serializers.CharField(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    status = serializers.ChoiceField(choices=Pledge.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    offered_at = serializers.DateTimeField(source="created_at", read_only=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_url(self, pledge: Pledge) -> str | None:
        path = _url("api:partner-pledge-detail", pledge.pk)
        request = self.context.get("request")
        if path is None or request is None:
            return path
        return request.build_absolute_uri(path)

    def get_funding(self, pledge: Pledge) -> bool:
        return pledge.resource_id is None


def serialize_pledge(pledge: Pledge, request) -> dict:
    return PledgePanelSerializer(pledge, context={"request": request}).data


def pledge_timeline(pledge: Pledge) -> list[TimelineEntry]:
    """A delivered pledge is a step of the implementation, on the day it was delivered."""
    if pledge.status != Pledge.Status.DELIVERED or pledge.delivered_at is None:
        return []
    text = _("%(partner)s 兑现了 %(amount)s") % {
        "partner": pledge.partner.name,
        "amount": getattr(pledge, "amount", None) or amount(pledge),
    }
    return [TimelineEntry(at=pledge.delivered_at, kind="delivered", text=text)]


def pledge_actions(user, obj) -> list[Link]:
    """ "承诺资源" for a partner's acting members, on a proposal or case that takes pledges
    (read from the user's seats, kept on the user object: no query)."""
    if not organisation_ids(user, kind=Organisation.Kind.PARTNER, roles=ACTING_ROLES):
        return []
    if getattr(obj, "responsible_id", None) is None:
        return []
    if isinstance(obj, Proposal):
        takes, param = obj.status in PLEDGEABLE_PROPOSALS, "proposal"
    else:
        takes, param = obj.status in CASE_OPEN_STATUSES, "case"
    if not takes:
        return []
    url = _url("partners:pledge_new", query=f"{param}={obj.pk}")
    return [Link(_("承诺资源"), url)] if url else []


def register_panels() -> None:
    for page in ("proposal", "case"):
        register_panel(
            page,
            Panel(
                key="pledges",
                title=gettext_lazy("资源承诺"),
                template="partners/panels/pledges.html",
                load=load_pledges,
                serialize=serialize_pledge,
                timeline=pledge_timeline,
                actions=pledge_actions,
                order=50,
            ),
        )
