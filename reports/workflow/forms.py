"""The Table-1 entry page's POST as a form built from the table it was rendered from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from metrics.services import CellKey
from reports.workflow.selectors import EntryTable

TAMPERED = "Форма повреждена или устарела: обновите страницу и введите значения ещё раз."


class EntryForm(forms.Form):
    """A text field per cell and its hidden original, a version per month, API confirmations.

    Fields come from the table, so only this institution's cells of this year are read. The
    figures stay text here: the service checks them and names the cell of every error.
    """

    def __init__(self, data: Any, *, table: EntryTable) -> None:
        super().__init__(data)
        self._cells: dict[str, CellKey] = {}
        for block in table.blocks:
            for row in block.rows:
                for cell in row.cells:
                    self._cells[cell.name] = (cell.community_id, cell.month, cell.indicator)
                    self.fields[cell.name] = forms.CharField(required=False)
                    self.fields[_original(cell.name)] = forms.CharField(required=False)
        self._months = {f"ver-{c.month:%Y-%m}": c.month for c in table.columns}
        for name in self._months:
            self.fields[name] = forms.IntegerField(required=False, min_value=0)
        self._confirmable = {f"{b.community.pk}-{c.month:%Y-%m}": (b.community.pk, c.month)
                             for b in table.blocks for c in table.columns}
        self.fields["confirm"] = forms.MultipleChoiceField(
            required=False, choices=[(key, key) for key in self._confirmable])

    def typed(self) -> tuple[dict[CellKey, str], dict[CellKey, str]]:
        """What was typed in each posted cell and what the page showed there first."""
        typed, originals = {}, {}
        for name, key in self._cells.items():
            if name in self.data:
                typed[key] = self.cleaned_data[name]
                originals[key] = self.cleaned_data[_original(name)]
        return typed, originals

    def versions(self) -> dict[dt.date, int]:
        return {month: self.cleaned_data[name] for name, month in self._months.items()
                if self.cleaned_data.get(name) is not None}

    def confirms(self) -> list[tuple[int, dt.date]]:
        return [self._confirmable[key] for key in self.cleaned_data["confirm"]]


def _original(name: str) -> str:
    return "o" + name[1:]
