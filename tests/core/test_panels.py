"""The panels registry (``governance.core.panels``): how a wing shows what it knows about a
proposal or a case on their pages, in their API and on the proposal's timeline, without the
core importing it. Tested with a panel made here, and with none at all."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from governance.core import panels
from governance.proposals import services as proposal_services
from governance.proposals.models import Proposal
from tests.partners.fixtures_panels import *  # noqa: F403  (the fixtures)

pytestmark = pytest.mark.django_db

ROW_TEMPLATE = (
    '<ul>{% for item in items %}<li class="fake-row">{{ item }} of {{ object.pk }}</li>'
    '{% endfor %}</ul><p class="fake-path">{{ request.path }}</p>'
)


@pytest.fixture(autouse=True)
def no_panels(monkeypatch):
    """An empty registry for each test (the wings' panels come back after it)."""
    monkeypatch.setattr(panels, "_panels", {})


@pytest.fixture
def row_template(settings, tmp_path):
    (tmp_path / "fake_panel.html").write_text(ROW_TEMPLATE, encoding="utf-8")
    engines = [dict(engine) for engine in settings.TEMPLATES]
    engines[0]["DIRS"] = [*engines[0]["DIRS"], tmp_path]
    settings.TEMPLATES = engines
    return "fake_panel.html"


class Recorder:
    """A panel's ``load`` that remembers its calls and gives two rows per object."""

    def __init__(self):
        self.calls = []

    def __call__(self, user, page, objects):
        self.calls.append((user, page, [obj.pk for obj in objects]))
        return {obj.pk: [f"{page}-{obj.pk}-a", f"{page}-{obj.pk}-b"] for obj in objects}


def load_nothing(user, page, objects):
    return {}


def fake_panel(template="fake_panel.html", **overrides) -> panels.Panel:
    values = {
        "key": "fake",
        "title": "假板块",
        "template": template,
        "load": Recorder(),
        "serialize": lambda item, request: {"row": item, "path": request.path},
    }
    values.update(overrides)
    return panels.Panel(**values)


# The registry ---------------------------------------------------------------------------------
def test_a_panel_is_registered_for_one_page_and_its_key_registered_again_replaces_it():
    first, second = fake_panel(title="一"), fake_panel(title="二")
    panels.register_panel("proposal", first)
    panels.register_panel("proposal", second)
    assert panels.panels_for("proposal") == [second]
    assert panels.panels_for("case") == []


def test_panels_come_in_their_order_then_by_key():
    panels.register_panel("case", fake_panel(key="late", order=200))
    panels.register_panel("case", fake_panel(key="b"))
    panels.register_panel("case", fake_panel(key="a"))
    assert [panel.key for panel in panels.panels_for("case")] == ["a", "b", "late"]


def test_a_page_the_core_does_not_have_is_refused():
    with pytest.raises(ValueError, match="station"):
        panels.register_panel("station", fake_panel())
    assert panels.panels_for("station") == []


def test_unregistering_takes_the_panel_away():
    panels.register_panel("proposal", fake_panel())
    panels.unregister_panel("proposal", "fake")
    panels.unregister_panel("proposal", "never-registered")
    assert panels.panels_for("proposal") == []


# Loading ------------------------------------------------------------------------------------------
def test_each_panel_loads_once_for_all_the_objects_of_a_page(proposal, propose_more):
    recorder = Recorder()
    panels.register_panel("proposal", fake_panel(load=recorder))
    panels.register_panel("proposal", fake_panel(key="empty", load=load_nothing))
    proposals = [proposal, *propose_more(2)]

    shown = panels.load("proposal", AnonymousUser(), proposals)

    assert len(recorder.calls) == 1
    user, page, pks = recorder.calls[0]
    assert (user.is_anonymous, page, pks) == (True, "proposal", [p.pk for p in proposals])
    assert set(shown) == {p.pk for p in proposals}
    for item in proposals:
        by_key = {one.panel.key: one for one in shown[item.pk]}
        fake, empty = by_key["fake"], by_key["empty"]
        assert fake.items == [f"proposal-{item.pk}-a", f"proposal-{item.pk}-b"]
        assert fake.object is item
        assert fake.visible
        assert empty.items == []
        assert empty.actions == []
        assert not empty.visible


def test_loading_no_objects_asks_no_panel(django_assert_num_queries):
    recorder = Recorder()
    panels.register_panel("case", fake_panel(load=recorder))
    with django_assert_num_queries(0):
        assert panels.load("case", AnonymousUser(), []) == {}
    assert recorder.calls == []


def test_callables_may_be_dotted_paths_imported_when_used(proposal):
    panels.register_panel(
        "proposal",
        fake_panel(
            load="tests.core.test_panels.load_nothing",
            actions="tests.core.test_panels.one_link",
        ),
    )
    [shown] = panels.load_one("proposal", None, proposal)
    assert shown.items == []
    assert shown.actions == [panels.Link("去看看", f"/somewhere/{proposal.pk}/")]
    assert shown.visible


def one_link(user, obj):
    return [("去看看", f"/somewhere/{obj.pk}/")]


def test_the_api_gives_every_panel_by_key_with_an_empty_list_when_nothing_is_seen(proposal, rf):
    panels.register_panel("proposal", fake_panel())
    panels.register_panel("proposal", fake_panel(key="empty", load=load_nothing))
    request = rf.get("/api/v1/proposals/1/")
    shown = panels.load_one("proposal", AnonymousUser(), proposal)
    assert panels.serialized(shown, request) == {
        "fake": [
            {"row": f"proposal-{proposal.pk}-a", "path": "/api/v1/proposals/1/"},
            {"row": f"proposal-{proposal.pk}-b", "path": "/api/v1/proposals/1/"},
        ],
        "empty": [],
    }


def test_timeline_entries_come_with_their_panel(proposal):
    moment = timezone.now()
    panel = fake_panel(
        timeline=lambda item: (
            [panels.TimelineEntry(moment, "done", f"{item} 完成")] if item.endswith("-a") else []
        )
    )
    panels.register_panel("proposal", panel)
    entries = panels.timeline_entries(panels.load_one("proposal", None, proposal))
    assert entries == [
        (panel, panels.TimelineEntry(moment, "done", f"proposal-{proposal.pk}-a 完成"))
    ]


# The pages and the API ----------------------------------------------------------------------------
def test_with_no_panel_the_proposal_page_and_api_are_as_they_were(client, proposal):
    page = client.get(reverse("proposals:detail", args=[proposal.pk]))
    assert page.status_code == 200
    assert page.context["panels"] == []
    assert b"wing-panel" not in page.content
    body = APIClient().get(f"/api/v1/proposals/{proposal.pk}/").json()
    assert body["panels"] == {}
    assert {row["kind"] for row in body["timeline"]} == {"published"}


def test_with_no_panel_the_case_page_and_api_are_as_they_were(client, case):
    page = client.get(reverse("cases:detail", args=[case.reference]))
    assert page.status_code == 200
    assert page.context["panels"] == []
    assert b"wing-panel" not in page.content
    assert APIClient().get(f"/api/v1/cases/{case.reference}/").json()["panels"] == {}


def test_a_panel_shows_its_rows_and_links_on_the_proposal_page(client, proposal, row_template):
    panels.register_panel("proposal", fake_panel(template=row_template, actions=one_link))
    path = reverse("proposals:detail", args=[proposal.pk])
    html = client.get(path).content.decode()
    assert 'id="panel-fake"' in html
    assert '<h2 id="panel-fake-head">假板块</h2>' in html
    assert f'<li class="fake-row">proposal-{proposal.pk}-b of {proposal.pk}</li>' in html
    assert f'<p class="fake-path">{path}</p>' in html
    assert f'href="/somewhere/{proposal.pk}/">去看看</a>' in html


def test_a_panel_with_nothing_for_the_reader_is_left_off_the_page(client, proposal, row_template):
    panels.register_panel("proposal", fake_panel(template=row_template, load=load_nothing))
    html = client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    assert "panel-fake" not in html


def test_a_panel_shows_on_the_case_page_and_in_the_case_api(client, case, row_template):
    panels.register_panel("case", fake_panel(template=row_template))
    html = client.get(reverse("cases:detail", args=[case.reference])).content.decode()
    assert f'<li class="fake-row">case-{case.pk}-a of {case.pk}</li>' in html
    body = APIClient().get(f"/api/v1/cases/{case.reference}/").json()
    assert [row["row"] for row in body["panels"]["fake"]] == [
        f"case-{case.pk}-a",
        f"case-{case.pk}-b",
    ]


def test_the_case_page_of_a_private_case_stays_closed_to_others(client, private_case):
    recorder = Recorder()
    panels.register_panel("case", fake_panel(load=recorder))
    assert client.get(reverse("cases:detail", args=[private_case.reference])).status_code == 404
    assert APIClient().get(f"/api/v1/cases/{private_case.reference}/").status_code == 404
    assert recorder.calls == []


def test_a_panels_timeline_entries_join_the_proposal_timeline_on_the_page_and_in_the_api(
    client, proposal, row_template
):
    later = proposal.published_at + dt.timedelta(days=3)
    panels.register_panel(
        "proposal",
        fake_panel(
            title="合作",
            timeline=lambda item: (
                [panels.TimelineEntry(later, "done", f"{item} 已完成")]
                if item.endswith("-a")
                else []
            ),
        ),
    )
    page = client.get(reverse("proposals:detail", args=[proposal.pk]))
    steps = page.context["steps"]
    assert [step.kind for step in steps] == ["published", "panel"]
    assert steps[1].title == f"proposal-{proposal.pk}-a 已完成"
    assert steps[1].detail == "合作"
    assert steps[1].at == later

    timeline = APIClient().get(f"/api/v1/proposals/{proposal.pk}/").json()["timeline"]
    assert [row["kind"] for row in timeline] == ["published", "panel"]
    step = timeline[1]
    assert step["label"] == "合作"
    assert (step["panel"], step["panel_kind"], step["text"]) == (
        "fake",
        "done",
        f"proposal-{proposal.pk}-a 已完成",
    )
    assert dt.datetime.fromisoformat(step["at"]) == later
    assert timeline[0]["panel"] is None
    assert timeline[0]["text"] is None


def test_the_schema_documents_panels_as_an_object_of_lists_of_objects():
    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("ProposalDetail", "CaseDetail"):
        field = components[name]["properties"]["panels"]
        assert field["type"] == "object"
        assert field["additionalProperties"]["type"] == "array"
        assert field["additionalProperties"]["items"]["type"] == "object"
        assert "panels" in components[name]["required"]
    timeline = components["ProposalTimelineEvent"]["properties"]
    assert {"panel", "panel_kind", "text"} <= set(timeline)


# Helpers ---------------------------------------------------------------------------------------
@pytest.fixture
def propose_more(author, category, service):
    def make(n: int) -> list[Proposal]:
        return [
            proposal_services.proposal_create(
                actor=author,
                title=f"建议 {number}",
                body="内容",
                category=category,
                scope="service",
                service=service,
                publish_now=True,
            )
            for number in range(n)
        ]

    return make
