"""Writes with business meaning for cases.

Every function checks the actor's permission (``governance.cases.rules``), locks the case row
where two people could act at once, writes a timeline entry in the same transaction and
publishes its event there too, so a rolled-back change leaves no trace and tells no one.
Refusals are ``PermissionDenied``; bad input is ``ValidationError`` with a message for people.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils.translation import gettext, override
from django.utils.translation import gettext_lazy as _

from governance.cases import attachments, metrics, sla
from governance.cases.events import (
    CaseAssigned,
    CaseCoHandlerAdded,
    CaseOpened,
    CaseReplied,
    CaseRouted,
    CaseStatusChanged,
)
from governance.cases.models import (
    Attachment,
    Case,
    CaseSequence,
    Category,
    CoHandler,
    Follower,
    OpenSpell,
    Priority,
    Source,
    Status,
    TimelineEntry,
)
from governance.cases.queries import users_who_may_see
from governance.cases.routing import Route, route, triage_slug
from governance.cases.rules import is_reporter, signed_in
from governance.cases.signals import case_status_changed
from governance.core import clock
from governance.kpis.registry import TZ, day_range, local_day
from governance.kpis.services import kpis_mark_dirty
from governance.notifications.services import publish
from governance.stakeholders.models import Organisation, User
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids
from governance.stations.models import Service, Station

DEFAULT_REFERENCE_PREFIX = "CH"

# The state machine: from each status, the statuses a case may move to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Status.NEW: (Status.ACKNOWLEDGED, Status.REJECTED, Status.DUPLICATE),
    Status.ACKNOWLEDGED: (Status.IN_PROGRESS, Status.RESOLVED, Status.REJECTED, Status.DUPLICATE),
    Status.IN_PROGRESS: (Status.RESOLVED, Status.REJECTED, Status.DUPLICATE),
    Status.RESOLVED: (Status.CLOSED, Status.REOPENED),
    Status.CLOSED: (Status.REOPENED,),
    Status.REOPENED: (Status.IN_PROGRESS, Status.RESOLVED),
    Status.REJECTED: (),
    Status.DUPLICATE: (),
}
# While a case waits in the triage queue it can only be routed, rejected or marked a duplicate.
NEEDS_RESPONSIBLE = frozenset({Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED})
# Statuses that take a case out of the backlog: they end its open spell.
LEAVES_BACKLOG = frozenset({Status.RESOLVED, Status.REJECTED, Status.DUPLICATE})
# Sources the platform itself may open cases from (the feedback and proposals wings).
SYSTEM_SOURCES = frozenset({Source.FEEDBACK, Source.PROPOSAL})
# A case's relations the services load and check themselves (active, visible, a seat): model
# validation need not look each one up again, and the foreign keys still hold in the database.
RESOLVED_RELATIONS = frozenset(
    {
        "service",
        "category",
        "station",
        "reporter",
        "responsible",
        "assignee",
        "routed_by",
        "sla_policy",
        "duplicate_of",
    }
)
CASE_FIELDS = frozenset(field.name for field in Case._meta.concrete_fields)


def _now() -> dt.datetime:
    return clock.now()


def _user(actor) -> User | None:
    """The actor as a signed-in, active user, or ``None`` (anonymous or the system)."""
    return actor if actor is not None and signed_in(actor) else None


def _validate(instance, *, relations=(), changed=None) -> None:
    """``full_clean`` without the queries: the field validators and ``clean()`` give people
    their messages, while foreign keys the service already resolved, uniqueness and the check
    constraints (which ``clean()`` mirrors) are left to the database. ``changed`` limits the
    field checks to what an update touched."""
    exclude = set(relations)
    if changed is not None:
        exclude |= {field.name for field in instance._meta.concrete_fields} - set(changed)
    instance.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)


def _days_since(moment: dt.datetime) -> list[dt.date]:
    """The days from ``moment``'s to today: a case's backlog changes on each of them."""
    first, today = local_day(moment), local_day(_now())
    return day_range(first, max(first, today))


def _mark_dirty(metric_list, days) -> None:
    """Have the KPI rollup recompute ``days`` of the cases metrics a write changed."""
    kpis_mark_dirty(metric_codes=[metric.code for metric in metric_list], days=days)


# The metrics that count a case by the day of its first resolution.
FIRST_RESOLUTION_METRICS = (
    metrics.RESOLVED_ON_TIME,
    metrics.RESOLUTION_MEDIAN,
    metrics.REOPEN_RATE,
)


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Event payloads carry local times: the templates print them as they are."""
    return moment.astimezone(TZ) if moment else None


def _require(actor, permission: str, case: Case, message) -> None:
    if actor is None or not actor.has_perm(permission, case):
        raise PermissionDenied(message)


def _lock(case: Case) -> Case:
    """The case re-read under a row lock, with its co-handlers for the permission checks."""
    return Case.objects.select_for_update().prefetch_related("cohandlers").get(pk=case.pk)


def _record(
    case: Case,
    kind: str,
    *,
    actor,
    is_public: bool,
    body: str = "",
    data: dict | None = None,
    at: dt.datetime | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        case=case,
        kind=kind,
        actor=_user(actor),
        is_public=is_public,
        body=body,
        data=data or {},
        created_at=at or _now(),
    )
    _validate(entry, relations=("case", "actor"))
    entry.save()
    return entry


def next_reference(*, at: dt.datetime) -> str:
    """The next reference of the year (Asia/Shanghai), e.g. ``CH-2026-000123``.

    One counter row per prefix and year, created or bumped by one statement
    (``INSERT … ON CONFLICT DO UPDATE SET last = last + 1 RETURNING last``, which PostgreSQL
    and SQLite 3.35+ both speak). The row stays locked until the caller's transaction ends, so
    concurrent cases queue for the next number instead of drawing the same one; callers draw
    it as late as they can (see ``CaseSequence``).
    """
    prefix = getattr(settings, "CASES_REFERENCE_PREFIX", DEFAULT_REFERENCE_PREFIX)
    year = at.astimezone(TZ).year
    table = connection.ops.quote_name(CaseSequence._meta.db_table)
    sql = (
        f"INSERT INTO {table} (prefix, year, last) VALUES (%s, %s, 1) "  # noqa: S608
        f"ON CONFLICT (prefix, year) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix, year])
        (number,) = cursor.fetchone()
    return f"{prefix}-{year}-{number:06d}"


def triage_organisation() -> Organisation | None:
    return Organisation.objects.filter(slug=triage_slug(), is_active=True).first()


def _check_source(actor: User | None, source: str, *, system: bool) -> None:
    """Who may open a case from which source: anyone (signed in or not) for citizens' reports
    and Open311; acting staff for staff entries; partner members for partner reports; staff or
    the platform itself (``system``, e.g. a bad rating's rectification) for feedback and
    proposals. Nobody is the system by accident: an anonymous caller is an anonymous citizen."""
    if source not in Source.values:
        raise ValidationError({"source": _("未知的事项来源。")})
    if source == Source.STAFF and not (
        actor and (actor.is_superuser or organisation_ids(actor, roles=ACTING_ROLES))
    ):
        raise PermissionDenied(_("只有组织的工作人员才能登记工作人员来源的事项。"))
    if source == Source.PARTNER and not (
        actor and (actor.is_superuser or organisation_ids(actor, kind=Organisation.Kind.PARTNER))
    ):
        raise PermissionDenied(_("只有企业伙伴的成员才能提交合作伙伴来源的事项。"))
    if (
        source in SYSTEM_SOURCES
        and not system
        and not (actor and (actor.is_superuser or organisation_ids(actor, roles=ACTING_ROLES)))
    ):
        raise PermissionDenied(_("评价整改和建议落实事项由工作人员或系统开立。"))


def _status_label(status: str) -> str:
    return str(Status(status).label)


def _cohandler_task(rule) -> str:
    if rule.cohandler_task_zh:
        return rule.cohandler_task_zh
    with override(settings.LANGUAGE_CODE):
        return gettext("协助责任单位办理此事项。")


@transaction.atomic
def case_open(
    *,
    actor,
    title: str,
    description: str,
    source: str = Source.CITIZEN,
    service: Service | None = None,
    category: Category | None = None,
    station: Station | None = None,
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    address: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    priority: str = Priority.NORMAL,
    is_public: bool = True,
    opened_at: dt.datetime | None = None,
    system: bool = False,
    uploads: Sequence = (),
    acknowledge_due_at: dt.datetime | None = None,
    resolve_due_at: dt.datetime | None = None,
    responsible: Organisation | None = None,
) -> Case:
    """Open a case: number it, route it, start its SLA clocks, tell the people who handle it.

    ``actor`` is the reporter when signed in; an anonymous report (``None`` or an anonymous
    user) may leave contact details, which only the handling organisations' staff will see.
    ``system=True`` says the platform opens it (the feedback and proposals wings), which only
    they may claim. The reporter follows their case from the start.

    ``acknowledge_due_at`` and ``resolve_due_at`` replace the SLA policy's deadlines, and
    ``responsible`` the routing rules; only the platform (``system``) sets them, for cases that
    another rule places and times (a bad rating's rectification goes to the organisation that
    handled the visit, due in that organisation's own number of working days).

    ``uploads`` are the report's photos or PDFs (at most ``attachments.MAX_PER_CASE``): all
    are checked before anything is written, so a bad file refuses the whole report, and they
    are kept private (see :func:`case_attach`).
    """
    reporter = _user(actor)
    _check_source(reporter, source, system=system)
    if service is not None and not (service.is_active and service.department.is_active):
        raise ValidationError({"service": _("该服务事项已停用。")})
    if category is not None and not category.is_active:
        raise ValidationError({"category": _("该事项类别已停用。")})
    if station is not None and not station.is_active:
        raise ValidationError({"station": _("该站点已停用。")})
    if priority not in Priority.values:
        raise ValidationError({"priority": _("未知的优先级。")})
    if len(uploads) > attachments.MAX_PER_CASE:
        raise ValidationError(
            {
                "attachments": ValidationError(
                    _("每个事项最多 %(count)d 个附件。"),
                    code="too_many",
                    params={"count": attachments.MAX_PER_CASE},
                )
            }
        )
    if (acknowledge_due_at or resolve_due_at or responsible) and not system:
        raise PermissionDenied(_("只有系统开立的事项才能指定时限或负责单位。"))
    if responsible is not None and not responsible.is_active:
        raise ValidationError({"responsible": _("该组织已停用。")})
    checked_uploads = [(attachments.check(upload), upload) for upload in uploads]
    opened_at = opened_at or _now()
    found = (
        Route()
        if responsible is not None
        else route(
            service_id=service.pk if service else None,
            category_id=category.pk if category else None,
            station_id=station.pk if station else None,
        )
    )
    case = Case(
        title=title.strip(),
        description=description.strip(),
        source=source,
        service=service,
        category=category,
        station=station,
        latitude=latitude,
        longitude=longitude,
        address=address.strip(),
        reporter=reporter,
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
        priority=priority,
        is_public=is_public,
        responsible_id=responsible.pk if responsible is not None else found.responsible_id,
        routing=(
            Case.Routing.DIRECT
            if responsible is not None
            else Case.Routing.RULE
            if found.rule
            else Case.Routing.TRIAGE
        ),
        routed_by=found.rule,
        routed_by_name=found.rule.name_zh if found.rule else "",
        created_at=opened_at,
        status_changed_at=opened_at,
        reference="-",
    )
    # Check the input before drawing a number, so a refused report costs no reference.
    _validate(case, relations=RESOLVED_RELATIONS | {"reference"})
    clock = sla.clock_for(
        opened_at=opened_at,
        service_id=case.service_id,
        category_id=case.category_id,
        priority=priority,
    )
    case.sla_policy_id = clock.policy_id
    case.acknowledge_due_at = acknowledge_due_at or clock.acknowledge_due_at
    case.resolve_due_at = resolve_due_at or clock.resolve_due_at
    case.due_estimated = clock.estimated
    triage = None if case.responsible_id else triage_organisation()
    task = _cohandler_task(found.rule) if found.cohandler_ids else ""
    # Every read is done: the counter row stays locked from here to the commit.
    case.reference = next_reference(at=opened_at)
    case.save()

    OpenSpell.objects.create(case=case, opened_at=opened_at)
    _record(
        case,
        TimelineEntry.Kind.OPENED,
        actor=actor,
        is_public=True,
        data={"source": source, "priority": priority},
        at=opened_at,
    )
    if found.rule:
        _record(
            case,
            TimelineEntry.Kind.ROUTED,
            actor=None,
            is_public=False,
            data={
                "routing": Case.Routing.RULE,
                "rule_id": found.rule.pk,
                "rule_name": found.rule.name_zh,
                "responsible_id": found.responsible_id,
                "cohandler_ids": list(found.cohandler_ids),
                "acknowledge_due_at": case.acknowledge_due_at.isoformat(),
                "resolve_due_at": case.resolve_due_at.isoformat(),
            },
            at=opened_at,
        )
    elif responsible is not None:
        _record(
            case,
            TimelineEntry.Kind.ROUTED,
            actor=None,
            is_public=False,
            data={
                "routing": Case.Routing.DIRECT,
                "responsible_id": responsible.pk,
                "acknowledge_due_at": case.acknowledge_due_at.isoformat(),
                "resolve_due_at": case.resolve_due_at.isoformat(),
            },
            at=opened_at,
        )
    else:
        _record(
            case,
            TimelineEntry.Kind.ROUTED,
            actor=None,
            is_public=False,
            data={"routing": Case.Routing.TRIAGE},
            at=opened_at,
        )
    if reporter is not None:
        Follower.objects.create(case=case, user=reporter, created_at=opened_at)
    for checked, upload in checked_uploads:
        _store_attachment(case, checked, upload, actor=actor, is_public=False, at=opened_at)
    for organisation_id in found.cohandler_ids:
        cohandler = CoHandler(case=case, organisation_id=organisation_id, task=task)
        _validate(cohandler, relations=("case", "organisation", "assignee"))
        cohandler.save()
        _record(
            case,
            TimelineEntry.Kind.COHANDLER,
            actor=None,
            is_public=False,
            body=cohandler.task,
            data={"organisation_id": organisation_id, "rule_id": found.rule.pk},
            at=opened_at,
        )
        publish(_cohandler_event(case, cohandler), actor=actor)
    _mark_dirty([metrics.BACKLOG], _days_since(opened_at))
    publish(
        CaseOpened(
            case_id=case.pk,
            reference=case.reference,
            title=case.title,
            responsible_id=case.responsible_id,
            triage_organisation_id=triage.pk if triage else None,
            priority=priority,
            acknowledge_due_at=_local(case.acknowledge_due_at),
        ),
        actor=actor,
    )
    return case


def _cohandler_event(case: Case, cohandler: CoHandler) -> CaseCoHandlerAdded:
    return CaseCoHandlerAdded(
        case_id=case.pk,
        reference=case.reference,
        title=case.title,
        organisation_id=cohandler.organisation_id,
        task=cohandler.task,
        due_at=_local(cohandler.due_at),
    )


def allowed_transitions(case: Case) -> tuple[str, ...]:
    return TRANSITIONS[case.status]


def _refuse_transition(case: Case, to: str) -> ValidationError:
    allowed = allowed_transitions(case)
    if not allowed:
        return ValidationError(
            _("事项处于“%(current)s”状态，已经办结，不能再变更状态。"),
            code="final_status",
            params={"current": _status_label(case.status)},
        )
    return ValidationError(
        _("事项不能从“%(current)s”变为“%(target)s”；可以变为：%(allowed)s。"),
        code="invalid_transition",
        params={
            "current": _status_label(case.status),
            "target": _status_label(to) if to in Status.values else to,
            "allowed": "、".join(_status_label(status) for status in allowed),
        },
    )


def _check_transition_permission(actor, case: Case, to: str) -> None:
    if to == Status.REOPENED:
        _require(
            actor,
            "cases.reopen_case",
            case,
            _("只有办理单位，或在解决后 7 天内的报告人，才能重开事项。"),
        )
    elif to == Status.CLOSED and actor is not None and is_reporter(actor, case):
        return
    else:
        _require(actor, "cases.handle_case", case, _("只有办理单位的工作人员才能变更事项状态。"))


def transitions_for(actor, case: Case) -> list[str]:
    """The statuses ``actor`` may move ``case`` to now: the lifecycle's next steps, less those
    the actor may not take (a reporter may only close a resolved case or reopen it within the
    window) and, while the case waits in triage, those that need a responsible organisation.
    ``case_transition`` checks the same again."""
    user = _user(actor)
    if user is None:
        return []
    allowed = []
    for target in allowed_transitions(case):
        if target in NEEDS_RESPONSIBLE and case.responsible_id is None:
            continue
        try:
            _check_transition_permission(user, case, target)
        except PermissionDenied:
            continue
        allowed.append(target)
    return allowed


@transaction.atomic
def case_transition(
    *,
    actor,
    case: Case,
    to: str,
    reason: str = "",
    duplicate_of: Case | None = None,
    at: dt.datetime | None = None,
) -> Case:
    """Move the case to status ``to``, the one way status changes.

    - rejected needs a ``reason`` (shown to the reporter);
    - duplicate needs ``duplicate_of``, the original; the duplicate's followers move over to it;
    - reopened: by the handlers at any time, by the reporter within ``CASES_REOPEN_DAYS`` days
      of resolution; the resolution clock starts again;
    - acknowledging and the first resolution record whether they were on time.
    """
    case = _lock(case)
    actor = _user(actor)
    if to not in allowed_transitions(case):
        raise _refuse_transition(case, to)
    _check_transition_permission(actor, case, to)
    if to in NEEDS_RESPONSIBLE and case.responsible_id is None:
        raise ValidationError(
            _("事项还在分拨队列中：请先分派给责任单位，或不予受理、标记为重复。"),
            code="in_triage",
        )
    at = at or _now()
    if at < case.created_at:
        raise ValidationError(_("状态变更时间不能早于事项提交时间。"), code="before_opened")
    if at < case.status_changed_at:
        # History is told in order: the backlog's spells and the timeline would contradict.
        raise ValidationError(
            _("状态变更时间不能早于上一次状态变更（%(previous)s）。"),
            code="before_last_change",
            params={"previous": f"{case.status_changed_at.astimezone(TZ):%Y-%m-%d %H:%M}"},
        )
    reason = reason.strip()
    old = case.status
    fields = ["status", "status_changed_at", "updated_at"]
    data: dict = {"from": old, "to": to}

    if to == Status.ACKNOWLEDGED:
        case.acknowledged_at = at
        case.acknowledged_on_time = case.acknowledge_due_at is None or at <= case.acknowledge_due_at
        data["on_time"] = case.acknowledged_on_time
        fields += ["acknowledged_at", "acknowledged_on_time"]
        _mark_dirty([metrics.ACKNOWLEDGED_ON_TIME], [local_day(at)])
    elif to == Status.RESOLVED:
        on_time = case.resolve_due_at is None or at <= case.resolve_due_at
        case.resolved_at = at
        fields += ["resolved_at"]
        if case.first_resolved_at is None:
            # The KPIs judge the first resolution; a reopened case does not get a second try.
            case.first_resolved_at = at
            case.resolved_on_time = on_time
            fields += ["first_resolved_at", "resolved_on_time"]
            _mark_dirty(FIRST_RESOLUTION_METRICS, [local_day(at)])
        data["on_time"] = on_time
    elif to == Status.CLOSED:
        case.closed_at = at
        fields += ["closed_at"]
    elif to == Status.REJECTED:
        if not reason:
            raise ValidationError({"reason": _("不予受理必须说明理由。")}, code="reason_required")
        case.rejection_reason = reason
        fields += ["rejection_reason"]
    elif to == Status.DUPLICATE:
        original = _check_original(actor, case, duplicate_of)
        case.duplicate_of = original
        fields += ["duplicate_of"]
        data["duplicate_of"] = original.reference
    elif to == Status.REOPENED:
        clock = sla.clock_for(
            opened_at=at,
            service_id=case.service_id,
            category_id=case.category_id,
            priority=case.priority,
        )
        data["previous_resolved_at"] = case.resolved_at.isoformat() if case.resolved_at else None
        case.reopen_count += 1
        case.resolved_at = None
        case.closed_at = None
        case.resolve_due_at = clock.resolve_due_at
        case.due_estimated = case.due_estimated or clock.estimated
        data["resolve_due_at"] = clock.resolve_due_at.isoformat()
        fields += [
            "reopen_count",
            "resolved_at",
            "closed_at",
            "resolve_due_at",
            "due_estimated",
        ]
        # The reopen rate counts by the day of the first resolution.
        _mark_dirty([metrics.REOPEN_RATE], [local_day(case.first_resolved_at)])
        # A new spell in the backlog: the days before it keep what they counted.
        OpenSpell.objects.create(case=case, opened_at=at)
        _mark_dirty([metrics.BACKLOG], _days_since(at))
    if to in LEAVES_BACKLOG:
        OpenSpell.objects.filter(case=case, ended_at__isnull=True).update(ended_at=at)
        _mark_dirty([metrics.BACKLOG], _days_since(at))

    case.status = to
    case.status_changed_at = at
    _validate(case, relations=RESOLVED_RELATIONS, changed=fields)
    case.save(update_fields=fields)
    _record(
        case,
        TimelineEntry.Kind.STATUS,
        actor=actor,
        is_public=True,
        body=reason,
        data=data,
        at=at,
    )
    publish(
        CaseStatusChanged(
            case_id=case.pk,
            reference=case.reference,
            title=case.title,
            old_status=old,
            new_status=to,
            reason=reason,
            duplicate_of_reference=case.duplicate_of.reference if case.duplicate_of_id else "",
        ),
        actor=actor,
    )
    if to == Status.DUPLICATE:
        _move_followers(case, case.duplicate_of)
    case_status_changed.send(sender=Case, case=case, old=old, new=to, actor=actor, at=at)
    return case


def _check_original(actor, case: Case, original: Case | None) -> Case:
    if original is None:
        raise ValidationError(
            {"duplicate_of": _("标记为重复时必须指明原事项。")}, code="original_required"
        )
    if original.pk == case.pk:
        raise ValidationError({"duplicate_of": _("事项不能与自身重复。")}, code="self_duplicate")
    original = Case.objects.prefetch_related("cohandlers").get(pk=original.pk)
    if original.status == Status.DUPLICATE:
        raise ValidationError(
            {
                "duplicate_of": _("%(reference)s 本身是重复事项，请指向它的原事项 %(original)s。")
                % {"reference": original.reference, "original": original.duplicate_of.reference}
            },
            code="original_is_duplicate",
        )
    if actor is None or not actor.has_perm("cases.view_case", original):
        raise PermissionDenied(_("你无权查看所指的原事项。"))
    return original


def _move_followers(duplicate: Case, original: Case) -> None:
    """The duplicate's followers follow the original instead; on a private original, only
    those who may see it (the others simply stop following). The visibility test is the same
    SQL filter the notifications use, so moving costs three queries whatever the followers."""
    movers = Follower.objects.filter(
        case=duplicate, user__in=users_who_may_see(original)
    ).values_list("user_id", flat=True)
    Follower.objects.bulk_create(
        [Follower(case=original, user_id=user_id) for user_id in movers],
        ignore_conflicts=True,
    )
    Follower.objects.filter(case=duplicate).delete()


def _acting_member(user: User | None, organisation_id: int | None) -> bool:
    return (
        user is not None
        and user.is_active
        and organisation_id is not None
        and user.memberships.filter(
            organisation_id=organisation_id,
            organisation__is_active=True,
            role__in=ACTING_ROLES,
        ).exists()
    )


@transaction.atomic
def case_route(*, actor, case: Case, responsible: Organisation, note: str = "") -> Case:
    """Hand the case to ``responsible``: the triage role empties the queue this way, and a
    responsible organisation passes on a case that is not its own. The assignee is cleared."""
    case = _lock(case)
    _require(actor, "cases.handle_case", case, _("只有分拨人员或办理单位才能分派事项。"))
    if not case.is_open:
        raise ValidationError(_("已办结的事项不能再分派。"), code="not_open")
    if not responsible.is_active:
        raise ValidationError({"responsible": _("该组织已停用。")})
    if responsible.pk == case.responsible_id:
        raise ValidationError({"responsible": _("事项已由该组织负责。")})
    if case.cohandlers.filter(organisation=responsible).exists():
        raise ValidationError({"responsible": _("该组织已是协办单位。")})
    previous = case.responsible_id
    case.responsible = responsible
    case.assignee = None
    case.routing = Case.Routing.MANUAL
    case.routed_by = None
    case.routed_by_name = ""
    fields = ["responsible", "assignee", "routing", "routed_by", "routed_by_name", "updated_at"]
    _validate(case, relations=RESOLVED_RELATIONS, changed=fields)
    case.save(update_fields=fields)
    # The case's department or partner changes in every figure it is part of.
    _mark_dirty([metrics.BACKLOG], _days_since(case.created_at))
    if case.acknowledged_at is not None:
        _mark_dirty([metrics.ACKNOWLEDGED_ON_TIME], [local_day(case.acknowledged_at)])
    if case.first_resolved_at is not None:
        _mark_dirty(FIRST_RESOLUTION_METRICS, [local_day(case.first_resolved_at)])
    _record(
        case,
        TimelineEntry.Kind.ROUTED,
        actor=actor,
        is_public=False,
        body=note.strip(),
        data={"routing": Case.Routing.MANUAL, "from": previous, "responsible_id": responsible.pk},
    )
    publish(
        CaseRouted(
            case_id=case.pk,
            reference=case.reference,
            title=case.title,
            responsible_id=responsible.pk,
            previous_responsible_id=previous,
            priority=case.priority,
            acknowledge_due_at=_local(case.acknowledge_due_at),
        ),
        actor=actor,
    )
    return case


@transaction.atomic
def case_assign(*, actor, case: Case, assignee: User | None) -> Case:
    """Name the person who handles the case (an acting member of the responsible organisation),
    or nobody."""
    case = _lock(case)
    _require(actor, "cases.handle_case", case, _("只有办理单位的工作人员才能指定经办人。"))
    if not case.is_open:
        raise ValidationError(_("已办结的事项不能再指定经办人。"), code="not_open")
    if assignee is not None and not _acting_member(assignee, case.responsible_id):
        raise ValidationError({"assignee": _("经办人必须是责任单位的工作人员。")})
    if (assignee.pk if assignee else None) == case.assignee_id:
        return case
    previous = case.assignee_id
    case.assignee = assignee
    case.save(update_fields=["assignee", "updated_at"])
    _record(
        case,
        TimelineEntry.Kind.ASSIGNED,
        actor=actor,
        is_public=False,
        data={"from": previous, "to": assignee.pk if assignee else None},
    )
    if assignee is not None:
        publish(_assigned_event(case, assignee, case.resolve_due_at), actor=actor)
    return case


class BatchRefused(Exception):
    """A batch stopped at ``reference`` for ``reason``; nothing of it was written."""

    def __init__(self, reference: str, reason: str):
        super().__init__(f"{reference}: {reason}")
        self.reference = reference
        self.reason = reason


@transaction.atomic
def cases_assign(*, actor, cases, assignee: User | None) -> int:
    """Assign every one of ``cases`` or none (the work queue's bulk assignment): the first
    refusal rolls the batch back and raises :class:`BatchRefused` naming that case."""
    count = 0
    for case in cases:
        try:
            case_assign(actor=actor, case=case, assignee=assignee)
        except ValidationError as error:
            raise BatchRefused(case.reference, "；".join(error.messages)) from error
        except PermissionDenied as error:
            raise BatchRefused(case.reference, str(error)) from error
        count += 1
    return count


def _assigned_event(case: Case, assignee: User, due_at: dt.datetime | None) -> CaseAssigned:
    """The case's or a co-handling task's assignee is told, with the deadline that is theirs."""
    return CaseAssigned(
        case_id=case.pk,
        reference=case.reference,
        title=case.title,
        assignee_id=assignee.pk,
        resolve_due_at=_local(due_at),
    )


@transaction.atomic
def case_add_cohandler(
    *,
    actor,
    case: Case,
    organisation: Organisation,
    task: str,
    assignee: User | None = None,
    due_at: dt.datetime | None = None,
) -> CoHandler:
    """Share the case with ``organisation``, which gets its own task, assignee and due date."""
    case = _lock(case)
    _require(actor, "cases.handle_case", case, _("只有办理单位的工作人员才能增加协办单位。"))
    if not case.is_open:
        raise ValidationError(_("已办结的事项不能再增加协办单位。"), code="not_open")
    if not organisation.is_active:
        raise ValidationError({"organisation": _("该组织已停用。")})
    if case.cohandlers.filter(organisation=organisation).exists():
        raise ValidationError({"organisation": _("该组织已是此事项的协办单位。")})
    if assignee is not None and not _acting_member(assignee, organisation.pk):
        raise ValidationError({"assignee": _("协办经办人必须是协办单位的工作人员。")})
    if due_at is not None and due_at <= _now():
        raise ValidationError({"due_at": _("完成期限必须晚于现在。")})
    cohandler = CoHandler(
        case=case, organisation=organisation, task=task.strip(), assignee=assignee, due_at=due_at
    )
    _validate(cohandler, relations=("case", "organisation", "assignee"))
    cohandler.save()
    _record(
        case,
        TimelineEntry.Kind.COHANDLER,
        actor=actor,
        is_public=False,
        body=cohandler.task,
        data={
            "organisation_id": organisation.pk,
            "assignee_id": assignee.pk if assignee else None,
            "due_at": due_at.isoformat() if due_at else None,
        },
    )
    publish(_cohandler_event(case, cohandler), actor=actor)
    if assignee is not None:
        publish(_assigned_event(case, assignee, due_at), actor=actor)
    return cohandler


def _lock_cohandler(cohandler: CoHandler) -> CoHandler:
    return (
        CoHandler.objects.select_for_update(of=("self",))
        .select_related("case", "organisation")
        .get(pk=cohandler.pk)
    )


@transaction.atomic
def cohandler_assign(
    *,
    actor,
    cohandler: CoHandler,
    assignee: User | None,
    due_at: dt.datetime | None = None,
) -> CoHandler:
    """Name who runs a co-handling task (an acting member of its organisation) and, optionally,
    move its due date; its own organisation or the responsible one may."""
    cohandler = _lock_cohandler(cohandler)
    _require(
        actor,
        "cases.handle_cohandler",
        cohandler,
        _("只有协办单位或责任单位的工作人员才能安排协办任务。"),
    )
    case = cohandler.case
    if not case.is_open or cohandler.state == CoHandler.State.DONE:
        raise ValidationError(_("协办任务已结束，不能再安排。"), code="not_open")
    if assignee is not None and not _acting_member(assignee, cohandler.organisation_id):
        raise ValidationError({"assignee": _("协办经办人必须是协办单位的工作人员。")})
    if due_at is not None and due_at <= _now():
        raise ValidationError({"due_at": _("完成期限必须晚于现在。")})
    fields = ["assignee", "updated_at"]
    data = {
        "organisation_id": cohandler.organisation_id,
        "from": cohandler.assignee_id,
        "to": assignee.pk if assignee else None,
    }
    cohandler.assignee = assignee
    if due_at is not None:
        data["due_at"] = due_at.isoformat()
        cohandler.due_at = due_at
        fields.append("due_at")
    cohandler.save(update_fields=fields)
    _record(case, TimelineEntry.Kind.COHANDLER_TASK, actor=actor, is_public=False, data=data)
    if assignee is not None and assignee.pk != data["from"]:
        publish(_assigned_event(case, assignee, cohandler.due_at), actor=actor)
    return cohandler


@transaction.atomic
def cohandler_complete(*, actor, cohandler: CoHandler, note: str) -> CoHandler:
    """Mark a co-handling task done, saying what was done (an internal line of the case)."""
    cohandler = _lock_cohandler(cohandler)
    _require(
        actor,
        "cases.handle_cohandler",
        cohandler,
        _("只有协办单位或责任单位的工作人员才能完成协办任务。"),
    )
    if cohandler.state == CoHandler.State.DONE:
        raise ValidationError(_("协办任务已经完成。"), code="already_done")
    note = note.strip()
    if not note:
        raise ValidationError({"note": _("请说明完成情况。")}, code="required")
    cohandler.state = CoHandler.State.DONE
    cohandler.done_at = _now()
    cohandler.save(update_fields=["state", "done_at", "updated_at"])
    _record(
        cohandler.case,
        TimelineEntry.Kind.COHANDLER_TASK,
        actor=actor,
        is_public=False,
        body=note,
        data={"organisation_id": cohandler.organisation_id, "state": CoHandler.State.DONE},
    )
    return cohandler


def _text(body: str) -> str:
    body = body.strip()
    if not body:
        raise ValidationError({"body": _("内容不能为空。")}, code="required")
    return body


@transaction.atomic
def case_reply(*, actor, case: Case, body: str) -> TimelineEntry:
    """A public reply: everyone who may see the case reads it, its followers are told."""
    case = Case.objects.prefetch_related("cohandlers").get(pk=case.pk)
    _require(actor, "cases.reply_case", case, _("只有办理单位和协办单位的工作人员才能答复。"))
    entry = _record(case, TimelineEntry.Kind.REPLY, actor=actor, is_public=True, body=_text(body))
    publish(
        CaseReplied(case_id=case.pk, reference=case.reference, title=case.title, body=entry.body),
        actor=actor,
    )
    return entry


@transaction.atomic
def case_note(*, actor, case: Case, body: str, system: bool = False) -> TimelineEntry:
    """An internal note, read only by the organisations on the case. ``system=True`` is the
    platform writing (a wing recording what happened on its side, e.g. a re-rating), with no
    actor and no permission to check; only code, never a request, passes it."""
    case = Case.objects.prefetch_related("cohandlers").get(pk=case.pk)
    if system:
        actor = None
    else:
        _require(
            actor, "cases.note_case", case, _("只有办理单位和协办单位的工作人员才能写内部备注。")
        )
    return _record(case, TimelineEntry.Kind.NOTE, actor=actor, is_public=False, body=_text(body))


CONTACT_CHANNELS = {
    "phone": _("电话"),
    "sms": _("短信"),
    "email": _("电子邮件"),
    "in_person": _("当面"),
}


@transaction.atomic
def case_record_contact(
    *, actor, case: Case, channel: str, body: str, at: dt.datetime | None = None
) -> TimelineEntry:
    """Record a call or message to the reporter (a return visit, 回访): how, when and what was
    said. Internal, like the contact details it used."""
    case = Case.objects.prefetch_related("cohandlers").get(pk=case.pk)
    _require(actor, "cases.view_case_contact", case, _("只有办理单位的工作人员才能记录联系情况。"))
    if _user(actor) is not None and is_reporter(actor, case):
        raise PermissionDenied(_("只有办理单位的工作人员才能记录联系情况。"))
    if channel not in CONTACT_CHANNELS:
        raise ValidationError(
            {
                "channel": ValidationError(
                    _("未知的联系方式；可以是：%(allowed)s。"),
                    params={"allowed": "、".join(CONTACT_CHANNELS)},
                    code="invalid_choice",
                )
            }
        )
    at = at or _now()
    if at < case.created_at or at > _now() + dt.timedelta(minutes=5):
        raise ValidationError({"at": _("联系时间须在事项提交之后、现在之前。")})
    entry = _record(
        case,
        TimelineEntry.Kind.CONTACT,
        actor=actor,
        is_public=False,
        body=_text(body),
        data={"channel": channel},
        at=at,
    )
    # Figures of contacting in time (a wing's return-visit rate) count by the deadline's day.
    if case.acknowledge_due_at is not None:
        kpis_mark_dirty(days=[local_day(case.acknowledge_due_at)])
    return entry


@transaction.atomic
def case_set_due(
    *, actor, case: Case, due_at: dt.datetime, reason: str, deadline: str = "resolve"
) -> Case:
    """Move a deadline (``"resolve"`` or ``"acknowledge"``), always with a reason; the
    reminders follow the new deadline."""
    case = _lock(case)
    _require(actor, "cases.handle_case", case, _("只有办理单位的工作人员才能调整时限。"))
    if deadline not in ("resolve", "acknowledge"):
        raise ValidationError({"deadline": _("未知的时限类型。")})
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("调整时限必须说明理由。")}, code="reason_required")
    if not case.is_open:
        raise ValidationError(_("已办结的事项不能调整时限。"), code="not_open")
    if due_at <= case.created_at:
        raise ValidationError({"due_at": _("时限必须晚于事项提交时间。")})
    if deadline == "acknowledge" and case.acknowledged_at is not None:
        # The verdict "acknowledged on time" was given against the old deadline; moving it now
        # would leave that verdict (and the KPI built on it) telling a different story.
        raise ValidationError(
            {
                "deadline": ValidationError(
                    _("事项已经受理，不能再调整受理时限。"), code="already_acknowledged"
                )
            }
        )
    field = "resolve_due_at" if deadline == "resolve" else "acknowledge_due_at"
    previous = getattr(case, field)
    setattr(case, field, due_at)
    case.save(update_fields=[field, "updated_at"])
    _record(
        case,
        TimelineEntry.Kind.DUE_CHANGED,
        actor=actor,
        is_public=True,
        body=reason,
        data={
            "deadline": deadline,
            "from": previous.isoformat() if previous else None,
            "to": due_at.isoformat(),
        },
    )
    return case


@transaction.atomic
def case_follow(*, actor, case: Case) -> Follower:
    case = Case.objects.prefetch_related("cohandlers").get(pk=case.pk)
    _require(actor, "cases.follow_case", case, _("请先登录，且只能关注你能查看的事项。"))
    follower, _created = Follower.objects.get_or_create(case=case, user=actor)
    return follower


@transaction.atomic
def case_unfollow(*, actor, case: Case) -> None:
    if not getattr(actor, "is_authenticated", False):
        raise PermissionDenied(_("请先登录。"))
    Follower.objects.filter(case=case, user=actor).delete()


@transaction.atomic
def case_attach(*, actor, case: Case, upload, is_public: bool = False) -> Attachment:
    """Attach a photo or PDF (checked from its content, images cleaned of metadata).

    Private unless the uploader says otherwise: a reporter's photo may show faces, plates or
    a home, and only the organisations on the case see a private attachment. The case row is
    locked while counting, so two uploads at once cannot both take the fifth place.
    """
    case = _lock(case)
    _require(actor, "cases.attach_case", case, _("你不能为此事项上传附件。"))
    if not case.is_open:
        raise ValidationError(_("已办结的事项不能再上传附件。"), code="not_open")
    if case.attachments.count() >= attachments.MAX_PER_CASE:
        raise ValidationError(
            _("每个事项最多 %(count)d 个附件。"),
            code="too_many",
            params={"count": attachments.MAX_PER_CASE},
        )
    return _store_attachment(
        case, attachments.check(upload), upload, actor=actor, is_public=is_public
    )


def _store_attachment(
    case: Case,
    checked: attachments.Checked,
    upload,
    *,
    actor,
    is_public: bool,
    at: dt.datetime | None = None,
) -> Attachment:
    name = attachments.store(reference=case.reference, checked=checked)
    attachment = Attachment(
        case=case,
        file=name,
        content_type=checked.content_type,
        size=len(checked.content),
        original_name=(getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200],
        uploaded_by=_user(actor),
        is_public=is_public and case.is_public,
        created_at=at or _now(),
    )
    _validate(attachment, relations=("case", "uploaded_by"))
    attachment.save()
    _record(
        case,
        TimelineEntry.Kind.ATTACHMENT,
        actor=actor,
        is_public=attachment.is_public,
        data={
            "attachment_id": attachment.pk,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "name": attachment.original_name,
        },
        at=at,
    )
    return attachment
