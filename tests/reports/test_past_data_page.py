"""The past-data page: check a file, then load it; errors by row and column."""

import io

import pytest

from metrics.models import MemberSnapshot, MetricValue

pytestmark = pytest.mark.django_db


def _file(name: str, text: str) -> io.BytesIO:
    data = io.BytesIO(text.encode())
    data.name = name
    return data


def test_members_are_checked_then_loaded(login, editor_a, community_a):
    page = login(editor_a)
    text = f"Сообщество;Дата;Участников\n{community_a.url};31.01.2026;1200\n"
    checked = page.post("/past-data/", {"kind": "members", "action": "check",
                                        "file": _file("old.csv", text)})
    assert checked.status_code == 200
    assert "проверен, ошибок нет" in checked.content.decode()
    assert not MemberSnapshot.objects.exists()
    loaded = page.post("/past-data/", {"kind": "members", "action": "load",
                                       "file": _file("old.csv", text)})
    assert "загружен" in loaded.content.decode()
    assert MemberSnapshot.objects.get().members == 1200


def test_refused_values_are_listed_by_row_and_column(login, editor_a, community_a):
    text = f"Сообщество;Месяц;Посещения\n{community_a.pk};2025-11;много\n"
    answer = login(editor_a).post("/past-data/", {"kind": "values", "action": "load",
                                                  "file": _file("v.csv", text)})
    assert answer.context["errors"][0]["row"] == 2
    assert answer.context["errors"][0]["column"] == "C"
    assert not MetricValue.objects.exists()


def test_readers_cannot_open_the_page(login, viewer):
    assert login(viewer).get("/past-data/").status_code == 403
