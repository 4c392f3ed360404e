"""The chart picker: choose a community, institution or territory by name, with completion.

Labels are what people read (a community's label names its institution and network, so two
communities called alike differ); the typed label is resolved back within the user's scope.
"""

from __future__ import annotations

from dataclasses import dataclass

from institutions.models import Community, Institution, Territory
from portal.errors import ValidationFailed
from portal.lib.search import fold_text

SUGGESTIONS_LISTED = 8


@dataclass(frozen=True)
class Choice:
    pk: int
    label: str


def _communities(user) -> list[Choice]:
    rows = (Community.objects.visible_to(user).select_related("institution")
            .order_by("institution__short_name", "network", "pk"))
    return [Choice(c.pk, f"{c} — {c.institution.short_name} ({c.get_network_display()})")
            for c in rows]


def _institutions(user) -> list[Choice]:
    rows = (Institution.objects.visible_to(user).select_related("territory")
            .order_by("short_name", "territory__name", "pk"))
    return [Choice(i.pk, f"{i.short_name} ({i.territory.name})") for i in rows]


def _territories(user) -> list[Choice]:
    return [Choice(t.pk, t.name) for t in Territory.objects.visible_to(user).order_by("name")]


CHOICES = {"community": _communities, "institution": _institutions,
           "territory": _territories}


def picker_choices(*, user) -> dict[str, list[Choice]]:
    """Every nameable subject per level, for the page's completion lists."""
    return {level: build(user) for level, build in CHOICES.items()}


def picker_resolve(*, user, level: str, name: str) -> int:
    """The id of the subject whose label is ``name`` (or the only one containing it)."""
    wanted = fold_text(name.strip())
    choices = CHOICES[level](user)
    exact = [c for c in choices if fold_text(c.label) == wanted]
    if len(exact) == 1:
        return exact[0].pk
    partial = exact or [c for c in choices if wanted in fold_text(c.label)]
    if len(partial) == 1:
        return partial[0].pk
    if not partial:
        raise ValidationFailed(f"«{name}» не найдено среди доступных вам объектов — выберите "
                               "из подсказок.")
    shown = "; ".join(c.label for c in partial[:SUGGESTIONS_LISTED])
    rest = len(partial) - SUGGESTIONS_LISTED
    more = f" и ещё {rest}" if rest > 0 else ""
    raise ValidationFailed(f"Под «{name}» подходят несколько: {shown}{more}. Уточните название "
                           "или выберите его из подсказок.")
