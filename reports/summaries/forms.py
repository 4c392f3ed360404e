"""The territory summary's parameters: a territory and a period of whole months."""

from __future__ import annotations

from typing import Any

from django import forms

from institutions.models import Territory
from reports.counting import default_counting
from reports.rankings.forms import PeriodForm


class SummaryForm(PeriodForm):
    """A territory and a period of whole months (by default the last month)."""

    default_period = "month"

    territory = forms.ModelChoiceField(label="Территория", queryset=Territory.objects.all(),
                                       required=False, empty_label="Выберите территорию")
    field_order = ["territory", "period", "year", "number", "date_from", "date_to", "states"]

    def __init__(self, data: Any = None, *, user=None, **kwargs: Any) -> None:
        super().__init__(data if data is not None else {}, **kwargs)
        if user is not None:
            self.fields["territory"].queryset = Territory.objects.visible_to(user)
        self.fields["period"].initial = "month"
        self.fields["states"].initial = default_counting()
