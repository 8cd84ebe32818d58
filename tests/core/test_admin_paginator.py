import pytest

from governance.core.admin import CappedCountPaginator
from governance.stakeholders.models import Organisation
from tests.factories import DepartmentFactory


@pytest.mark.django_db
def test_count_stops_at_the_cap(monkeypatch):
    DepartmentFactory.create_batch(5)
    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)

    paginator = CappedCountPaginator(Organisation.objects.order_by("pk"), per_page=2)

    assert paginator.count == 3
    assert paginator.num_pages == 2
    assert len(paginator.page(2).object_list) == 1


@pytest.mark.django_db
def test_count_below_the_cap_is_exact():
    DepartmentFactory.create_batch(4)

    assert CappedCountPaginator(Organisation.objects.order_by("pk"), per_page=2).count == 4
