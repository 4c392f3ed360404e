"""Whose communities a live ranking's places are counted among.

A ranking is computed over the communities its reader may see. For a regional reader that is
the region; for a municipal department its territories, for an institution's editor its own
institutions — where «1st place» means first among a handful. The pages and files say so.
"""

from __future__ import annotations

from institutions.choices import Role
from institutions.models import Institution, Territory, profile_of, sees_whole_region

NAMES_LISTED = 3


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:NAMES_LISTED])
    more = len(names) - NAMES_LISTED
    return f"{shown} и ещё {more}" if more > 0 else shown


def ranking_scope_line(user) -> str | None:
    """The line that names the reader's scope; None for a reader who sees the whole region."""
    profile = profile_of(user)
    if sees_whole_region(user) or profile is None:
        return None
    if profile.role == Role.EDITOR:
        names = list(Institution.objects.visible_to(user).order_by("short_name")
                     .values_list("short_name", flat=True))
        return (f"Места — среди сообществ ваших учреждений ({_listed(names)}), а не всего "
                "региона. Место в рейтинге региона — в опубликованных рейтингах.")
    names = list(Territory.objects.visible_to(user).order_by("name")
                 .values_list("name", flat=True))
    return f"Места — среди сообществ ваших территорий ({_listed(names)}), а не всего региона."
