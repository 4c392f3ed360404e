"""Reading an institution's field values out of a registry row, each error tied to its column."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from institutions.choices import InstitutionType
from institutions.imports.vocabulary import Column, parse_institution_type, parse_subordination
from institutions.models import Institution
from institutions.validators import validate_inn


class CellProblem(str):
    """A reason a row is refused, as text, that also knows the column it is about."""

    column: Column | None = None


def at(column: Column | None, message: str) -> CellProblem:
    """The message tied to a column of the sheet (the API answers with its letter)."""
    problem = CellProblem(message)
    problem.column = column
    return problem


def row_fields(values: dict[Column, str], reasons: list[str]) -> dict[str, Any]:
    """Model field values given in the row (blank cells leave a field as it is)."""
    fields: dict[str, Any] = {}
    full, short = values.get(Column.FULL_NAME, ""), values.get(Column.SHORT_NAME, "")
    for name, text in (("full_name", full), ("short_name", short)):
        limit = Institution._meta.get_field(name).max_length
        if len(text) > limit:
            label = Institution._meta.get_field(name).verbose_name.capitalize()
            column = Column.FULL_NAME if name == "full_name" else Column.SHORT_NAME
            reasons.append(at(column, _("%(label)s длиннее %(n)s символов.")
                              % {"label": label, "n": limit}))
        elif text:
            fields[name] = text
    _type_field(values.get(Column.TYPE, ""), fields, reasons)
    _inn_field(values.get(Column.INN, ""), fields, reasons)
    _subordination_field(values.get(Column.SUBORDINATION, ""), fields, reasons)
    return fields


def _type_field(text: str, fields: dict[str, Any], reasons: list[str]) -> None:
    if not text:
        return
    kind = parse_institution_type(text)
    if kind is None:
        known = ", ".join(str(choice.label) for choice in InstitutionType)
        reasons.append(at(Column.TYPE, _(
            "Тип «%(text)s» не распознан; допустимо: %(known)s (и слова из списка на странице "
            "импорта).") % {"text": text, "known": known}))
    else:
        fields["type"] = kind


def _inn_field(text: str, fields: dict[str, Any], reasons: list[str]) -> None:
    if not text:
        return
    try:
        validate_inn(text)
    except ValidationError as exc:
        reasons.extend(at(Column.INN, m) for m in exc.messages)
    else:
        fields["inn"] = text


def _subordination_field(text: str, fields: dict[str, Any], reasons: list[str]) -> None:
    if not text:
        return
    value = parse_subordination(text)
    if value is None:
        reasons.append(at(Column.SUBORDINATION, _(
            "Подведомственность «%(text)s» не распознана: «региональное» или «муниципальное».")
            % {"text": text}))
    else:
        fields["subordination"] = value
