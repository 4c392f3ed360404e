"""The ranking parameters as a form: one parser for the pages, the API and the exports."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from institutions.choices import InstitutionType, Network, Subordination
from institutions.models import Territory
from portal.errors import ValidationFailed
from reports.counting import COUNTING_CHOICES, default_counting
from reports.rankings import LEAGUE_CHOICES, METRIC_CHOICES, RankingParams, period_bounds

PERIOD_CHOICES = [
    ("range", "Произвольные даты"),
    ("month", "Месяц"),
    ("quarter", "Квартал"),
    ("year", "Год"),
]
DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _blank(choices: list[tuple[str, str]], label: str) -> list[tuple[str, str]]:
    return [("", label), *choices]


class PeriodForm(forms.Form):
    """A period: a month, a quarter, a year or any two dates."""

    default_period = "range"

    period = forms.ChoiceField(label="Период", choices=PERIOD_CHOICES, required=False)
    date_from = forms.DateField(label="С", required=False, widget=DATE_INPUT)
    date_to = forms.DateField(label="По", required=False, widget=DATE_INPUT)
    year = forms.IntegerField(label="Год", required=False, min_value=2000, max_value=2100)
    number = forms.IntegerField(
        label="Месяц / квартал", required=False, min_value=1, max_value=12,
        help_text="номер месяца (1–12) или квартала (1–4)",
    )
    states = forms.ChoiceField(label="Учитывать отчёты (Таблица 1)", choices=COUNTING_CHOICES,
                               required=False)

    def counting(self) -> str:
        """The reports whose values count: the reader's choice or the region's setting."""
        return self.cleaned_data.get("states") or default_counting()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        period = data.get("period") or self.default_period
        if period == "range":
            today = timezone.localdate()
            data["date_to"] = data.get("date_to") or today - dt.timedelta(days=1)
            data["date_from"] = data.get("date_from") or data["date_to"] - dt.timedelta(days=30)
        else:
            data["date_from"], data["date_to"] = self._period_dates(period, data)
        if data["date_from"] > data["date_to"]:
            self.add_error("date_from", "Начальная дата периода позже конечной.")
        return data

    def _period_dates(self, period: str, data: dict[str, Any]) -> tuple[dt.date, dt.date]:
        last_month = timezone.localdate().replace(day=1) - dt.timedelta(days=1)
        year = data.get("year") or last_month.year
        number = data.get("number") or (last_month.month if period == "month" else 1)
        if period == "quarter" and number > 4:
            self.add_error("number", "Номер квартала — от 1 до 4.")
            number = 1
        return period_bounds(period, year=year, number=number)

    def errors_message(self, prefix: str) -> ValidationFailed:
        errors = {field: " ".join(messages) for field, messages in self.errors.items()}
        text = " ".join(
            f"{self.fields[f].label}: {m}" if f in self.fields else m for f, m in errors.items())
        return ValidationFailed(f"{prefix}: {text}", details=errors)


class RankingForm(PeriodForm):
    """Filters and period of a ranking. Empty fields fall back to sensible defaults."""

    metric = forms.ChoiceField(label="Показатель", choices=METRIC_CHOICES, required=False)
    territory = forms.ModelChoiceField(
        label="Территория", queryset=Territory.objects.all(), required=False,
        empty_label="Все территории",
    )
    institution_type = forms.ChoiceField(
        label="Тип учреждения", choices=_blank(InstitutionType.choices, "Все типы"),
        required=False,
    )
    network = forms.ChoiceField(label="Соцсеть", choices=_blank(Network.choices, "Любая"),
                                required=False)
    subordination = forms.ChoiceField(
        label="Подведомственность", choices=_blank(Subordination.choices, "Любая"),
        required=False,
    )
    flagship = forms.BooleanField(label="Только флагманские", required=False)
    league = forms.ChoiceField(label="Лига", choices=_blank(LEAGUE_CHOICES, "Все лиги"),
                               required=False)
    top = forms.IntegerField(label="ТОП-N", required=False, min_value=1, max_value=10_000)

    field_order = ["metric", "period", "date_from", "date_to", "year", "number", "territory",
                   "institution_type", "network", "subordination", "flagship", "league", "top",
                   "states"]

    def __init__(self, data: Any = None, *, user=None, **kwargs: Any) -> None:
        super().__init__(data if data is not None else {}, **kwargs)
        if user is not None:
            self.fields["territory"].queryset = Territory.objects.visible_to(user)
        self.fields["states"].initial = default_counting()

    def to_params(self) -> RankingParams:
        """The validated parameters; raises ValidationFailed with Russian messages."""
        if not self.is_valid():
            raise self.errors_message("Параметры рейтинга заданы неверно")
        data = self.cleaned_data
        territory = data.get("territory")
        return RankingParams(
            metric=data.get("metric") or "growth",
            date_from=data["date_from"], date_to=data["date_to"],
            territory=territory.pk if territory else None,
            institution_type=data.get("institution_type") or None,
            network=data.get("network") or None,
            subordination=data.get("subordination") or None,
            flagship_only=bool(data.get("flagship")),
            league=data.get("league") or None,
            top=data.get("top"), counting=self.counting(),
        )


def params_query(params: RankingParams) -> str:
    """The query string that reproduces ``params`` on a page, in the API or in an export."""
    fields = {
        "metric": params.metric, "period": "range",
        "date_from": params.date_from.isoformat(), "date_to": params.date_to.isoformat(),
        "territory": params.territory, "institution_type": params.institution_type,
        "network": params.network, "subordination": params.subordination,
        "flagship": "on" if params.flagship_only else None, "league": params.league,
        "top": params.top, "states": params.counting,
    }
    return urlencode({k: v for k, v in fields.items() if v not in (None, "")})


def parse_ranking_params(data: Any, *, user=None) -> RankingParams:
    """Parse request parameters into RankingParams (raises ValidationFailed)."""
    return RankingForm(data, user=user).to_params()
