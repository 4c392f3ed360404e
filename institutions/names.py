"""How close a community's name is to its institution's: the checklist's «name» rule.

Words are compared by their first five letters (Russian names decline: «музей» — «музея»), after
dropping legal forms and service words (МБУК, учреждение, «им.»…), which the guide's short,
familiar names leave out. The score is the share of the institution's words found in the
community's name, the better of its short and full name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import transaction

from institutions.models import Community

_WORD = re.compile(r"[0-9a-zа-я]+")
_SERVICE = {
    "мбук", "мбу", "мку", "мкук", "гбук", "гбу", "гау", "гаук", "мау", "маук", "мбоу", "мбудо",
    "фгбук", "огбук", "кгбук", "муниципальное", "государственное", "бюджетное",
    "казенное", "казённое", "автономное", "учреждение", "культуры", "им", "имени", "и", "в",
    "на", "г", "с", "п", "пгт", "область", "области", "района", "район", "городского",
    "округа", "официальная", "официальный", "страница", "группа", "сообщество",
}
STEM = 5


def _words(text: str) -> set[str]:
    words = _WORD.findall(text.lower().replace("ё", "е"))
    return {w[:STEM] for w in words if w not in _SERVICE and len(w) > 1}


def name_similarity(title: str, names: Iterable[str]) -> float | None:
    """0–1: the share of the institution's words in ``title``; None when nothing to compare."""
    mine = _words(title)
    best: float | None = None
    for name in names:
        theirs = _words(name)
        if not theirs or not mine:
            continue
        score = len(mine & theirs) / len(theirs)
        best = score if best is None else max(best, score)
    return best


@transaction.atomic
def community_names_score(*, community_ids: Iterable[int]) -> int:
    """Write ``name_similarity`` of the communities (after their titles were collected)."""
    rows = Community.objects.filter(pk__in=list(community_ids)).values_list(
        "pk", "title", "name_similarity", "institution__short_name",
        "institution__full_name")
    changed = []
    for pk, title, old, short_name, full_name in rows:
        score = name_similarity(title, [short_name, full_name])
        if score is not None:
            score = round(score, 3)
        if score != old:
            changed.append(Community(pk=pk, name_similarity=score))
    Community.objects.bulk_update(changed, ["name_similarity"], batch_size=1000)
    return len(changed)
