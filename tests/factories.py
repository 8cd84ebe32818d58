from __future__ import annotations

import datetime as dt

import factory
from django.utils import timezone

from governance.stakeholders.models import Membership, Organisation, User
from governance.stations.models import Channel, OpeningHours, Service, Station, Visit

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    display_name = factory.Faker("name", locale="zh_CN")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """Users made by tests have a verified primary e-mail, as allauth requires to sign in."""
        if not create:
            return
        self.save()
        if extracted is False:
            return
        from allauth.account.models import EmailAddress

        EmailAddress.objects.update_or_create(
            user=self, email=self.email, defaults={"verified": True, "primary": True}
        )


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    kind = Organisation.Kind.DEPARTMENT
    slug = factory.Sequence(lambda n: f"org-{n}")
    name_zh = factory.Sequence(lambda n: f"组织{n}")
    name_en = factory.Sequence(lambda n: f"Organisation {n}")


class DepartmentFactory(OrganisationFactory):
    kind = Organisation.Kind.DEPARTMENT


class PartnerFactory(OrganisationFactory):
    kind = Organisation.Kind.PARTNER


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(DepartmentFactory)
    role = Membership.Role.STAFF


class StationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Station
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"station-{n}")
    name_zh = factory.Sequence(lambda n: f"服务站{n}")
    name_en = factory.Sequence(lambda n: f"Service Station {n}")
    address_zh = "成都市成华区二环路东二段"
    address_en = "East 2nd Section, 2nd Ring Road, Chenghua District, Chengdu"
    host = factory.SubFactory(PartnerFactory)

    @factory.post_generation
    def departments(self, create, extracted, **kwargs):
        if create and extracted:
            self.departments.set(extracted)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        if create and extracted is not False:
            OpeningHours.objects.bulk_create(
                OpeningHours(station=self, weekday=day, opens=dt.time(10), closes=dt.time(22))
                for day in range(7)
            )


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service
        django_get_or_create = ("service_code",)
        skip_postgeneration_save = True

    department = factory.SubFactory(DepartmentFactory)
    service_code = factory.Sequence(lambda n: f"SVC-{n:04d}")
    name_zh = factory.Sequence(lambda n: f"服务事项{n}")
    name_en = factory.Sequence(lambda n: f"Service {n}")
    channel = Channel.COUNTER
    target_minutes = 15

    @factory.post_generation
    def stations(self, create, extracted, **kwargs):
        if create and extracted:
            self.stations.set(extracted)


class VisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Visit

    station = factory.SubFactory(StationFactory)
    service = factory.SubFactory(ServiceFactory)
    ticket = factory.Sequence(lambda n: f"A{n:03d}")
    channel = Channel.COUNTER
    arrived_at = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(minutes=40))
    called_at = factory.LazyAttribute(lambda o: o.arrived_at + dt.timedelta(minutes=12))
    finished_at = factory.LazyAttribute(lambda o: o.called_at + dt.timedelta(minutes=9))
    outcome = Visit.Outcome.COMPLETED
