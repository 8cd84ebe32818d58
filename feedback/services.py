"""Every write of the feedback wing, one function per action.

- ``visit_rate``: a rating from a visit's signed link: one insert, nothing read first (the link
  carries the visit's station, service and department). A bad rating's rectification case is
  opened by a task after the commit (``tasks.open_rectification``), so the rater waits for
  nothing but the insert.
- ``feedback_submit``: an online rating of a service or station (一事一评), a suggestion, a
  complaint or praise, with an optional photo checked like a case's.
- ``rectification_open``: the bad-rating loop's case, for the organisation that handled the
  visit, due in that organisation's working days; the rater follows it.
- ``rectification_done`` (a receiver of ``case_status_changed``): the rater hears that the case
  was resolved and may re-rate once (``rectification_rerate``).
- ``appeal_file`` / ``appeal_decide``: a rating contested by the handling staff and decided by
  someone in another role; upheld excludes the rating from the figures, never deletes it.
- ``feedback_reply`` (public), ``feedback_hide`` (moderation: the text goes, the rating counts).

Bad input is a ``ValidationError`` whose message names the allowed values; refusals are
``PermissionDenied``; a link that is forged or expired is ``tokens.BadLink``; a second rating of
one visit is :class:`AlreadyRated`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from feedback import reasons as reason_tags
from feedback import tokens
from feedback.events import AppealFiled, FeedbackReplied, RectificationDone
from feedback.models import (
    BAD_LEVELS,
    LEVELS,
    MAX_COMMENT,
    MAX_TEXT,
    RATING_KINDS,
    Appeal,
    Channel,
    Feedback,
    FeedbackPolicy,
    Kind,
    Level,
)
from feedback.rules import staff_role
from governance.cases import attachments, sla
from governance.cases import services as case_services
from governance.cases.models import Case, Source
from governance.core import clock
from governance.core.db import RowInsert
from governance.kpis.registry import local_day
from governance.kpis.services import kpis_mark_dirty
from governance.notifications.services import publish
from governance.stakeholders.models import Organisation, User, phone_validator
from governance.stations.models import Service, Station

PHONE = phone_validator
DEFAULT_POLICY = FeedbackPolicy(return_visit_days=1, rectify_days=15)


class AlreadyRated(Exception):
    """The visit has a rating already; ``feedback`` is it."""

    def __init__(self, feedback: Feedback | None):
        super().__init__("already rated")
        self.feedback = feedback


def _user(actor) -> User | None:
    return actor if getattr(actor, "is_authenticated", False) and actor.is_active else None


# Checking input --------------------------------------------------------------------------------
def _level(level, field: str = "level") -> int:
    """A whole number from 1 to 5 (an int, or a string of digits); anything else is refused
    with the allowed values, 2.5 and True included."""
    value = None
    if isinstance(level, int) and not isinstance(level, bool):
        value = level
    elif isinstance(level, str) and level.strip().isdigit():
        value = int(level.strip())
    if value not in LEVELS:
        raise ValidationError(
            {
                field: ValidationError(
                    level_message(),
                    code="invalid_level",
                )
            }
        )
    return value


def level_message() -> str:
    return str(
        _("评价等级必须是 1 到 5 的整数：%(allowed)s。")
        % {"allowed": "，".join(f"{value}={label}" for value, label in Level.choices)}
    )


def _reasons(codes: Sequence[str], level: int) -> list[str]:
    codes = list(dict.fromkeys(codes or ()))
    wrong = reason_tags.unknown(codes, level)
    if wrong:
        allowed = [reason.code for reason in reason_tags.for_level(level)]
        raise ValidationError(
            {
                "reasons": ValidationError(
                    _("“%(wrong)s”不是这个等级可选的原因；可选：%(allowed)s。"),
                    code="invalid_reason",
                    params={"wrong": "、".join(wrong), "allowed": "、".join(allowed)},
                )
            }
        )
    return codes


def _bounded(value: str, limit: int, field: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError(
            {
                field: ValidationError(
                    _("最多 %(limit)d 个字（现在 %(length)d 个）。"),
                    code="max_length",
                    params={"limit": limit, "length": len(value)},
                )
            }
        )
    return value


def _contact(name: str, phone: str, email: str) -> dict:
    contact = {
        "contact_name": _bounded(name, 80, "contact_name"),
        "contact_phone": _bounded(phone, 20, "contact_phone"),
        "contact_email": _bounded(email, 254, "contact_email"),
    }
    errors = {}
    if contact["contact_phone"]:
        try:
            PHONE(contact["contact_phone"])
        except ValidationError as error:
            errors["contact_phone"] = error
    if contact["contact_email"]:
        try:
            EmailValidator(_("请填写有效的电子邮箱。"))(contact["contact_email"])
        except ValidationError as error:
            errors["contact_email"] = error
    if errors:
        raise ValidationError(errors)
    return contact


def policy_for(organisation_id: int | None) -> FeedbackPolicy:
    if organisation_id is None:
        return DEFAULT_POLICY
    return FeedbackPolicy.objects.filter(organisation_id=organisation_id).first() or DEFAULT_POLICY


# Visit ratings ---------------------------------------------------------------------------------
def visit_rate(
    *,
    token: str,
    level,
    reasons: Sequence[str] = (),
    comment: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    actor=None,
    idempotency_key: uuid.UUID | None = None,
    device: str = "",
    channel: str = Channel.QR,
    now: dt.datetime | None = None,
) -> Feedback:
    """Rate the visit of ``token`` once. The same ``idempotency_key`` again returns the first
    rating (a double tap); another rating of the visit raises :class:`AlreadyRated`."""
    now = now or clock.now()
    claim = tokens.visit_claim(token, now=now)
    level = _level(level)
    feedback = Feedback(
        kind=Kind.VISIT_RATING,
        level=level,
        reasons=_reasons(reasons, level),
        text=_bounded(comment, MAX_COMMENT, "comment"),
        visit_id=claim.visit_id,
        station_id=claim.station_id,
        service_id=claim.service_id,
        organisation_id=claim.department_id,
        user=_user(actor),
        channel=channel,
        idempotency_key=idempotency_key,
        device=device[:64],
        created_at=now,
        **_contact(contact_name, contact_phone, contact_email),
    )
    try:
        _insert(feedback)
    except IntegrityError:
        existing = Feedback.objects.filter(visit_id=claim.visit_id).first()
        if (
            existing is not None
            and idempotency_key
            and existing.idempotency_key == idempotency_key
            and _same_sender(existing, actor, device)
        ):
            return existing
        if existing is None and idempotency_key:
            repeated = _repeat_of(idempotency_key, actor, device)
            if repeated is not None:
                return repeated
        raise AlreadyRated(existing) from None
    if level in BAD_LEVELS:
        _open_later(feedback.pk)
    return feedback


# The columns of a visit rating's one INSERT; the others are NULL or their ``db_default``, as a
# new rating leaves them (it has no photo, case, re-rating, reply or moderation yet).
RATING_COLUMNS = (
    "kind",
    "level",
    "reasons",
    "text",
    "visit",
    "station",
    "service",
    "organisation",
    "user",
    "contact_name",
    "contact_phone",
    "contact_email",
    "channel",
    "idempotency_key",
    "device",
    "created_at",
)
_insert_row = RowInsert(Feedback, fields=RATING_COLUMNS)


def _insert(feedback: Feedback) -> None:
    """One INSERT, compiled once per process (the busiest write of the site). Outside a
    transaction it commits by itself (no BEGIN and COMMIT round trips); inside one, a
    savepoint keeps a refused row (a second rating, a repeated key) from breaking the
    caller's transaction."""
    if transaction.get_connection().in_atomic_block:
        with transaction.atomic():
            _insert_row(feedback)
    else:
        _insert_row(feedback)


def _open_later(feedback_id: int) -> None:
    from feedback.tasks import open_rectification

    # Robust: with the broker down the rating stands (the sweep opens its case later); the
    # rater must not get an error for a rating that was saved.
    transaction.on_commit(lambda: open_rectification.delay(feedback_id), robust=True)


# Online ratings and feedback ---------------------------------------------------------------------
def feedback_submit(
    *,
    actor,
    kind: str,
    text: str = "",
    level=None,
    reasons: Sequence[str] = (),
    service: Service | None = None,
    station: Station | None = None,
    photo=None,
    contact_name: str = "",
    contact_phone: str = "",
    contact_email: str = "",
    idempotency_key: uuid.UUID | None = None,
    device: str = "",
    channel: str = Channel.WEB,
    now: dt.datetime | None = None,
) -> Feedback:
    """An online rating (一事一评) of a service or a station, or a suggestion, complaint or
    praise. Ratings need a level; the others a text. A bad online rating of a service opens a
    rectification case for the service's department, like a visit's."""
    if kind not in Kind.values or kind == Kind.VISIT_RATING:
        allowed = [k for k in Kind.values if k != Kind.VISIT_RATING]
        raise ValidationError(
            {
                "kind": ValidationError(
                    _("未知的反馈类型；可以是：%(allowed)s。"),
                    code="invalid_choice",
                    params={"allowed": "、".join(allowed)},
                )
            }
        )
    if service is not None and not service.is_active:
        raise ValidationError({"service": _("该服务事项已停用。")})
    if station is not None and not station.is_active:
        raise ValidationError({"station": _("该站点已停用。")})
    text = _bounded(text, MAX_TEXT, "text")
    values: dict = {}
    if kind in RATING_KINDS:
        if service is None and station is None:
            raise ValidationError({"service": _("请选择要评价的服务事项或站点。")})
        level = _level(level)
        values.update(level=level, reasons=_reasons(reasons, level))
    else:
        if level not in (None, ""):
            raise ValidationError({"level": _("只有评价才有等级。")})
        if not text:
            raise ValidationError({"text": _("请写下你的意见。")}, code="required")
        if kind == Kind.COMPLAINT:
            # A complaint may say why, with the reasons of an unhappy rating: the needs radar
            # counts them beside bad ratings'.
            values["reasons"] = _reasons(reasons, Level.VERY_DISSATISFIED)
    checked = attachments.check(photo) if photo else None
    if idempotency_key:
        existing = _repeat_of(idempotency_key, actor, device)
        if existing is not None:
            return existing
    organisation_id = service.department_id if service else (station.host_id if station else None)
    feedback = Feedback(
        kind=kind,
        text=text,
        service=service,
        station=station,
        organisation_id=organisation_id,
        user=_user(actor),
        channel=channel,
        idempotency_key=idempotency_key,
        device=device[:64],
        created_at=now or clock.now(),
        **values,
        **_contact(contact_name, contact_phone, contact_email),
    )
    try:
        with transaction.atomic():
            if checked is not None:
                name = f"feedback/{uuid.uuid4().hex}.{attachments.EXTENSIONS[checked.content_type]}"
                feedback.photo = default_storage.save(name, ContentFile(checked.content))
                feedback.photo_type = checked.content_type
            feedback.save(force_insert=True)
            if feedback.is_bad and service is not None:
                _open_later(feedback.pk)
    except IntegrityError:
        if not idempotency_key:
            raise
        existing = _repeat_of(idempotency_key, actor, device)
        if existing is None:
            raise
        return existing
    return feedback


def _same_sender(feedback: Feedback, actor, device: str) -> bool:
    user = _user(actor)
    if user is not None or feedback.user_id is not None:
        return user is not None and feedback.user_id == user.pk
    return feedback.device == device[:64]


def _repeat_of(key: uuid.UUID, actor, device: str) -> Feedback | None:
    """The row this sender already wrote with ``key`` (a double tap), or ``None``. The same key
    from someone else (a shared kiosk's back button re-posting a form) is refused, never
    answered with the other person's row."""
    existing = Feedback.objects.filter(idempotency_key=key).first()
    if existing is None:
        return None
    if not _same_sender(existing, actor, device):
        raise ValidationError(
            {"idempotency_key": _("这份表单已经提交过了：请刷新页面后重新填写。")},
            code="key_reused",
        )
    return existing


# The bad-rating loop ---------------------------------------------------------------------------
def _case_description(feedback: Feedback) -> str:
    lines = [
        str(_("评价等级：%(level)s") % {"level": feedback.get_level_display()}),
    ]
    if feedback.reasons:
        labels = [
            str(reason_tags.BY_CODE[code].label)
            for code in feedback.reasons
            if code in reason_tags.BY_CODE
        ]
        lines.append(str(_("原因：%(reasons)s") % {"reasons": "、".join(labels)}))
    if feedback.visit_id:
        visit = feedback.visit
        lines.append(
            str(
                _("办件：%(ticket)s，%(when)s")
                % {
                    "ticket": visit.ticket,
                    "when": timezone.localtime(visit.arrived_at).strftime("%Y-%m-%d %H:%M"),
                }
            )
        )
    if feedback.text and not feedback.is_hidden:
        lines.append(str(_("评价说明：%(text)s") % {"text": feedback.text}))
    return "\n".join(lines)


@transaction.atomic
def rectification_open(*, feedback_id: int, now: dt.datetime | None = None) -> Case | None:
    """Open the rectification case of a bad rating, once (a second call finds it open).

    The case is private, for the organisation that handled the visit, and due in that
    organisation's working days; the return visit is due within its return-visit days. A
    signed-in rater is the reporter (and follows it); an anonymous one's contact is copied.
    """
    feedback = (
        Feedback.objects.select_for_update(of=("self",))
        .select_related("service", "station", "visit", "user")
        .get(pk=feedback_id)
    )
    if feedback.case_id is not None or not feedback.is_bad or feedback.excluded:
        return feedback.case
    if feedback.service is None:
        return None
    now = now or clock.now()
    policy = policy_for(feedback.organisation_id)
    return_visit = sla.add_working_days(now, policy.return_visit_days)
    rectify = sla.add_working_days(now, policy.rectify_days)
    service_name = feedback.service.name_zh
    case = case_services.case_open(
        actor=feedback.user,
        title=str(_("差评整改：%(service)s") % {"service": service_name})[:120],
        description=_case_description(feedback),
        source=Source.FEEDBACK,
        service=feedback.service,
        station=feedback.station,
        address="" if feedback.station_id else str(_("线上评价")),
        contact_name=feedback.contact_name,
        contact_phone=feedback.contact_phone,
        contact_email=feedback.contact_email,
        is_public=False,
        opened_at=now,
        system=True,
        acknowledge_due_at=return_visit.at,
        resolve_due_at=rectify.at,
        # 谁办理、谁负责: the organisation that handled the visit, whatever the routing rules say.
        responsible=feedback.organisation,
    )
    feedback.case = case
    feedback.return_visit_due_at = return_visit.at
    feedback.save(update_fields=["case", "return_visit_due_at"])
    return case


def _mark_dirty(moments) -> None:
    """Recompute the feedback figures of the days of ``moments`` (``None`` skipped)."""
    from feedback.metrics import METRIC_CODES

    days = {local_day(moment) for moment in moments if moment is not None}
    if days:
        kpis_mark_dirty(metric_codes=METRIC_CODES, days=days)


def rectification_done(*, case: Case, at: dt.datetime) -> int:
    """The case of a bad rating was resolved: note it on the rating and tell the rater, who
    may now re-rate. Called inside the case's transaction (``case_status_changed``)."""
    told = 0
    # The on-time share of rectifications counts by the day of the first resolution.
    _mark_dirty([case.first_resolved_at])
    for feedback in Feedback.objects.filter(case=case, rectified_at__isnull=True):
        feedback.rectified_at = at
        fields = ["rectified_at"]
        if feedback.user_id is not None:
            feedback.rater_told_at = at
            fields.append("rater_told_at")
        feedback.save(update_fields=fields)
        if feedback.user_id is not None:
            publish(
                RectificationDone(
                    feedback_id=feedback.pk,
                    user_id=feedback.user_id,
                    reference=case.reference,
                    rerate_token=tokens.rerate_token(feedback.pk),
                )
            )
            told += 1
        elif feedback.contact_email:
            from feedback.tasks import mail_rerate_link

            transaction.on_commit(lambda pk=feedback.pk: mail_rerate_link.delay(pk), robust=True)
            told += 1
    return told


@transaction.atomic
def rectification_rerate(
    *, feedback: Feedback, level, comment: str = "", now: dt.datetime | None = None
) -> Feedback:
    """The rater's verdict on the rectification, once, beside the original rating (which
    stays as it was). The caller has checked who may (the rater, or a re-rating link)."""
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    if feedback.rectified_at is None:
        raise ValidationError(_("整改还没有完成，完成后才能再次评价。"), code="not_rectified")
    if feedback.rerated_at is not None:
        raise ValidationError(_("你已经对这次整改评价过了。"), code="already_rerated")
    feedback.rerating_level = _level(level)
    feedback.rerating_comment = _bounded(comment, MAX_COMMENT, "comment")
    feedback.rerated_at = now or clock.now()
    feedback.save(update_fields=["rerating_level", "rerating_comment", "rerated_at"])
    if feedback.case_id:
        case_services.case_note(
            actor=None,
            case=feedback.case,
            body=str(
                _("评价人对整改的评价：%(level)s。%(comment)s")
                % {
                    "level": feedback.get_rerating_level_display(),
                    "comment": feedback.rerating_comment,
                }
            ),
            system=True,
        )
    _mark_dirty([feedback.rerated_at])
    return feedback


# Appeals ---------------------------------------------------------------------------------------
def _require(actor, permission: str, obj, message) -> None:
    if actor is None or not actor.has_perm(permission, obj):
        raise PermissionDenied(message)


@transaction.atomic
def appeal_file(*, actor, feedback: Feedback, reason: str) -> Appeal:
    """Contest a rating of one's own organisation, with a reason; written on its case."""
    _require(actor, "feedback.appeal_feedback", feedback, _("只有被评价单位的工作人员才能申诉。"))
    if not feedback.is_rating:
        raise ValidationError(_("只能对评价提出申诉。"), code="not_a_rating")
    if feedback.excluded:
        raise ValidationError(_("这条评价已经不计入统计。"), code="already_excluded")
    reason = _bounded(reason, MAX_TEXT, "reason")
    if not reason:
        raise ValidationError({"reason": _("请说明申诉理由。")}, code="required")
    appeal = Appeal(
        feedback=feedback,
        filed_by=actor,
        filed_role=staff_role(actor, feedback.organisation_id),
        reason=reason,
    )
    try:
        with transaction.atomic():
            appeal.save(force_insert=True)
    except IntegrityError:
        raise ValidationError(_("这条评价已有一项申诉在审核中。"), code="appeal_pending") from None
    if feedback.case_id:
        # Written by the platform: the case may have been passed to another organisation
        # whose note permission the filer does not hold.
        case_services.case_note(
            actor=None,
            case=feedback.case,
            body=str(_("%(who)s 对评价提出申诉：%(reason)s") % {"who": actor, "reason": reason}),
            system=True,
        )
    publish(
        AppealFiled(
            appeal_id=appeal.pk,
            organisation_id=feedback.organisation_id,
            filed_role=appeal.filed_role,
        ),
        actor=actor,
    )
    return appeal


@transaction.atomic
def appeal_decide(*, actor, appeal: Appeal, upheld: bool, note: str) -> Appeal:
    """Decide an appeal. The decider holds another role than the one who filed it (an admin
    for a staff member's appeal, the platform for an admin's) and is never the same person;
    upheld, the rating stays on record and leaves the figures."""
    appeal = (
        Appeal.objects.select_for_update(of=("self",))
        .select_related("feedback__visit", "feedback__case")
        .get(pk=appeal.pk)
    )
    if getattr(actor, "pk", None) == appeal.filed_by_id:
        # Said here as well as in the rules: Django grants a superuser every permission
        # before the rules are asked, and nobody decides their own appeal.
        raise PermissionDenied(_("不能审核自己提出的申诉。"))
    _require(actor, "feedback.decide_appeal", appeal, _("申诉须由另一角色的人员审核。"))
    if appeal.status != Appeal.Status.PENDING:
        raise ValidationError(_("这项申诉已经审核过了。"), code="decided")
    note = _bounded(note, MAX_TEXT, "note")
    if not note:
        raise ValidationError({"note": _("请写下审核意见。")}, code="required")
    now = clock.now()
    appeal.status = Appeal.Status.UPHELD if upheld else Appeal.Status.DISMISSED
    appeal.decided_by = actor
    appeal.decision_note = note
    appeal.decided_at = now
    appeal.save(update_fields=["status", "decided_by", "decision_note", "decided_at"])
    feedback = appeal.feedback
    if upheld:
        feedback.excluded = True
        feedback.save(update_fields=["excluded"])
        # Every figure the rating counted in: its own day, its visit's, and the loop's days.
        _mark_dirty(
            [
                feedback.created_at,
                feedback.visit.arrived_at if feedback.visit_id else None,
                feedback.case.first_resolved_at if feedback.case_id else None,
                feedback.return_visit_due_at,
                feedback.rerated_at,
            ]
        )
    if feedback.case_id:
        case_services.case_note(
            actor=None,
            case=feedback.case,
            body=str(
                _("申诉审核：%(result)s。%(note)s")
                % {"result": appeal.get_status_display(), "note": note}
            ),
            system=True,
        )
    return appeal


# Staff -----------------------------------------------------------------------------------------
@transaction.atomic
def feedback_reply(*, actor, feedback: Feedback, body: str) -> Feedback:
    """A public reply to feedback, from its organisation; the author is told."""
    _require(actor, "feedback.reply_feedback", feedback, _("只有负责单位的工作人员才能答复。"))
    body = _bounded(body, MAX_TEXT, "body")
    if not body:
        raise ValidationError({"body": _("答复不能为空。")}, code="required")
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    feedback.reply = body
    feedback.replied_by = actor
    feedback.replied_at = clock.now()
    feedback.save(update_fields=["reply", "replied_by", "replied_at"])
    if feedback.user_id:
        publish(
            FeedbackReplied(feedback_id=feedback.pk, user_id=feedback.user_id, body=body),
            actor=actor,
        )
    return feedback


@transaction.atomic
def feedback_hide(*, actor, feedback: Feedback, reason: str) -> Feedback:
    """Hide abusive text, with a reason; a rating's level still counts."""
    _require(actor, "feedback.moderate_feedback", feedback, _("只有审核人员才能隐藏内容。"))
    reason = _bounded(reason, 200, "reason")
    if not reason:
        raise ValidationError({"reason": _("请说明隐藏原因。")}, code="required")
    feedback = Feedback.objects.select_for_update().get(pk=feedback.pk)
    feedback.is_hidden = True
    feedback.hidden_reason = reason
    feedback.hidden_by = actor
    feedback.save(update_fields=["is_hidden", "hidden_reason", "hidden_by"])
    return feedback


def policy_set(*, actor, organisation: Organisation, return_visit_days: int, rectify_days: int):
    _require(
        actor,
        "feedback.set_policy",
        organisation,
        _("只有本单位管理员才能设置评价处理时限。"),
    )
    if return_visit_days < 1 or rectify_days < 1 or return_visit_days > rectify_days:
        raise ValidationError(_("时限须是正整数，回访时限不能长于整改时限。"), code="invalid")
    policy, _created = FeedbackPolicy.objects.update_or_create(
        organisation=organisation,
        defaults={"return_visit_days": return_visit_days, "rectify_days": rectify_days},
    )
    return policy
