"""People: managers invite, change and switch off users; a list of 2,000 from one file."""

import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from openpyxl import Workbook

from institutions.choices import Role
from institutions.models import ApiToken, UserProfile

pytestmark = pytest.mark.django_db
HEADER = ["ФИО", "Эл. почта", "Роль", "Территории", "Учреждения"]


def _xlsx(rows: list[list]) -> io.BytesIO:
    book = Workbook()
    book.active.append(HEADER)
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    out.seek(0)
    out.name = "people.xlsx"
    return out


def _upload_and_apply(page, rows: list[list]):
    preview = page.post("/people/import/", {"file": _xlsx(rows)})
    assert preview.status_code == 200
    plan, token = preview.context["plan"], preview.context["token"]
    if token is None:
        return plan, None
    return plan, page.post("/people/import/apply/", {"token": token})


def _link(message) -> str:
    return re.search(r"http://testserver(/invite/\S+/)", message.body)[1]


def test_two_thousand_people_preview_apply_and_reapply_without_duplicates(
        login, regional, territory_a, institution_a):
    institution_a.inn = "6312345678"
    institution_a.save()
    rows = []
    for n in range(2000):
        if n % 2:
            rows.append([f"Иванова Мария {n}", f"editor{n}@culture.example", "редактор", "",
                         "6312345678"])
        else:
            rows.append([f"Петров Пётр {n}", f"VIEWER{n}@culture.example", "наблюдатель",
                         territory_a.oktmo, ""])
    page = login(regional)
    users_before = get_user_model().objects.count()
    plan, applied = _upload_and_apply(page, rows)
    assert (plan.count("create"), plan.count("reject")) == (2000, 0)
    assert applied.status_code == 302
    assert get_user_model().objects.count() == users_before + 2000
    editor = get_user_model().objects.get(email="editor1@culture.example")
    assert (editor.last_name, editor.first_name) == ("Иванова", "Мария 1")
    assert editor.profile.role == Role.EDITOR
    assert list(editor.profile.institutions.all()) == [institution_a]
    viewer = get_user_model().objects.get(email="viewer0@culture.example")
    assert list(viewer.profile.territories.all()) == [territory_a]
    assert not viewer.has_usable_password()
    assert len(mail.outbox) == 2000

    again, applied_again = _upload_and_apply(page, rows)
    assert (again.count("unchanged"), again.count("create")) == (2000, 0)
    assert applied_again is None
    assert get_user_model().objects.count() == users_before + 2000
    assert UserProfile.objects.filter(user__email__endswith="@culture.example").count() == 2000

    rows[1][2] = "наблюдатель"
    rows[1][3] = territory_a.oktmo
    changed, _ = _upload_and_apply(page, rows)
    assert (changed.count("update"), changed.count("create")) == (1, 0)
    editor.profile.refresh_from_db()
    assert editor.profile.role == Role.VIEWER
    assert len(mail.outbox) == 2000  # nobody new, nobody invited twice


def test_the_invitation_link_sets_a_password_once_and_then_no_more(client, login, regional):
    page = login(regional)
    answer = page.post("/people/new/", {"last_name": "Смирнова", "first_name": "Ольга",
                                        "email": "olga@culture.example", "role": Role.VIEWER,
                                        "is_active": "on"})
    assert answer.status_code == 302
    [message] = mail.outbox
    assert message.to == ["olga@culture.example"]
    link = _link(message)
    opened = client.get(link, follow=True)
    assert opened.context["validlink"]
    set_url = opened.redirect_chain[-1][0]
    done = client.post(set_url, {"new_password1": "Oblast-2026-pass",
                                 "new_password2": "Oblast-2026-pass"})
    assert done.status_code == 302 and done["Location"] == "/invite/done/"
    olga = get_user_model().objects.get(email="olga@culture.example")
    assert olga.check_password("Oblast-2026-pass")
    reused = client.get(link, follow=True)
    assert not reused.context["validlink"]
    assert "уже использована или устарела" in reused.content.decode()


def test_an_invitation_link_expires(client, login, regional, settings):
    login(regional).post("/people/new/", {"last_name": "Орлов", "email": "orlov@example.org",
                                          "role": Role.VIEWER, "is_active": "on"})
    settings.PASSWORD_RESET_TIMEOUT = -1  # any link is older than this
    assert not client.get(_link(mail.outbox[0]), follow=True).context["validlink"]


def test_every_refused_row_is_named(login, regional, territory_a):
    rows = [["Без Почты", "не-почта", "редактор", "", ""],
            ["Кто-то", "a@example.org", "директор", "", ""],
            ["Кто-то Ещё", "b@example.org", "наблюдатель", "99999999", ""],
            ["Повтор", "A@example.org", "наблюдатель", territory_a.oktmo, ""]]
    plan, applied = _upload_and_apply(login(regional), rows)
    assert applied is None and plan.count("reject") == 4
    reasons = {row.number: " ".join(row.reasons) for row in plan.rows}
    assert "адрес почты «не-почта» неверен" in reasons[2]
    assert "роль «директор» не распознана" in reasons[3]
    assert "99999999 нет в реестре" in reasons[4]
    assert "уже указан в строке 3" in reasons[5]
    assert not get_user_model().objects.filter(email__endswith="example.org").exists()


def test_a_municipal_department_manages_only_its_territorys_editors_and_viewers(
        login, municipal_a, editor_a, institution_b, regional):
    from tests.factories import ProfileFactory

    editor_b = ProfileFactory(user__username="editor_b", role=Role.EDITOR,
                              institutions=[institution_b]).user
    page = login(municipal_a)
    listed = page.get("/people/").content.decode()
    assert "editor_a" in listed and "editor_b" not in listed and "methodist" not in listed
    assert page.get(f"/people/{editor_b.pk}/").status_code == 404
    refused = page.post("/people/new/", {"last_name": "Х", "email": "x@example.org",
                                         "role": Role.REGIONAL_METHODOLOGIST, "is_active": "on"})
    assert refused.status_code == 200 and not get_user_model().objects.filter(
        email="x@example.org").exists()
    outside = page.post("/people/new/", {"last_name": "Х", "email": "x@example.org",
                                         "role": Role.EDITOR, "institutions": [institution_b.pk],
                                         "is_active": "on"})
    assert outside.status_code == 200
    assert not get_user_model().objects.filter(email="x@example.org").exists()


def test_a_switched_off_person_cannot_use_their_token(login, regional, api_as, viewer):
    _, key = ApiToken.objects.create_key(user=viewer, name="скрипт")
    assert login(regional).post(f"/people/{viewer.pk}/deactivate/").status_code == 302
    viewer.refresh_from_db()
    assert not viewer.is_active
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/territories/").status_code == 401


def test_people_pages_are_for_managers(login, editor_a, viewer):
    assert login(editor_a).get("/people/").status_code == 403
    assert login(viewer).get("/people/import/").status_code == 403
