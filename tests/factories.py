"""factory_boy factories for the registry and the numbers."""

import datetime as dt

import factory
from django.contrib.auth import get_user_model

from demo.registry import make_inn
from institutions.choices import InstitutionType, Network, Role, Subordination, TerritoryKind
from institutions.models import Community, Institution, Territory, UserProfile
from metrics.choices import Indicator, ValueSource
from metrics.models import MemberSnapshot, MetricValue


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory

    name = factory.Sequence(lambda n: f"Территория {n} муниципальный район")
    kind = TerritoryKind.MUNICIPAL_DISTRICT
    # A prefix no test names explicitly: "36{n}000" once met territory A's 36602000 after the
    # 602nd territory of a run, failing whichever test came next (passing when run alone).
    oktmo = factory.Sequence(lambda n: f"99{n:06d}")


class InstitutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Institution

    full_name = factory.LazyAttribute(lambda o: f"МБУК «{o.short_name}»")
    short_name = factory.Sequence(lambda n: f"Дом культуры № {n}")
    type = InstitutionType.CLUB
    inn = factory.Sequence(lambda n: make_inn(__import__("random").Random(n)))
    territory = factory.SubFactory(TerritoryFactory)
    subordination = Subordination.MUNICIPAL


class CommunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Community

    institution = factory.SubFactory(InstitutionFactory)
    network = Network.VK
    network_id = factory.Sequence(lambda n: 200_000_000 + n)
    url = factory.LazyAttribute(lambda o: f"https://vk.com/club{o.network_id}")
    title = factory.LazyAttribute(lambda o: f"Сообщество {o.institution.short_name}")
    is_verified = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password("secret-pass-1")


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserProfile
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    role = Role.VIEWER

    @factory.post_generation
    def territories(self, create, extracted, **kwargs):
        if create and extracted:
            self.territories.set(extracted)

    @factory.post_generation
    def institutions(self, create, extracted, **kwargs):
        if create and extracted:
            self.institutions.set(extracted)


class MetricValueFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricValue

    community = factory.SubFactory(CommunityFactory)
    month = dt.date(2026, 1, 1)
    indicator = Indicator.MEMBERS
    value = 100
    source = ValueSource.MANUAL


class MemberSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MemberSnapshot

    community = factory.SubFactory(CommunityFactory)
    date = dt.date(2026, 1, 1)
    members = 100
