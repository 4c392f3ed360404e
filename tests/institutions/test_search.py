"""Registry search as people type it: any case, «ё» or «е», name, short name, INN or the
address of a community — on PostgreSQL here and on the demo's SQLite (the same fold)."""

from __future__ import annotations

import pytest
from django.db import connection

from institutions.filters import CommunityFilter, InstitutionFilter, TerritoryFilter
from institutions.models import Community, Institution, Territory
from portal.lib.search import CYRILLIC_FOLDED, CYRILLIC_UPPER, fold_text
from tests.factories import CommunityFactory, InstitutionFactory


@pytest.fixture
def pokrovka(territory_a):
    institution = InstitutionFactory(
        short_name="Библиотека с. Покровка", full_name="МБУК «Покровская сельская библиотека»",
        territory=territory_a, inn="6311234567")
    CommunityFactory(institution=institution, title="Библиотека Покровки",
                     url="https://vk.com/pokrovka_lib", screen_name="pokrovka_lib")
    InstitutionFactory(short_name="Дом культуры «Берёзка»", territory=territory_a)
    InstitutionFactory(short_name="Клуб с. Ивановка", territory=territory_a)
    return institution


def found(query: str) -> list[str]:
    filterset = InstitutionFilter({"q": query}, queryset=Institution.objects.all())
    assert filterset.is_valid()
    return sorted(i.short_name for i in filterset.qs)


@pytest.mark.parametrize("query", ["покровка", "ПОКРОВКА", "Покровка", "пОкРоВкА"])
def test_search_ignores_the_case_of_cyrillic(pokrovka, query):
    assert found(query) == ["Библиотека с. Покровка"]


@pytest.mark.parametrize("query", ["березка", "берёзка", "БЕРЁЗКА", "Березка"])
def test_search_reads_yo_as_ye_both_ways(pokrovka, query):
    assert found(query) == ["Дом культуры «Берёзка»"]


def test_search_finds_by_full_name_inn_and_community_address(pokrovka):
    assert found("покровская сельская") == ["Библиотека с. Покровка"]
    assert found("6311234567") == ["Библиотека с. Покровка"]
    assert found("vk.com/POKROVKA_lib") == ["Библиотека с. Покровка"]
    assert found("несуществующее") == []


def test_community_and_territory_search_fold_too(pokrovka, territory_a):
    communities = CommunityFilter({"q": "ПОКРОВКИ"}, queryset=Community.objects.all()).qs
    assert [c.title for c in communities] == ["Библиотека Покровки"]
    territories = TerritoryFilter({"q": "алексеевский"}, queryset=Territory.objects.all()).qs
    assert list(territories) == [territory_a]


def test_the_registry_page_searches_the_same_way(pokrovka, regional, login):
    page = login(regional).get("/registry/", {"q": "покровка"})
    assert page.context["page"].paginator.count == 1


def test_the_python_and_sql_folds_agree():
    assert fold_text("ЁЛКА Ёлка ёлка") == "елка елка елка"
    assert len(CYRILLIC_UPPER) == len(CYRILLIC_FOLDED)
    assert fold_text(CYRILLIC_UPPER) == CYRILLIC_FOLDED


def test_the_fold_works_on_sqlite_as_registered_for_the_demo():
    """The demo runs on SQLite: the same receiver gives its connections ``portal_fold``."""
    import sqlite3

    from portal.lib.search import SQLITE_FUNCTION, register_sqlite_fold

    class Wrapper:
        vendor = "sqlite"

        def __init__(self) -> None:
            self.connection = sqlite3.connect(":memory:")

    wrapper = Wrapper()
    register_sqlite_fold(sender=None, connection=wrapper)
    row = wrapper.connection.execute(f"SELECT {SQLITE_FUNCTION}('Берёзка ПОКРОВКА')").fetchone()
    assert row == ("березка покровка",)
    assert connection.vendor == "postgresql"  # the rest of this file ran on PostgreSQL
