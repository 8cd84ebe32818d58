"""Serializers of the feedback API: input ones that parse a request, output ones that render.

Output serializers are plain ``Serializer`` classes reading relations ``queries`` already
joined. What depends on the reader (the contact details, hidden text) is decided by the view
through ``rules`` and passed in the context as ``reader`` (which also builds the rows' URLs);
nothing is looked up here per row.

Text is taken and returned as plain text: nothing is parsed as HTML or Markdown, and the pages
escape it when they render it. The services bound every text again and name the limit.
"""

from __future__ import annotations

from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from feedback import reasons as reason_tags
from feedback.models import MAX_COMMENT, MAX_TEXT, Appeal, Channel, Feedback, Kind, Level
from governance.cases.serializers import ContactSerializer, ServiceRefSerializer, TextField
from governance.stations.models import Service, Station
from governance.stations.serializers import OrganisationRefSerializer, StationRefSerializer

HIDDEN_TEXT = _("（该内容因违反发布规则已被隐藏）")
SUBMIT_KINDS = [(value, label) for value, label in Kind.choices if value != Kind.VISIT_RATING]
REASON_CODES = [reason.code for reason in reason_tags.REASONS]
# Far beyond any id; keeps a lookup inside PostgreSQL's bigint.
MAX_ID = 2**63 - 1


def _is_form(field) -> bool:
    return isinstance(getattr(field.root, "initial_data", None), QueryDict)


def level_error():
    # The same message as ``services._level``'s, so a client reads one wording however it erred.
    allowed = "，".join(f"{value}={label}" for value, label in Level.choices)
    return _("评价等级必须是 1 到 5 的整数：%(allowed)s。") % {"allowed": allowed}


# Input fields -----------------------------------------------------------------------------------
@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 5, "example": 5})
class LevelField(serializers.Field):
    """A level 1–5: an integer (in form data, its digits); the error names the five levels."""

    def to_internal_value(self, data):
        if isinstance(data, str) and _is_form(self):
            digits = data.strip()
            data = (
                int(digits) if digits.isascii() and digits.isdigit() and len(digits) < 4 else data
            )
        if isinstance(data, bool) or not isinstance(data, int) or data not in Level.values:
            raise serializers.ValidationError(level_error(), code="invalid_level")
        return data

    def validate_empty_values(self, data):
        if data is None and not self.allow_null:
            raise serializers.ValidationError(level_error(), code="invalid_level")
        return super().validate_empty_values(data)

    def to_representation(self, value):
        return value


class KindField(serializers.ChoiceField):
    """A kind one may submit here; the error names them."""

    def __init__(self, **kwargs):
        super().__init__(choices=SUBMIT_KINDS, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, str) and data in self.choices:
            return data
        # The same message as ``services.feedback_submit``'s.
        raise serializers.ValidationError(
            _("未知的反馈类型；可以是：%(allowed)s。")
            % {"allowed": "、".join(value for value, _label in SUBMIT_KINDS)},
            code="invalid_choice",
        )


@extend_schema_field({"type": "string", "enum": REASON_CODES})
class ReasonField(serializers.Field):
    """A reason code. One that is no code at all (not text, or too long to be one) is refused
    here; one not offered at the level by the service, which names the codes that are."""

    def validate_empty_values(self, data):
        if data is None:
            self._refuse()
        return super().validate_empty_values(data)

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 32:
            self._refuse()
        return data

    def _refuse(self):
        raise serializers.ValidationError(
            _("原因必须是原因代码之一：%(allowed)s。") % {"allowed": "、".join(REASON_CODES)},
            code="invalid_reason",
        )

    def to_representation(self, value):
        return value


class ReasonListField(serializers.ListField):
    """Reason codes; the errors are one list of messages (DRF would key them by position,
    which is not the shape the API's errors have)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("child", ReasonField())
        super().__init__(**kwargs)

    def run_child_validation(self, data):
        try:
            return super().run_child_validation(data)
        except serializers.ValidationError as exc:
            messages = [str(message) for errors in exc.detail.values() for message in errors]
            raise serializers.ValidationError(list(dict.fromkeys(messages))) from exc


def reasons_field() -> serializers.ListField:
    return ReasonListField(
        max_length=len(REASON_CODES),
        required=False,
        default=list,
        help_text=_("原因代码，须是所选等级可选的原因（见 visit-ratings/{token}/ 的 levels）。"),
    )


class StrictUUIDField(serializers.UUIDField):
    """A UUID as a string (DRF would also take an integer)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


@extend_schema_field({"type": "string", "maxLength": 0})
class HoneypotField(serializers.CharField):
    """A field people never see (the page hides it); software that fills every field in a
    form fills it, and its submission is refused with nothing written."""

    def __init__(self, **kwargs):
        kwargs.update(required=False, allow_blank=True, default="", trim_whitespace=False)
        kwargs.setdefault("help_text", _("防机器人字段，必须留空。"))
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if data not in ("", None):
            raise serializers.ValidationError(_("此项必须留空。"), code="honeypot")
        return ""


class ContactInputMixin(serializers.Serializer):
    contact_name = TextField(max_length=80, required=False, allow_blank=True, default="")
    contact_phone = TextField(max_length=20, required=False, allow_blank=True, default="")
    contact_email = serializers.EmailField(
        max_length=254, required=False, allow_blank=True, default=""
    )


IDEMPOTENCY_HELP = _(
    "幂等键（UUID）：同一个键再次提交时返回第一次创建的记录，不会重复创建；"
    "也可以放在请求头 Idempotency-Key 中。"
)


# Input ------------------------------------------------------------------------------------------
class FeedbackSubmitInputSerializer(ContactInputMixin):
    """An online rating of a service or station, a suggestion, a complaint or praise."""

    kind = KindField()
    level = LevelField(
        required=False, allow_null=True, default=None, help_text=_("评价等级；仅评价需要。")
    )
    reasons = reasons_field()
    text = TextField(max_length=MAX_TEXT, required=False, allow_blank=True, default="")
    service = serializers.SlugRelatedField(
        slug_field="service_code",
        queryset=Service.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("服务事项编码；在线评价须填服务事项或站点。"),
    )
    station = serializers.SlugRelatedField(
        slug_field="slug",
        queryset=Station.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        help_text=_("站点标识。"),
    )
    photo = serializers.FileField(
        max_length=200,
        required=False,
        allow_null=True,
        default=None,
        help_text=_("一张 JPEG、PNG 或 WebP 图片，不超过 10 MB（multipart/form-data）。"),
    )
    idempotency_key = StrictUUIDField(
        required=False, allow_null=True, default=None, help_text=IDEMPOTENCY_HELP
    )
    website = HoneypotField()


class VisitRateInputSerializer(ContactInputMixin):
    """A visit's rating from its signed link (the counter's QR code)."""

    token = TextField(max_length=400, help_text=_("评价链接中的签名令牌。"))
    level = LevelField()
    reasons = reasons_field()
    comment = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True, default="")
    idempotency_key = StrictUUIDField(
        required=False, allow_null=True, default=None, help_text=IDEMPOTENCY_HELP
    )
    website = HoneypotField()


class ReplyInputSerializer(serializers.Serializer):
    body = TextField(max_length=MAX_TEXT, help_text=_("公开答复，评价人和所有能查看的人可见。"))


class HideInputSerializer(serializers.Serializer):
    reason = TextField(max_length=200, help_text=_("隐藏原因。"))


class AppealInputSerializer(serializers.Serializer):
    reason = TextField(max_length=MAX_TEXT, help_text=_("申诉理由。"))


class RerateInputSerializer(serializers.Serializer):
    level = LevelField()
    comment = TextField(max_length=MAX_COMMENT, required=False, allow_blank=True, default="")
    token = TextField(
        max_length=400,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("邮件中的再次评价令牌；评价人本人登录后无需填写。"),
    )


class RatingLinkQuerySerializer(serializers.Serializer):
    visit = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text=_("办件编号。"))


# Output -----------------------------------------------------------------------------------------
class ReasonOutputSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)


def reason_rows(codes) -> list[dict]:
    """Codes with their labels in the active language (an old code no longer offered keeps its
    code as its label)."""
    rows = []
    for code in codes or ():
        reason = reason_tags.BY_CODE.get(code)
        rows.append({"code": code, "label": str(reason.label) if reason else code})
    return rows


class FeedbackOutputSerializer(serializers.Serializer):
    """A piece of feedback as the reader may see it. ``reader`` in the context answers
    ``contact(feedback)`` and ``moderates(feedback)``: the contact details only for the
    organisation's acting staff, a hidden text only for its moderators."""

    id = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField()
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    level = serializers.ChoiceField(choices=Level.choices, read_only=True, allow_null=True)
    level_label = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    text = serializers.SerializerMethodField()
    is_hidden = serializers.BooleanField(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    service = ServiceRefSerializer(read_only=True, allow_null=True)
    station = StationRefSerializer(read_only=True, allow_null=True)
    organisation = OrganisationRefSerializer(read_only=True, allow_null=True)
    visit = serializers.IntegerField(source="visit_id", read_only=True, allow_null=True)
    has_photo = serializers.SerializerMethodField()
    photo_url = serializers.SerializerMethodField()
    contact = serializers.SerializerMethodField()
    reply = serializers.CharField(read_only=True)
    replied_at = serializers.DateTimeField(read_only=True, allow_null=True)
    excluded = serializers.BooleanField(read_only=True)
    case = serializers.CharField(source="case.reference", read_only=True, allow_null=True)
    rectified_at = serializers.DateTimeField(read_only=True, allow_null=True)
    may_rerate = serializers.BooleanField(read_only=True)
    rerating_level = serializers.ChoiceField(choices=Level.choices, read_only=True, allow_null=True)
    rerating_comment = serializers.CharField(read_only=True)
    rerated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, feedback: Feedback) -> str:
        return self.context["reader"].url("api:feedback-detail", feedback)

    def get_level_label(self, feedback: Feedback) -> str | None:
        return str(feedback.get_level_display()) if feedback.level else None

    @extend_schema_field(ReasonOutputSerializer(many=True))
    def get_reasons(self, feedback: Feedback) -> list[dict]:
        return reason_rows(feedback.reasons)

    def get_text(self, feedback: Feedback) -> str:
        if feedback.is_hidden and not self.context["reader"].moderates(feedback):
            return str(HIDDEN_TEXT)
        return feedback.text

    def get_has_photo(self, feedback: Feedback) -> bool:
        return bool(feedback.photo)

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_photo_url(self, feedback: Feedback) -> str | None:
        if not feedback.photo:
            return None
        return self.context["reader"].url("api:feedback-photo", feedback)

    @extend_schema_field(ContactSerializer(allow_null=True))
    def get_contact(self, feedback: Feedback) -> dict | None:
        if not self.context["reader"].contact(feedback):
            return None
        return {
            "name": feedback.contact_name,
            "phone": feedback.contact_phone,
            "email": feedback.contact_email,
        }


class VisitRatingOutputSerializer(serializers.Serializer):
    """The rating a visit's link wrote, from the row alone (nothing more is read)."""

    id = serializers.IntegerField(read_only=True)
    visit = serializers.IntegerField(source="visit_id", read_only=True)
    level = serializers.ChoiceField(choices=Level.choices, read_only=True)
    level_label = serializers.CharField(source="get_level_display", read_only=True)
    reasons = serializers.SerializerMethodField()
    comment = serializers.CharField(source="text", read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(ReasonOutputSerializer(many=True))
    def get_reasons(self, feedback: Feedback) -> list[dict]:
        return reason_rows(feedback.reasons)


CREATED_AT = serializers.DateTimeField()  # stateless: formats as every DateTimeField does


def visit_rating_output(feedback: Feedback) -> dict:
    """What :class:`VisitRatingOutputSerializer` gives, built directly: the rating endpoint is
    the busiest write of the site, and DRF's per-request copy of the fields cost more than the
    insert (bench/README.md). The serializer stays as the schema and the test of this shape."""
    return {
        "id": feedback.pk,
        "visit": feedback.visit_id,
        "level": feedback.level,
        # Not get_level_display(), which translates every level's label to find one.
        "level_label": str(Level(feedback.level).label),
        "reasons": reason_rows(feedback.reasons),
        "comment": feedback.text,
        "created_at": CREATED_AT.to_representation(feedback.created_at),
    }


class AlreadyRatedSerializer(serializers.Serializer):
    """The 409 of a visit rated before: when, and at which level."""

    detail = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices, allow_null=True)
    level_label = serializers.CharField(allow_null=True)
    rated_at = serializers.DateTimeField(allow_null=True)


class LevelReasonsSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    label = serializers.CharField()
    reasons = ReasonOutputSerializer(many=True)


class NamedRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class RatingStateSerializer(serializers.Serializer):
    level = serializers.ChoiceField(choices=Level.choices)
    level_label = serializers.CharField()
    rated_at = serializers.DateTimeField()


class VisitRatingPageSerializer(serializers.Serializer):
    """What a visit's rating page shows before the rater chooses."""

    visit = serializers.IntegerField()
    service = NamedRefSerializer(help_text=_("服务事项：code 为服务事项编码。"))
    station = NamedRefSerializer(help_text=_("站点：code 为站点标识。"))
    visited_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    rated = serializers.BooleanField()
    rating = RatingStateSerializer(allow_null=True)
    levels = LevelReasonsSerializer(many=True)


class RatingLinkSerializer(serializers.Serializer):
    visit = serializers.IntegerField()
    url = serializers.URLField(help_text=_("评价页面地址（二维码的内容）。"))
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()
    qr_svg = serializers.CharField(help_text=_("评价页面地址的二维码（内联 SVG）。"))


class AppealOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    feedback = serializers.IntegerField(source="feedback_id", read_only=True)
    status = serializers.ChoiceField(choices=Appeal.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    reason = serializers.CharField(read_only=True)
    filed_role = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)


def level_rows() -> list[dict]:
    """Each level with the reasons a rater may tick at it."""
    return [
        {
            "level": value,
            "label": str(label),
            "reasons": reason_rows(reason.code for reason in reason_tags.for_level(value)),
        }
        for value, label in Level.choices
    ]
