"""Months as the first day of the month: the unit of Table 1."""

import datetime as dt

MONTH_ABBR_RU = ["янв.", "фев.", "март", "апр.", "май", "июнь",
                 "июль", "авг.", "сен.", "окт.", "ноя.", "дек."]
MONTH_NAMES_RU = ["январь", "февраль", "март", "апрель", "май", "июнь",
                  "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь"]


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return add_months(month_start(month), 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every month from ``first`` to ``last`` inclusive."""
    out, current = [], month_start(first)
    while current <= month_start(last):
        out.append(current)
        current = add_months(current, 1)
    return out


def parse_month(text: str) -> dt.date:
    """Accept ``YYYY-MM`` or ``YYYY-MM-DD``; raise ValueError otherwise."""
    parts = text.strip().split("-")
    if len(parts) not in (2, 3):
        raise ValueError(f"Месяц должен быть в виде ГГГГ-ММ: «{text}»")
    return dt.date(int(parts[0]), int(parts[1]), 1)


def month_label(month: dt.date) -> str:
    return f"{MONTH_NAMES_RU[month.month - 1]} {month.year}"
