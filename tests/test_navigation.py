"""The menu by role, and a crawler that walks it as every persona.

For each persona, every page linked from the main menu answers without a server error or a
refusal, shows no «None» and no untranslated English, and offers no form that the persona would
be refused when submitting it (each POST form is submitted empty: a refusal is a 403, anything
else — a validation message, a redirect — means the form was the persona's to use).
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

import pytest

from institutions.choices import Role
from reports.models import ReportState
from tests.factories import ProfileFactory
from tests.reports.helpers_table1 import MARCH, fill, report_in

PERSONAS = ["regional", "municipal_a", "editor_a", "viewer", "api_client_user", "outsider",
            "staff_methodologist"]
# Latin words a Russian page may carry: names of networks, formats and protocols, and ER (the
# engagement rate, the metric's name in the trade and in the agency's methodology).
ALLOWED_LATIN = {"vk", "ok", "api", "excel", "csv", "json", "xlsx", "token", "authorization",
                 "zip", "swagger", "openapi", "id", "http", "https", "com", "ru", "url", "er"}
URLISH = re.compile(r"\S*[/@_.:]\S*")  # addresses, e-mails, user names, file names
LATIN_WORD = re.compile(r"\b[A-Za-z]{2,}\b")


class PageReader(HTMLParser):
    """Visible text, the main menu's links and the POST forms of one page."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.menu: list[str] = []
        self.forms: list[dict] = []
        self._skip = 0
        self._in_menu = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attributes = dict(attrs)
        if tag in ("script", "style", "template"):
            self._skip += 1
        if tag == "nav" and attributes.get("aria-label") == "Основное меню":
            self._in_menu = True
        if tag == "a" and self._in_menu:
            self.menu.append(attributes.get("href", ""))
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self.forms.append(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "template"):
            self._skip -= 1
        if tag == "nav":
            self._in_menu = False

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def read(content: bytes) -> PageReader:
    reader = PageReader()
    reader.feed(content.decode())
    return reader


def english_words(text: str) -> list[str]:
    text = URLISH.sub(" ", html.unescape(text))
    return sorted({w for w in LATIN_WORD.findall(text) if w.lower() not in ALLOWED_LATIN})


@pytest.fixture
def staff_methodologist(db):
    return ProfileFactory(user__username="staff_methodologist", user__is_staff=True,
                          user__is_superuser=True, role=Role.REGIONAL_METHODOLOGIST).user


@pytest.fixture
def month_in_progress(world, institution_a, institution_b):
    fill(world["a"], MARCH)
    report_in(institution_a, MARCH, ReportState.SUBMITTED)
    report_in(institution_b, MARCH, ReportState.ACCEPTED)


def menu_of(client) -> list[str]:
    home = client.get("/")
    assert home.status_code == 200
    return read(home.content).menu


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_page_in_the_menu_works_for_the_persona(persona, request, login,
                                                     month_in_progress):
    user = request.getfixturevalue(persona)
    client = login(user)
    links = menu_of(client)
    assert links, "the menu is empty"
    for link in links:
        if link.startswith("/admin/"):
            assert client.get(link).status_code == 200
            continue  # Django's own admin, translated by Django
        response = client.get(link)
        assert response.status_code == 200, f"{persona}: {link} → {response.status_code}"
        page = read(response.content)
        text = " ".join(page.text).replace(user.username, " ")  # the signed-in login name
        assert not re.search(r"\bNone\b", text), f"{persona}: «None» on {link}"
        assert english_words(text) == [], f"{persona}: English on {link}"
        for form in page.forms:
            action = form.get("action") or link
            if action.startswith("/logout/"):
                continue
            answer = client.post(action, {})
            assert answer.status_code != 403, f"{persona}: {link} offers {action}, refused"
            assert answer.status_code < 500, f"{persona}: {action} → {answer.status_code}"


EXPECTED = {
    "editor_a": {"Мои задачи", "Реестр", "Таблица 1", "Отчёты", "Рейтинги", "Качество ведения",
                 "Динамика", "Прошлые данные", "API"},
    "viewer": {"Мои задачи", "Реестр", "Отчёты", "Полнота сдачи", "Рейтинги", "Качество ведения",
               "Динамика", "Сводные отчёты", "Выгрузки", "API"},
    "municipal_a": {"Мои задачи", "Реестр", "Отчёты", "Полнота сдачи", "Рейтинги",
                    "Качество ведения", "Динамика", "Сводные отчёты", "Выгрузки",
                    "Прошлые данные", "Пользователи", "API"},
    "regional": {"Мои задачи", "Реестр", "Таблица 1", "Отчёты", "Полнота сдачи",
                 "Сбор из VK и OK", "Рейтинги", "Качество ведения", "Динамика", "Сводные отчёты",
                 "Выгрузки", "Прошлые данные", "Пользователи", "API"},
    "outsider": {"Мои задачи"},
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_the_menu_shows_what_the_role_can_use(persona, request, login):
    response = login(request.getfixturevalue(persona)).get("/")
    labels = {item.label for item in response.context["nav_items"]}
    assert labels == EXPECTED[persona]
    assert 'id="nav-admin"' not in response.content.decode()


def test_staff_see_a_link_to_the_admin(staff_methodologist, login):
    text = login(staff_methodologist).get("/").content.decode()
    assert 'id="nav-admin"' in text and 'href="/admin/"' in text


def test_a_staff_editor_is_not_linked_to_an_admin_that_would_refuse_them(editor_a, login):
    editor_a.is_staff = True
    editor_a.save()
    client = login(editor_a)
    assert 'id="nav-admin"' not in client.get("/").content.decode()
    assert client.get("/admin/").status_code == 302  # the admin's login: a refusal


def test_the_viewer_is_not_offered_the_upload_or_collection(viewer, login, world):
    text = login(viewer).get("/").content.decode()
    assert "/table1/upload/" not in text and "/collection/" not in text
    assert login(viewer).get("/reports/").content.decode().count("/table1/") == 0
