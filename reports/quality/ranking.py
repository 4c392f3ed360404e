"""The index ranking for a reader, its published frozen versions, and one community's card."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max

from institutions.models import Community, is_regional_methodologist, sees_whole_region
from portal.errors import NotAllowed, ValidationFailed
from reports.models import PublishedQualityRanking
from reports.quality.methodology import Methodology, methodology_current
from reports.quality.query import QualityParams, quality_rows
from reports.quality.rules import COMPONENTS, NORM_BY_CODE, NORMS

#: What a published row keeps: names, the components' points, the index and the place.
PUBLISHED_KEYS = ("id", "title", "network", "institution_name", "territory_name",
                  "effective_category", "end_members", "quality_index", "place",
                  *(f"p_{code}" for code in COMPONENTS))


def quality_ranking(*, user, params: QualityParams,
                    methodology: Methodology | None = None) -> list[dict[str, Any]]:
    """The index ranking of the region, the rows the reader may see (places stay regional)."""
    methodology = methodology or methodology_current()
    if sees_whole_region(user):
        return quality_rows(params, methodology)
    visible = Community.objects.visible_to(user).values("pk")
    only, only_params = visible.query.sql_with_params()
    return quality_rows(params, methodology, only=f"q.id IN ({only})",
                        only_params=only_params)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for key in PUBLISHED_KEYS:
        value = row.get(key)
        out[key] = round(float(value), 2) if isinstance(value, float) else value
    return out


@transaction.atomic
def quality_publish(*, user, params: QualityParams, title: str) -> PublishedQualityRanking:
    """Freeze the region's index ranking as the next published number."""
    if not is_regional_methodologist(user):
        raise NotAllowed("Публиковать индекс качества может только региональный методист.")
    title = title.strip()
    if not title:
        raise ValidationFailed("Укажите название рейтинга.",
                               details={"title": "Укажите название рейтинга."})
    methodology = methodology_current()
    rows = quality_rows(params, methodology)
    last = PublishedQualityRanking.objects.aggregate(last=Max("number"))["last"] or 0
    return PublishedQualityRanking.objects.create(
        number=last + 1, title=title[:300], date_from=params.date_from, date_to=params.date_to,
        methodology_number=methodology.number, methodology_text=methodology.text,
        weights=methodology.weights, rows=[_public(r) for r in rows], published_by=user)


# --- one community ------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleResult:
    """A rule of the checklist for one community: passed, failed or not applicable."""

    code: str
    label: str
    source: str
    formula: str
    fix: str
    passed: bool | None
    points: float  # what passing it adds to the index (0 when passed or not applicable)


@dataclass(frozen=True)
class NormResult:
    code: str
    label: str
    unit: str
    fix: str
    target: float
    actual: float
    met: bool
    points: float


@dataclass(frozen=True)
class Raise:
    """A failed rule or missed norm and the points meeting it would add."""

    kind: str  # «Правило» | «Норма»
    label: str
    fix: str
    points: float


@dataclass(frozen=True)
class CommunityQuality:
    """A community's index, its components, checklist and norms, and what would raise it."""

    row: dict[str, Any]
    methodology: Methodology
    rules: list[RuleResult]
    norms: list[NormResult]
    raises: list[Raise]

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.rules if r.passed is False]

    @property
    def components(self) -> list[tuple[str, int, float]]:
        return [(label, self.methodology.weights[code], float(self.row[f"p_{code}"] or 0))
                for code, label in COMPONENTS.items()]


def _rules(row: dict[str, Any], methodology: Methodology) -> list[RuleResult]:
    enabled = methodology.enabled_rules
    applicable = sum(r.weight for r in enabled if row.get(f"r_{r.code}") is not None)
    out = []
    for setting in enabled:
        value = row.get(f"r_{setting.code}")
        passed = None if value is None else bool(value)
        points = (methodology.weights["checklist"] * setting.weight / applicable
                  if passed is False and applicable else 0.0)
        rule = setting.rule
        out.append(RuleResult(setting.code, setting.label, rule.source, rule.formula, rule.fix,
                              passed, points))
    return out


def _norms(row: dict[str, Any], methodology: Methodology) -> list[NormResult]:
    targets = methodology.norms[row["effective_category"]]
    share = methodology.weights["norms"] / len(NORMS)
    out = []
    for norm in NORMS:
        met = bool(row[f"m_{norm.code}"])
        out.append(NormResult(norm.code, norm.label, norm.unit, norm.fix, targets[norm.code],
                              float(row[norm.code] or 0), met, 0.0 if met else share))
    return out


def community_quality(*, community: Community, date_from: dt.date, date_to: dt.date,
                      methodology: Methodology | None = None) -> CommunityQuality | None:
    """The community's place in the region's index over the period (None: not scored)."""
    methodology = methodology or methodology_current()
    rows = quality_rows(QualityParams(date_from, date_to), methodology, only="q.id = %s",
                        only_params=(community.pk,))
    if not rows:
        return None
    row = rows[0]
    rules, norms = _rules(row, methodology), _norms(row, methodology)
    raises = [Raise("Правило", r.label, r.fix, r.points) for r in rules if r.passed is False]
    raises += [Raise("Норма", f"{n.label}: не меньше {n.target:g}", NORM_BY_CODE[n.code].fix,
                     n.points) for n in norms if not n.met]
    raises.sort(key=lambda r: -r.points)
    return CommunityQuality(row, methodology, rules, norms, raises)
