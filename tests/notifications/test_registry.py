"""The event-type registry: what each type declares, the defaults per audience, who may turn a
type off, and that every registered type has its templates in both languages."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

import pytest
from django.template.loader import get_template
from django.utils import translation

from governance.notifications import registry
from governance.notifications.channels import render_text
from governance.notifications.models import Mode
from governance.notifications.registry import DEFAULT_MODES, Audience, EventType
from governance.stakeholders.events import MembershipGranted, TwoFactorChanged
from tests.notifications.conftest import ThingHappened, Unregistered

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
TEMPLATE_FILES = ("subject.txt", "body.txt", "body.html", "line.txt")
DEMO_TYPES = ("stakeholders.membership_granted", "stakeholders.two_factor_changed")


def _sample_payload(event_type: EventType) -> dict:
    """ASCII values for every field of the event, so any Chinese left in the English rendering
    can only come from an untranslated string."""
    return {
        f.name: 1 if f.type in ("int", int) else f"sample-{f.name}"
        for f in dataclasses.fields(event_type.event)
    }


# What the demo apps declare --------------------------------------------------------------------
def test_demo_event_types_are_registered():
    codes = [event_type.code for event_type in registry.all_types()]
    assert set(DEMO_TYPES) <= set(codes)
    assert codes == sorted(codes)
    assert registry.get("stakeholders.membership_granted").event is MembershipGranted
    assert registry.get("stakeholders.two_factor_changed").event is TwoFactorChanged
    assert registry.for_event(
        TwoFactorChanged(user_id=1, change="added", authenticator_type="totp")
    ) is registry.get("stakeholders.two_factor_changed")


@pytest.mark.parametrize("code", DEMO_TYPES)
def test_demo_event_type_labels_are_bilingual(code):
    event_type = registry.get(code)
    with translation.override("zh-hans"):
        chinese = str(event_type.label)
    with translation.override("en"):
        english = str(event_type.label)
    assert CJK.search(chinese)
    assert english
    assert english != chinese
    assert not CJK.search(english), english


def test_membership_granted_comes_at_once_to_everyone_and_may_be_turned_off():
    event_type = registry.get("stakeholders.membership_granted")
    for audience in Audience.ALL:
        assert event_type.default_mode(audience) == Mode.IMMEDIATE
        assert event_type.allowed_modes(audience) == [
            Mode.IMMEDIATE,
            Mode.DAILY,
            Mode.WEEKLY,
            Mode.OFF,
        ]
    assert event_type.skip_actor is True
    assert event_type.security is False


def test_two_factor_change_is_a_security_notice_that_cannot_be_changed():
    event_type = registry.get("stakeholders.two_factor_changed")
    assert event_type.security is True
    # The owner is told even when they made the change themselves.
    assert event_type.skip_actor is False
    for audience in Audience.ALL:
        assert event_type.default_mode(audience) == Mode.IMMEDIATE
        assert event_type.allowed_modes(audience) == [Mode.IMMEDIATE]


# Templates ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("code", DEMO_TYPES)
@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_demo_type_has_each_template(code, name):
    assert get_template(f"{registry.get(code).template_dir}/{name}")


@pytest.mark.parametrize("code", DEMO_TYPES)
@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_every_demo_template_renders_fully_in_english_and_in_chinese(code, name):
    event_type = registry.get(code)
    template = f"{event_type.template_dir}/{name}"
    payload = _sample_payload(event_type)
    with translation.override("en"):
        english = render_text(template, payload)
    with translation.override("zh-hans"):
        chinese = render_text(template, payload)
    assert english.strip()
    assert chinese.strip()
    assert not CJK.search(english), f"untranslated Chinese in {template}: {english!r}"
    assert CJK.search(chinese), f"{template} shows no Chinese in Chinese: {chinese!r}"


@pytest.mark.parametrize(
    ("role", "english", "chinese"),
    [("admin", "administrator", "管理员"), ("staff", "staff", "工作人员")],
)
def test_membership_templates_name_the_organisation_and_role_in_each_language(
    role, english, chinese
):
    payload = {
        "organisation_name_zh": "万象城",
        "organisation_name_en": "The Mixc",
        "role": role,
    }
    with translation.override("en"):
        body = render_text("notifications/stakeholders.membership_granted/body.txt", payload)
    assert "The Mixc" in body
    assert "万象城" not in body
    assert english in body.lower()
    with translation.override("zh-hans"):
        body = render_text("notifications/stakeholders.membership_granted/body.txt", payload)
    assert "万象城" in body
    assert "The Mixc" not in body
    assert chinese in body


def test_membership_templates_fall_back_to_the_chinese_name_when_there_is_no_english_one():
    payload = {"organisation_name_zh": "万象城", "organisation_name_en": "", "role": "staff"}
    with translation.override("en"):
        line = render_text("notifications/stakeholders.membership_granted/line.txt", payload)
    assert "万象城" in line


# Registering -------------------------------------------------------------------------------------
def test_an_event_must_be_a_dataclass():
    class NotADataclass:
        pass

    with pytest.raises(TypeError, match=r"tests\.plain"):
        EventType(code="tests.plain", event=NotADataclass, label="x", recipients=list)


def test_an_event_must_be_frozen():
    @dataclass
    class Mutable:
        user_id: int

    with pytest.raises(TypeError, match="must be frozen"):
        EventType(code="tests.mutable", event=Mutable, label="x", recipients=list)


def test_a_code_cannot_be_registered_for_two_event_classes(event_types):
    @dataclass(frozen=True)
    class Impostor:
        user_ids: tuple[int, ...]

    with pytest.raises(ValueError, match=r"tests\.thing_happened"):
        registry.register(
            EventType(code="tests.thing_happened", event=Impostor, label="x", recipients=list)
        )
    assert registry.get("tests.thing_happened").event is ThingHappened


def test_registering_the_same_type_again_is_harmless(event_types):
    # ``AppConfig.ready`` may run more than once (tests, management commands).
    again = registry.register(event_types["tests.thing_happened"])
    assert registry.get("tests.thing_happened") is again


def test_an_unknown_code_is_a_lookup_error_naming_it():
    with pytest.raises(registry.UnknownEventType, match=r"nope\.never"):
        registry.get("nope.never")


def test_an_unregistered_event_class_is_an_error_naming_it():
    with pytest.raises(registry.UnknownEventType, match="Unregistered"):
        registry.for_event(Unregistered(user_id=1))


def test_test_types_are_gone_after_the_test():
    # The ``event_types`` fixture restores the registry: no test leaks a type into another.
    assert not any(t.code.startswith("tests.") for t in registry.all_types())


# Defaults per audience ---------------------------------------------------------------------------
def test_default_modes_per_audience():
    assert DEFAULT_MODES == {
        Audience.CITIZEN: Mode.IMMEDIATE,
        Audience.DEPARTMENT: Mode.DAILY,
        Audience.PARTNER: Mode.WEEKLY,
    }


def test_a_type_without_its_own_defaults_uses_the_audience_defaults(event_types):
    event_type = event_types["tests.thing_happened"]
    assert event_type.default_mode(Audience.CITIZEN) == Mode.IMMEDIATE
    assert event_type.default_mode(Audience.DEPARTMENT) == Mode.DAILY
    assert event_type.default_mode(Audience.PARTNER) == Mode.WEEKLY


def test_an_assignment_reaches_department_staff_at_once(event_types):
    event_type = event_types["tests.case_assigned"]
    assert event_type.default_mode(Audience.DEPARTMENT) == Mode.IMMEDIATE
    # The audiences it does not name keep theirs.
    assert event_type.default_mode(Audience.PARTNER) == Mode.WEEKLY
    assert event_type.default_mode(Audience.CITIZEN) == Mode.IMMEDIATE


def test_off_is_offered_only_to_the_audiences_the_type_names(event_types):
    event_type = event_types["tests.rule_changed"]
    assert Mode.OFF in event_type.allowed_modes(Audience.CITIZEN)
    assert Mode.OFF not in event_type.allowed_modes(Audience.DEPARTMENT)
    assert Mode.OFF not in event_type.allowed_modes(Audience.PARTNER)
    # Everyone may still choose when to hear about it.
    for audience in Audience.ALL:
        assert {Mode.IMMEDIATE, Mode.DAILY, Mode.WEEKLY} <= set(event_type.allowed_modes(audience))


def test_a_security_notice_is_immediate_whatever_its_declared_defaults():
    @dataclass(frozen=True)
    class Alarm:
        user_id: int

    event_type = EventType(
        code="tests.alarm",
        event=Alarm,
        label="x",
        recipients=list,
        security=True,
        defaults={Audience.PARTNER: Mode.WEEKLY},
    )
    assert event_type.default_mode(Audience.PARTNER) == Mode.IMMEDIATE
    assert event_type.allowed_modes(Audience.CITIZEN) == [Mode.IMMEDIATE]
