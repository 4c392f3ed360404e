"""How close a community's name is to its institution's: the checklist's «name» rule.

Words are compared by their first five letters (Russian names decline: «музей» — «музея»; a
short word by its stem and a two-letter ending: «Бор» — «Бора»), after
dropping legal forms and service words (МБУК, учреждение, «им.»…), which the guide's short,
familiar names leave out. The score is the share of the institution's words found in the
community's name, the better of its short and full name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Q

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
    return {w for w in words if w not in _SERVICE and len(w) > 1}


def _same(a: str, b: str) -> bool:
    """One word in two forms: the same first five letters, or a short word and its ending
    («Бор» — «Бора»)."""
    if a[:STEM] == b[:STEM]:
        return True
    short, long = sorted((a, b), key=len)
    return len(short) >= 3 and long.startswith(short) and len(long) - len(short) <= 2


def name_similarity(title: str, names: Iterable[str]) -> float | None:
    """0–1: the share of the institution's words in ``title``; None when nothing to compare."""
    mine = _words(title)
    best: float | None = None
    for name in names:
        theirs = _words(name)
        if not theirs or not mine:
            continue
        found = sum(any(_same(word, other) for other in mine) for word in theirs)
        score = found / len(theirs)
        best = score if best is None else max(best, score)
    return best


@transaction.atomic
def community_names_score(*, community_ids: Iterable[int],
                          retitled: Iterable[int] | None = None) -> int:
    """Write ``name_similarity`` of the communities whose title was just written (``retitled``;
    all of them when None) or that have no score yet. One read and one write."""
    rows = Community.objects.filter(pk__in=list(community_ids))
    if retitled is not None:
        rows = rows.filter(Q(pk__in=list(retitled)) | Q(name_similarity__isnull=True))
    changed: dict[int, float | None] = {}
    for pk, title, old, short_name, full_name in rows.values_list(
            "pk", "title", "name_similarity", "institution__short_name",
            "institution__full_name"):
        score = name_similarity(title, [short_name, full_name])
        score = None if score is None else round(score, 3)
        if score != old:
            changed[pk] = score
    _write_scores(changed)
    return len(changed)


def _write_scores(scores: dict[int, float | None]) -> None:
    """One ``UPDATE … FROM unnest`` on PostgreSQL (a members batch may rescore thousands)."""
    if not scores:
        return
    if connection.vendor != "postgresql":
        Community.objects.bulk_update([Community(pk=pk, name_similarity=score)
                                       for pk, score in scores.items()],
                                      ["name_similarity"], batch_size=500)
        return
    table = connection.ops.quote_name(Community._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET name_similarity = v.score FROM unnest(%s::bigint[], "
            "%s::double precision[]) AS v(id, score) WHERE t.id = v.id",
            [list(scores), list(scores.values())])
