"""Publishing rankings: freezing a computed ranking into an immutable, public version."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import transaction
from django.db.models import Max

from institutions.choices import InstitutionType, Network, Subordination
from institutions.models import Community, Territory, is_regional_methodologist
from portal.errors import NotAllowed, ValidationFailed
from reports.counting import counted_states, counting_line
from reports.models import PublishedRanking, PublishedRankingVersion
from reports.rankings import (
    LEAGUE_BY_CODE,
    PUBLIC_KEYS_DROPPED,
    RankingParams,
    flagship_threshold,
    ranking_compute,
)

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def describe_params(params: RankingParams) -> list[str]:
    """The parameters in words, as a reader of a published ranking needs them."""
    lines = [
        f"Показатель: {params.spec.label}",
        f"Период: {params.date_from:%d.%m.%Y} — {params.date_to:%d.%m.%Y}",
    ]
    if params.reads_table1:
        lines.append(counting_line(params.counting))
    if params.territory:
        name = Territory.objects.filter(pk=params.territory).values_list("name", flat=True)
        lines.append(f"Территория: {name.first() or params.territory}")
    labels = [
        ("Тип учреждения", params.institution_type, dict(InstitutionType.choices)),
        ("Соцсеть", params.network, dict(Network.choices)),
        ("Подведомственность", params.subordination, dict(Subordination.choices)),
    ]
    lines += [f"{title}: {names.get(value, value)}" for title, value, names in labels if value]
    if params.flagship_only:
        lines.append(f"Только флагманские сообщества (более {flagship_threshold()} участников)")
    if params.league:
        lines.append(LEAGUE_BY_CODE[params.league].label)
    if params.top:
        lines.append(f"ТОП-{params.top}")
    return lines


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A plain row as published: names and figures only, dates as ISO text."""
    return {
        key: value.isoformat() if isinstance(value, dt.date) else value
        for key, value in row.items() if key not in PUBLIC_KEYS_DROPPED
    }


def _checked(title: str, slug: str, methodology: str) -> tuple[str, str, str]:
    errors = {}
    title, slug, methodology = title.strip(), slug.strip().lower(), methodology.strip()
    if not title:
        errors["title"] = "Укажите название рейтинга."
    if not SLUG_RE.match(slug) or len(slug) > 80:
        errors["slug"] = ("Адрес — латинские строчные буквы, цифры и дефисы (до 80 символов), "
                          "например «top-flagship-growth».")
    if not methodology:
        errors["methodology"] = "Опишите методику: что и как считалось."
    if errors:
        raise ValidationFailed(" ".join(errors.values()), details=errors)
    return title, slug, methodology


@transaction.atomic
def ranking_publish(
    *, user, params: RankingParams, title: str, slug: str, methodology: str
) -> PublishedRankingVersion:
    """Freeze the ranking as the next version under ``slug`` (the first publish creates it)."""
    if not is_regional_methodologist(user):
        raise NotAllowed("Публиковать рейтинги может только региональный методист.")
    title, slug, methodology = _checked(title, slug, methodology)
    ranking, _ = PublishedRanking.objects.select_for_update().get_or_create(
        slug=slug, defaults={"title": title, "created_by": user}
    )
    number = (ranking.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    computed = ranking_compute(communities=Community.objects.visible_to(user), params=params)
    if ranking.title != title:
        ranking.title = title
        ranking.save(update_fields=["title"])
    return PublishedRankingVersion.objects.create(
        ranking=ranking, number=number, title=title, metric_label=params.spec.label,
        params={**params.as_json(), "description": describe_params(params)},
        methodology=methodology, notes=computed.notes(), data_as_of=computed.data_as_of,
        counted_states=counted_states(params.counting), pending=computed.pending,
        rows=[_public(r) for r in computed.plain_rows],
        missing=[_public(r) for r in computed.plain_missing],
        published_by=user,
    )


def version_params(version: PublishedRankingVersion) -> RankingParams:
    """The parameters a version was computed with."""
    data = {k: v for k, v in version.params.items() if k != "description"}
    return RankingParams.from_json(data)
