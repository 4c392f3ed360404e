"""Checks of Table-1 figures: hard errors that block saving and warnings that need a comment.

Pure functions over plain data (no database): the services collect the figures and pass them in.
"""

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass

from metrics.choices import TABLE1_INDICATORS, Indicator
from portal.lib.months import month_label

Figures = Mapping[str, int | None]  # indicator -> figure (None: not reported)

_SPACES = re.compile(r"[\s\u00a0\u202f]+")


@dataclass(frozen=True)
class Problem:
    """One finding about one cell or one community-month; ``message`` is for people."""

    code: str
    message: str
    community_id: int | None = None
    month: dt.date | None = None
    indicator: str | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["month"] = self.month.strftime("%Y-%m") if self.month else None
        return data


class FigureError(ValueError):
    """A typed figure is not a non-negative integer; the message says why, in Russian."""


def parse_figure(raw: object) -> int | None:
    """A cell as a person typed it → a non-negative integer, or None when left empty.

    Spaces between thousands ("12 345") are accepted; a fraction, a sign or text is not.
    """
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise FigureError("нужно целое неотрицательное число")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float):
        if not raw.is_integer():
            raise FigureError(f"«{raw:g}» — не целое число")
        number = int(raw)
    else:
        text = _SPACES.sub("", str(raw))
        if not text:
            return None
        if re.fullmatch(r"-\d+", text):
            raise FigureError(f"«{raw}» — отрицательное число")
        if re.fullmatch(r"\d+[.,]0*", text):
            text = re.split(r"[.,]", text)[0]
        if not text.isdecimal():
            if re.fullmatch(r"-?\d+[.,]\d+", text):
                raise FigureError(f"«{raw}» — не целое число")
            raise FigureError(f"«{raw}» — не число")
        number = int(text)
    if number < 0:
        raise FigureError(f"«{raw}» — отрицательное число")
    if number > 9_000_000_000_000:
        raise FigureError(f"«{raw}» — слишком большое число")
    return number


def hard_errors(
    *, community_id: int, month: dt.date, figures: Figures, today: dt.date
) -> list[Problem]:
    """Problems that block saving one community-month (figures after the write)."""
    problems = []
    if month > today.replace(day=1):
        problems.append(Problem(
            "future_month", f"{month_label(month).capitalize()} ещё не наступил.",
            community_id, month,
        ))
    visits, unique = figures.get(Indicator.VISITS), figures.get(Indicator.UNIQUE_VISITORS)
    if visits is not None and unique is not None and unique > visits:
        problems.append(Problem(
            "unique_above_visits",
            f"Уникальных посетителей ({unique}) больше, чем посещений ({visits}).",
            community_id, month, Indicator.UNIQUE_VISITORS,
        ))
    return problems


@dataclass(frozen=True)
class Thresholds:
    """Configurable warning limits (settings ``REPORT_WARN_*``)."""

    jump_share: float
    members_drop_share: float


def warnings_for(
    *, community_id: int, month: dt.date, figures: Figures, previous: Figures,
    thresholds: Thresholds,
) -> list[Problem]:
    """Unusual but possible figures of one community-month: they need a comment on submit."""
    reported = [figures.get(i) for i in TABLE1_INDICATORS]
    before = [previous.get(i) for i in TABLE1_INDICATORS]
    where = {"community_id": community_id, "month": month}
    if all(v is None for v in reported):
        return []
    if all(v == 0 for v in reported):
        return [Problem("all_zeros", "Все показатели месяца равны нулю.", **where)]
    problems = []
    if reported == before and None not in reported:
        problems.append(Problem(
            "same_as_previous", "Все показатели совпадают с предыдущим месяцем.", **where
        ))
    problems += _members_drop(figures, previous, thresholds, where)
    problems += _jumps(figures, previous, thresholds, where)
    return problems


def _members_drop(figures: Figures, previous: Figures, thresholds: Thresholds,
                  where: dict) -> list[Problem]:
    now, before = figures.get(Indicator.MEMBERS), previous.get(Indicator.MEMBERS)
    if now is None or not before or now >= before:
        return []
    share = (before - now) / before
    if share <= thresholds.members_drop_share:
        return []
    return [Problem(
        "members_drop",
        f"Участников стало меньше на {share:.0%}: было {before}, стало {now}.",
        indicator=Indicator.MEMBERS, **where,
    )]


def _jumps(figures: Figures, previous: Figures, thresholds: Thresholds,
           where: dict) -> list[Problem]:
    problems = []
    for indicator in TABLE1_INDICATORS:
        now, before = figures.get(indicator), previous.get(indicator)
        if now is None or not before:
            continue
        # Symmetric in ratio: with 100% both "more than doubled" and "less than half" warn.
        ratio, limit = now / before, 1 + thresholds.jump_share
        if 1 / limit <= ratio <= limit:
            continue
        share = abs(now - before) / before
        if indicator == Indicator.MEMBERS and now < before:
            continue  # reported as members_drop
        label = Indicator(indicator).label.rstrip("*")
        problems.append(Problem(
            "jump",
            f"«{label}»: изменение на {share:.0%} к предыдущему месяцу ({before} → {now}).",
            indicator=indicator, **where,
        ))
    return problems
