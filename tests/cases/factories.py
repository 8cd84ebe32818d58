from __future__ import annotations

import factory

from governance.cases.models import Category, RoutingRule, SlaPolicy


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"category-{n}")
    name_zh = factory.Sequence(lambda n: f"类别{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule
        skip_postgeneration_save = True

    name_zh = factory.Sequence(lambda n: f"规则{n}")
    name_en = factory.Sequence(lambda n: f"Rule {n}")

    @factory.post_generation
    def cohandlers(self, create, extracted, **kwargs):
        if create and extracted:
            self.cohandlers.set(extracted)


class SlaPolicyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SlaPolicy

    acknowledge_hours = 8
    resolve_days = 5
