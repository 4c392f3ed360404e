"""In the browser: people log in through the form and narrow the registry with its filters."""

import re

import pytest
from playwright.sync_api import Page, expect

from institutions.choices import InstitutionType
from tests.browser.conftest import login_through_form
from tests.factories import CommunityFactory, InstitutionFactory

DK_A, REG_LIB, MUSEUM_A = "Дом культуры Алексеевки", "Областная библиотека", "Музей Алексеевки"
LIB_B, THEATRE_B = "Библиотека Бора", "Театр Бора"


@pytest.fixture
def region(world):
    """World plus a museum in A and a theatre in B: five institutions, three of them in A."""
    territory_a = world["a"].institution.territory
    territory_b = world["b"].institution.territory
    museum = InstitutionFactory(short_name=MUSEUM_A, type=InstitutionType.MUSEUM,
                                territory=territory_a)
    CommunityFactory(institution=museum)
    InstitutionFactory(short_name=THEATRE_B, type=InstitutionType.THEATRE, territory=territory_b)
    return {"a": territory_a, "b": territory_b}


def registry_rows(page: Page) -> set[str]:
    return set(page.locator("#registry-table tbody td:first-child a").all_inner_texts())


def apply_filters(page: Page, **choices: str) -> None:
    for field, label in choices.items():
        page.locator(f"#id_{field}").select_option(label=label)
    page.get_by_role("button", name="Показать").click()
    page.wait_for_load_state()


def test_the_regional_methodologist_filters_the_registry_by_territory_and_type(
    logged_in_page, regional, region
):
    page = logged_in_page(regional)
    page.get_by_role("link", name="Реестр", exact=True).click()
    expect(page.get_by_role("heading", name="Реестр учреждений")).to_be_visible()
    expect(page.locator("#registry-count")).to_have_text("5")
    assert registry_rows(page) == {DK_A, REG_LIB, MUSEUM_A, LIB_B, THEATRE_B}

    apply_filters(page, territory=region["a"].name)
    expect(page.locator("#registry-count")).to_have_text("3")
    assert registry_rows(page) == {DK_A, REG_LIB, MUSEUM_A}
    assert f"territory={region['a'].pk}" in page.url

    apply_filters(page, type="Музей")
    expect(page.locator("#registry-count")).to_have_text("1")
    assert registry_rows(page) == {MUSEUM_A}
    expect(page.locator("#id_territory")).to_have_value(str(region["a"].pk))

    page.get_by_role("link", name="Сбросить").click()
    expect(page.locator("#registry-count")).to_have_text("5")

    page.get_by_role("link", name=MUSEUM_A).click()
    expect(page.get_by_role("heading", name=MUSEUM_A)).to_be_visible()
    expect(page.locator("#communities-table tbody tr")).to_have_count(1)


def test_the_municipal_user_of_a_sees_only_territory_a(logged_in_page, municipal_a, region):
    page = logged_in_page(municipal_a)
    expect(page.locator("#scope")).to_contain_text(region["a"].name)
    expect(page.locator("#count-institutions")).to_have_text("3")

    page.goto("/registry/")
    expect(page.locator("#registry-count")).to_have_text("3")
    assert registry_rows(page) == {DK_A, REG_LIB, MUSEUM_A}
    offered = page.locator("#id_territory option").all_inner_texts()
    assert offered == ["Все территории", region["a"].name]
    body = page.content()
    assert LIB_B not in body and THEATRE_B not in body and region["b"].name not in body

    apply_filters(page, no_community="Да")
    expect(page.locator("#registry-count")).to_have_text("1")
    assert registry_rows(page) == {REG_LIB}


def test_a_wrong_password_keeps_the_user_on_the_form_with_a_russian_message(page, regional):
    page.goto("/login/")
    page.get_by_label("Имя пользователя").fill(regional.username)
    page.get_by_label("Пароль").fill("не-тот-пароль")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Неверное имя пользователя или пароль")
    page.goto("/registry/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/registry/"))


def test_on_a_phone_registry_rows_become_cards_without_sideways_scrolling(
    mobile_page, regional, region
):
    page = login_through_form(mobile_page, regional)
    page.goto("/registry/")
    cells = page.locator("#registry-table tbody tr").first.locator("td")
    expect(cells.first).to_be_visible()
    first, second = cells.nth(0).bounding_box(), cells.nth(1).bounding_box()
    assert second["y"] >= first["y"] + first["height"] - 1, "cells of a row stack vertically"
    assert page.locator("#registry-table thead").bounding_box()["height"] <= 1
    for url in ("/", "/registry/", f"/registry/{region['a'].institutions.first().pk}/"):
        page.goto(url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 375, url
