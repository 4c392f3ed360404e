"""What a ranking is: leagues, metrics with their formulas, parameters and periods."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings

from institutions.choices import InstitutionType, Network, Subordination
from metrics.choices import Indicator
from portal.errors import ValidationFailed
from portal.lib.months import add_months, month_end, month_start
from reports.counting import ALL, COUNTED_STATES, default_counting

# --- Leagues ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class League:
    """A band of audience size (members at the end of the period, inclusive bounds)."""

    code: str
    label: str
    low: int
    high: int | None


LEAGUES: tuple[League, ...] = (
    League("starter", "Лига «Старт»: до 500 участников", 0, 500),
    League("small", "Лига C: 501–2 000 участников", 501, 2_000),
    League("medium", "Лига B: 2 001–10 000 участников", 2_001, 10_000),
    League("large", "Лига A: более 10 000 участников", 10_001, None),
)
LEAGUE_BY_CODE = {league.code: league for league in LEAGUES}
LEAGUE_CHOICES = [(league.code, league.label) for league in LEAGUES]
LEAGUES_NOTE = (
    "Лига определяется по числу участников на конец периода (ближайшая запись не позже "
    "конечной даты): " + "; ".join(league.label for league in LEAGUES) + "."
)


def league_of(members: int | None) -> League | None:
    """The league of a community with ``members`` participants (None when unknown)."""
    if members is None:
        return None
    for league in LEAGUES:
        if members >= league.low and (league.high is None or members <= league.high):
            return league
    return None


def flagship_threshold() -> int:
    return int(getattr(settings, "FLAGSHIP_MEMBERS_THRESHOLD", 500))


# --- Metrics ------------------------------------------------------------------------------------

SNAPSHOTS, VALUES = "snapshots", "values"
INTERACTIONS_NOTE = (
    "Взаимодействия = отметки «Нравится» + репосты + комментарии (просмотры взаимодействием "
    "не считаются)."
)
RANKING_METHOD_NOTE = (
    "Места: стандартное соревновательное ранжирование («1224»): при равных значениях "
    "сообщества делят место, следующее место пропускается. В ТОП-N входят все, чьё место не "
    "больше N. Строки с одинаковым местом идут в порядке кода сообщества."
)
ENGAGEMENT_INDICATORS = [
    Indicator.POSTS, Indicator.LIKES, Indicator.REPOSTS, Indicator.COMMENTS, Indicator.VIEWS,
]
SUMMED_TABLE1 = [
    Indicator.VISITS, Indicator.UNIQUE_VISITORS, Indicator.WALL_VIEWS, Indicator.FEEDBACK,
]


@dataclass(frozen=True)
class Metric:
    """What a ranking orders by, where its figures come from and how they are computed."""

    code: str
    label: str
    source: str
    formula: str
    decimals: int = 0
    unit: str = ""


METRICS: dict[str, Metric] = {
    m.code: m
    for m in [
        Metric("growth", "Прирост аудитории, чел.", SNAPSHOTS,
               "Прирост = участники на конечную дату − участники на начальную дату"),
        Metric("growth_pct", "Прирост аудитории, %", SNAPSHOTS,
               "Прирост, % = (участники на конечную дату − участники на начальную дату) ÷ "
               "участники на начальную дату × 100", 2, "%"),
        Metric("members", "Участники на конец периода", SNAPSHOTS,
               "Участники на конечную дату (ближайшая запись не позже неё)"),
        Metric("t1_members", "Таблица 1: количество участников", VALUES,
               "Значение за последний месяц периода, в котором оно представлено"),
        *[
            Metric(f"t1_{ind.value}", f"Таблица 1: {ind.label}", VALUES,
                   f"Сумма по месяцам периода: «{ind.label}»")
            for ind in SUMMED_TABLE1
        ],
        *[
            Metric(ind.value, ind.label, VALUES, f"Сумма по месяцам периода: «{ind.label}»")
            for ind in ENGAGEMENT_INDICATORS
        ],
        Metric("interactions", "Взаимодействия", VALUES,
               "Взаимодействия = отметки «Нравится» + репосты + комментарии за период"),
        Metric("er_post", "ER по публикациям, %", VALUES,
               "ER post = взаимодействия ÷ публикации ÷ участники × 100", 3, "%"),
        Metric("er_day", "ER по дням, %", VALUES,
               "ER day = взаимодействия ÷ дни периода ÷ участники × 100 (дни — все дни "
               "месяцев периода)", 3, "%"),
        Metric("er_views", "ER по просмотрам, %", VALUES,
               "ER view = взаимодействия ÷ просмотры публикаций × 100", 3, "%"),
    ]
}
METRIC_CHOICES = [(m.code, m.label) for m in METRICS.values()]
ER_METRICS = ("er_post", "er_day", "er_views")


# --- Parameters ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingParams:
    """Everything that defines a ranking; the same fields drive the pages, the API and exports."""

    metric: str
    date_from: dt.date
    date_to: dt.date
    territory: int | None = None
    institution_type: str | None = None
    network: str | None = None
    subordination: str | None = None
    flagship_only: bool = False
    league: str | None = None
    top: int | None = None
    # Which reports' Table-1 values count (reports.counting); empty: the region's setting.
    counting: str = ""

    def __post_init__(self) -> None:
        if not self.counting:
            object.__setattr__(self, "counting", default_counting())
        errors = _param_errors(self)
        if errors:
            raise ValidationFailed(" ".join(errors.values()), details=errors)

    @property
    def spec(self) -> Metric:
        return METRICS[self.metric]

    @property
    def reads_table1(self) -> bool:
        """Whether the figure is made of Table-1 values (whose reports may await approval)."""
        return self.metric.startswith("t1_")

    @property
    def first_month(self) -> dt.date:
        return month_start(self.date_from)

    @property
    def last_month(self) -> dt.date:
        return month_start(self.date_to)

    @property
    def days(self) -> int:
        """Days in the months of the period: the denominator of ER by day."""
        return (month_end(self.last_month) - self.first_month).days + 1

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["date_from"], out["date_to"] = self.date_from.isoformat(), self.date_to.isoformat()
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RankingParams:
        data = dict(data)
        data["date_from"] = dt.date.fromisoformat(data["date_from"])
        data["date_to"] = dt.date.fromisoformat(data["date_to"])
        # Versions frozen before the choice existed counted every value.
        data.setdefault("counting", ALL)
        return cls(**data)


def _param_errors(params: RankingParams) -> dict[str, str]:
    errors: dict[str, str] = {}
    if params.metric not in METRICS:
        errors["metric"] = f"Неизвестный показатель рейтинга: «{params.metric}»."
    if params.date_from > params.date_to:
        errors["date_from"] = "Начальная дата периода позже конечной."
    if params.league and params.league not in LEAGUE_BY_CODE:
        errors["league"] = f"Неизвестная лига: «{params.league}»."
    if params.top is not None and not 1 <= params.top <= 10_000:
        errors["top"] = "ТОП-N: N должно быть от 1 до 10 000."
    if params.institution_type and params.institution_type not in InstitutionType.values:
        errors["institution_type"] = f"Неизвестный тип учреждения: «{params.institution_type}»."
    if params.network and params.network not in Network.values:
        errors["network"] = f"Неизвестная соцсеть: «{params.network}»."
    if params.counting not in COUNTED_STATES:
        errors["states"] = f"Неизвестный выбор учитываемых отчётов: «{params.counting}»."
    if params.subordination and params.subordination not in Subordination.values:
        errors["subordination"] = f"Неизвестная подведомственность: «{params.subordination}»."
    return errors


def period_bounds(kind: str, *, year: int, number: int = 1) -> tuple[dt.date, dt.date]:
    """First and last day of a month (``number`` 1–12), quarter (1–4) or year."""
    if kind == "month":
        first = dt.date(year, number, 1)
        return first, month_end(first)
    if kind == "quarter":
        first = dt.date(year, 3 * (number - 1) + 1, 1)
        return first, month_end(add_months(first, 2))
    if kind == "year":
        return dt.date(year, 1, 1), dt.date(year, 12, 31)
    raise ValueError(kind)


DATE_SUBSTITUTION_NOTE = (
    "Если на дату нет записи о числе участников, берётся ближайшая более ранняя запись; "
    "фактически использованные даты указаны в каждой строке."
)
GROWTH_METRICS = ("growth", "growth_pct")
