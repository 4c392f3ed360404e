"""Every summary page and Excel file of the demo, for every persona, is fit to send on.

Nothing reads «None» or «nan», every plural agrees with its number, no Russian number has a
decimal point, and no data cell of a file is empty without a reason.
"""

import datetime as dt
import io
import re

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from demo.members import seed_member_history
from demo.registry import DEMO_USERS, seed_registry
from demo.table1 import seed_table1_history
from institutions.models import Territory
from portal.lib.months import add_months

pytestmark = pytest.mark.django_db

FORMS = {  # a noun's forms for 1, 2–4 and 5+ (and 11–14)
    "сообществ": ("сообщество", "сообщества", "сообществ"),
    "значени": ("значение", "значения", "значений"),
    "учреждени": ("учреждение", "учреждения", "учреждений"),
    "месяц": ("месяц", "месяца", "месяцев"),
}
COUNTED = re.compile(r"(?<![\d.,])(\d+)\s(сообществ\w*|значени\w*|учреждени\w*|месяц\w*)")
POINT_NUMBER = re.compile(r"(?<![\d.])\d+\.\d+(?![\d.])")
MISSING = re.compile(r"\b(None|nan|NaN)\b")


def _form(n: int) -> int:
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def problems(text: str) -> list[str]:
    """What a methodologist would send back in a piece of Russian text."""
    found = [f"«{m.group(0)}»" for m in MISSING.finditer(text)]
    found += [f"число с точкой «{m.group(0)}»" for m in POINT_NUMBER.finditer(text)]
    for match in COUNTED.finditer(text):
        n, word = int(match.group(1)), match.group(2)
        stem = next(s for s in FORMS if word.startswith(s))
        if word != FORMS[stem][_form(n)]:
            found.append(f"«{match.group(0)}» вместо «{n} {FORMS[stem][_form(n)]}»")
    return found


def test_the_checker_catches_what_the_issue_saw():
    assert problems("(2 сообществ), 41 сообществ, 55.6 %, None") == [
        "«None»", "число с точкой «55.6»", "«2 сообществ» вместо «2 сообщества»",
        "«41 сообществ» вместо «41 сообщество»"]
    assert problems("05.12.2026: 1 сообщество, 3 значения, 12 месяцев, 55,6 %") == []


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<option value="\d+"[^>]*>[^<]*</option>', " ", html)  # year pickers
    return re.sub(r"<[^>]+>", " ", html)


def _sheet_problems(content: bytes) -> list[str]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    found = []
    for sheet in book.worksheets:
        header_row = next(row[0].row for row in sheet.iter_rows()
                          if row[0].value == "Учреждение")
        last = sheet.auto_filter.ref.split(":")[1]
        last_row = int(re.sub(r"\D", "", last))
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    found += [f"{cell.coordinate}: {p}" for p in problems(cell.value)]
                elif isinstance(cell.value, float) and cell.value != cell.value:
                    found.append(f"{cell.coordinate}: nan")
            if header_row < row[0].row <= last_row:
                found += [f"{c.coordinate}: пустая ячейка" for c in row[:sheet.max_column]
                          if c.value in (None, "")]
            if row[0].row > last_row and row[0].value and not row[0].font.bold \
                    and str(row[0].value).startswith(("Итого", "ВСЕГО", "В среднем")):
                found.append(f"{row[0].coordinate}: итог не выделен")
    return found


@pytest.fixture
def demo(db):
    seed_registry(seed=1, institutions=40)
    seed_member_history(end=timezone.localdate() - dt.timedelta(days=1))
    seed_table1_history()
    return {u.username: get_user_model().objects.get(username=u.username) for u in DEMO_USERS}


def test_every_summary_page_and_file_of_the_demo_is_fit_to_send(demo, login):
    last_month = add_months(timezone.localdate().replace(day=1), -1)
    periods = [f"period=month&year={last_month.year}&number={last_month.month}",
               f"period=year&year={last_month.year}"]
    found, checked = [], 0
    for username, user in demo.items():
        client = login(user)
        for territory in Territory.objects.visible_to(user).order_by("pk")[:3]:
            for period in periods:
                query = f"territory={territory.pk}&{period}"
                page = client.get(f"/summaries/?{query}")
                if page.status_code == 403:
                    continue  # a persona without the page (the API client)
                assert page.status_code == 200, (username, query)
                found += [f"{username} {query}: {p}"
                          for p in problems(_visible_text(page.content.decode()))]
                file = client.get(f"/summaries/export.xlsx?{query}")
                found += [f"{username} {query} xlsx: {p}"
                          for p in _sheet_problems(b"".join(file.streaming_content))]
                checked += 1
    assert checked >= 10
    assert not found, "\n".join(found[:40])
