"""The English catalogue: complete, fully translated, compiled, and actually used.

Simplified Chinese is the source language of every msgid; English lives in
``locale/en/LC_MESSAGES/django.po`` and its compiled ``.mo`` is committed, so the site needs no
GNU gettext at run time. ``make messages`` refreshes both after strings change.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from governance.stakeholders.models import AuditEvent, Organisation
from governance.stations.models import Channel, Service, Station
from tests.conftest import need

ROOT = Path(__file__).resolve().parents[2]
LC_MESSAGES = ROOT / "locale" / "en" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"
# What ``make messages`` scans (it runs from the project root and ignores everything else).
SOURCES = ("governance", "feedback", "partners", "templates", "manage.py")
FIX = "run `make messages` and translate the new entries"

# printf-style placeholders as Python's % operator reads them: %(name)s, %(seconds).1f, %s, %d…
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]"
)


def key(entry) -> tuple[str | None, str]:
    return (entry.msgctxt or None, entry.msgid)


def label(entry) -> str:
    return f"{entry.msgctxt}|{entry.msgid}" if entry.msgctxt else entry.msgid


def placeholders(text: str) -> Counter:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text.replace("%%", "")))


def translations(catalogue) -> dict:
    """(msgctxt, msgid) → the msgstr, or the tuple of plural forms, of every live entry."""
    result = {}
    for entry in catalogue:
        if getattr(entry, "obsolete", False):
            continue
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            result[key(entry)] = tuple(forms[index] for index in sorted(forms))
        else:
            result[key(entry)] = entry.msgstr
    return result


@pytest.fixture(scope="module")
def po():
    assert PO_PATH.is_file(), f"{PO_PATH.relative_to(ROOT)} is missing: {FIX}"
    return polib.pofile(str(PO_PATH))


# The .po itself ------------------------------------------------------------------------------
def test_header_declares_english_with_two_plural_forms(po):
    assert po.metadata["Language"] == "en"
    assert po.metadata["Project-Id-Version"] == "Gongzhi"
    assert "charset=UTF-8" in po.metadata["Content-Type"]
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert not po.metadata_is_fuzzy, "the header is still marked fuzzy"
    assert po.encoding.lower() in {"utf-8", "utf8"}


def test_every_entry_is_translated_and_current(po):
    assert len(po) > 0
    untranslated = [label(entry) for entry in po.untranslated_entries()]
    fuzzy = [label(entry) for entry in po.fuzzy_entries()]
    obsolete = [label(entry) for entry in po.obsolete_entries()]

    assert untranslated == [], f"untranslated: {untranslated}"
    assert fuzzy == [], f"fuzzy (review, then drop the flag): {fuzzy}"
    assert obsolete == [], f"obsolete (run makemessages with --no-obsolete): {obsolete}"


def test_plural_entries_have_both_english_forms(po):
    plurals = [entry for entry in po if entry.msgid_plural and not entry.obsolete]
    assert plurals, "the templates use {% blocktranslate count %}; expected plural entries"
    for entry in plurals:
        assert sorted(entry.msgstr_plural) == [0, 1], label(entry)
        assert all(entry.msgstr_plural[index].strip() for index in (0, 1)), label(entry)


def test_placeholders_survive_translation(po):
    wrong = []
    for entry in po:
        if entry.obsolete:
            continue
        if entry.msgid_plural:
            pairs = [
                (entry.msgid, entry.msgstr_plural[0]),
                (entry.msgid_plural, entry.msgstr_plural[1]),
            ]
        else:
            pairs = [(entry.msgid, entry.msgstr)]
        for source, translated in pairs:
            if placeholders(source) != placeholders(translated):
                wrong.append(
                    f"{label(entry)!r}: {sorted(placeholders(source).elements())} "
                    f"→ {sorted(placeholders(translated).elements())}"
                )
    assert wrong == [], "placeholders differ:\n" + "\n".join(wrong)


def test_translations_keep_no_chinese_behind(po):
    """An English msgstr that still holds Chinese was copied, not translated."""
    han = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
    # The platform's name is written with its characters where it introduces itself.
    allowed = {"共治"}
    leftovers = []
    for entry in po:
        texts = entry.msgstr_plural.values() if entry.msgid_plural else [entry.msgstr]
        for text in texts:
            stripped = text
            for word in allowed:
                stripped = stripped.replace(word, "")
            if han.search(stripped):
                leftovers.append(f"{label(entry)!r} → {text!r}")
    assert leftovers == [], "\n".join(leftovers)


# The compiled .mo ----------------------------------------------------------------------------
def test_compiled_catalogue_matches_the_po(po):
    assert MO_PATH.is_file(), f"{MO_PATH.relative_to(ROOT)} is missing: run compilemessages"
    mo = polib.mofile(str(MO_PATH))

    compiled, source = translations(mo), translations(po)

    missing = sorted(str(k) for k in source.keys() - compiled.keys())
    extra = sorted(str(k) for k in compiled.keys() - source.keys())
    different = sorted(str(k) for k in source.keys() & compiled.keys() if source[k] != compiled[k])
    hint = "the .mo is out of date: run `python manage.py compilemessages -l en`"
    assert missing == [], f"{hint}; not compiled: {missing}"
    assert extra == [], f"{hint}; compiled but gone from the .po: {extra}"
    assert different == [], f"{hint}; compiled text differs: {different}"
    assert mo.metadata.get("Plural-Forms") == po.metadata["Plural-Forms"]


def test_compiled_catalogue_is_not_git_ignored():
    git = shutil.which("git")
    if git is None:
        pytest.skip("git is not installed")
    result = subprocess.run(
        [git, "check-ignore", "--quiet", str(MO_PATH.relative_to(ROOT))],
        cwd=ROOT,
        capture_output=True,
        check=False,
    )
    if result.returncode == 128:
        pytest.skip("not a git checkout")
    assert result.returncode == 1, ".gitignore excludes the compiled catalogue; it is committed"


# Complete: every marked string in the source is in the catalogue --------------------------------
@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    """The catalogue ``makemessages`` builds from a copy of the sources, from scratch."""
    need(
        all(shutil.which(tool) for tool in ("xgettext", "msguniq", "msgmerge")),
        "needs GNU gettext (xgettext) to extract the strings",
    )
    copy = tmp_path_factory.mktemp("messages")
    junk = shutil.ignore_patterns("__pycache__", "*.pyc", "*.mo", "*.po")
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=junk)
        elif source.is_file():
            shutil.copy2(source, copy / name)
    (copy / "locale").mkdir()
    # Without settings, makemessages writes to ./locale of the copy and nowhere else (with
    # them, LOCALE_PATHS could point back at the real catalogue).
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "--locale=en", "--no-obsolete"],
        cwd=copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    path = copy / "locale" / "en" / "LC_MESSAGES" / "django.po"
    assert path.is_file(), result.stdout + result.stderr
    return polib.pofile(str(path))


def _source_keys(catalogue) -> set[tuple]:
    return {(*key(entry), entry.msgid_plural or None) for entry in catalogue if not entry.obsolete}


def test_catalogue_holds_every_marked_string(po, regenerated):
    assert len(regenerated) > 100, "extraction found suspiciously few strings"
    missing = _source_keys(regenerated) - _source_keys(po)

    assert not missing, f"strings missing from the English catalogue ({FIX}): " + ", ".join(
        sorted(repr(item[1]) for item in missing)
    )


def test_catalogue_holds_no_strings_the_source_dropped(po, regenerated):
    stale = _source_keys(po) - _source_keys(regenerated)

    assert not stale, f"entries no longer in the source ({FIX}): " + ", ".join(
        sorted(repr(item[1]) for item in stale)
    )


# Used: English pages and labels come out in English ---------------------------------------------
@pytest.mark.django_db
def test_home_page_in_english_with_the_language_cookie(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    response = client.get(reverse("stations:home"))

    html = response.content.decode()
    assert response.headers["Content-Language"] == "en"
    assert "<h1>One window, close to home</h1>" in html
    assert "Service stations</h2>" in html
    assert "Services</h2>" in html
    assert "Skip to main content" in html
    assert "一窗受理" not in html


@pytest.mark.django_db
def test_home_page_stays_chinese_by_default(client):
    html = client.get(reverse("stations:home")).content.decode()

    assert "<h1>一窗受理，就近办理</h1>" in html
    assert "One window" not in html


def test_model_names_and_choices_in_english():
    with translation.override("en"):
        assert str(Service._meta.verbose_name) == "Service"
        assert str(Service._meta.verbose_name_plural) == "Services"
        assert str(Station._meta.verbose_name_plural) == "Service stations"
        assert str(Service._meta.get_field("service_code").verbose_name) == "Service code"
        assert str(Channel.COUNTER.label) == "At the counter"
        assert str(Channel.KIOSK.label) == "Self-service kiosk"
        assert str(Organisation.Kind.DEPARTMENT.label) == "Government department"
        assert str(AuditEvent.Action.LOGIN.label) == "Signed in"
    with translation.override("zh-hans"):
        assert str(Service._meta.verbose_name_plural) == "服务事项"
        assert str(Channel.KIOSK.label) == "自助终端"


def test_plural_forms_follow_the_count():
    with translation.override("en"):
        one = translation.ngettext("约 %(minutes)s 分钟", "约 %(minutes)s 分钟", 1)
        many = translation.ngettext("约 %(minutes)s 分钟", "约 %(minutes)s 分钟", 15)
        assert one % {"minutes": 1} == "About 1 minute"
        assert many % {"minutes": 15} == "About 15 minutes"
