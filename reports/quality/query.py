"""The quality index of the region's communities as one SQL statement.

The ORM builds three parts: the communities (page fields, the facts of the description —
regular expressions the database runs once a community —, category, members at both ends of the
period by an index probe each), the period's posts grouped by community, and their hashtags
grouped by community and tag; the statement joins them once. Three thin SQL shells then score
it: the rules (1 passed, 0 failed, NULL not
applicable), the norms of the community's category and the percentiles of growth, engagement
and publications (``CUME_DIST``); the components' points and the index; the places (``RANK``).
Nothing is scored in Python.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, Length

from institutions.choices import CommunityCategory, CommunityState, Network
from institutions.models import Community
from metrics.models import Post, PostHashtag
from portal.errors import ValidationFailed
from portal.lib.analytics_sql import tune_for_analytics
from portal.lib.months import month_end, month_start
from reports.quality.methodology import Methodology
from reports.quality.rules import NORMS
from reports.rankings.definitions import flagship_threshold
from reports.rankings.query import SqlParts, members_on_subquery

ADDRESS = r"(адрес|ул\.|улица|проспект|пр-т|пл\.|площадь|переулок|пер\.|шоссе)"
PHONE = r"(\+7|8)[ (-]*[0-9]{3}[ )-]*[0-9]{2,3}[ -]*[0-9]{2}[ -]*[0-9]{2}"
HOURS = (r"(режим работы|график работы|часы работы|время работы|"
         r"[0-9]{1,2}[:.][0-9]{2} ?[-–—] ?[0-9]{1,2}[:.][0-9]{2})")
LINK = r"(https?://|www\.|vk\.com|vk\.ru|ok\.ru|t\.me/)"
_FLOAT = "DOUBLE PRECISION"


@dataclass(frozen=True)
class QualityParams:
    """The period the index is computed over (whole months) and an optional territory."""

    date_from: dt.date
    date_to: dt.date
    territory: int | None = None

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise ValidationFailed("Начальная дата периода позже конечной.",
                                   details={"date_from": "Начальная дата позже конечной."})

    @property
    def first_month(self) -> dt.date:
        return month_start(self.date_from)

    @property
    def last_month(self) -> dt.date:
        return month_start(self.date_to)

    @property
    def days(self) -> int:
        return (month_end(self.last_month) - self.first_month).days + 1

    @property
    def months(self) -> int:
        return ((self.last_month.year - self.first_month.year) * 12
                + self.last_month.month - self.first_month.month + 1)


def _matches(pattern: str) -> ExpressionWrapper:
    return ExpressionWrapper(Q(description__iregex=pattern), output_field=BooleanField())


def communities_queryset(params: QualityParams) -> QuerySet:
    """One row per scored community: its fields, description facts, members, category."""
    qs = Community.objects.filter(state__in=[CommunityState.ACTIVE, CommunityState.CLOSED],
                                  institution__is_active=True)
    if params.territory:
        qs = qs.filter(institution__territory_id=params.territory)
    qs = qs.annotate(
        institution_name=F("institution__short_name"),
        territory_id=F("institution__territory_id"),
        territory_name=F("institution__territory__name"),
        title_length=Length("title"), description_length=Length("description"),
        d_address=_matches(ADDRESS), d_phone=_matches(PHONE), d_hours=_matches(HOURS),
        d_link=_matches(LINK),
        end_members=members_on_subquery(params.date_to, "members"),
        start_members=members_on_subquery(params.date_from, "members"),
        effective_category=Case(
            When(~Q(category=""), then=F("category")),
            When(Q(members_count__gt=flagship_threshold()),
                 then=Value(CommunityCategory.FLAGSHIP)),
            default=Value(CommunityCategory.ACTIVE), output_field=CharField()),
    )
    return qs.order_by().values(
        "id", "title", "screen_name", "network", "url", "state", "kind", "site", "has_avatar",
        "has_cover", "wall_mode", "is_verified", "name_similarity", "institution_id",
        "institution_name", "territory_id", "territory_name", "title_length",
        "description_length", "d_address", "d_phone", "d_hours", "d_link", "end_members",
        "start_members", "effective_category")


def posts_queryset(params: QualityParams, max_hashtags: int) -> QuerySet:
    """Per community: the period's posts and how many carry images, media, linked videos,
    too many hashtags; formats by month; likes + reposts + comments."""
    return (Post.objects.filter(month__gte=params.first_month, month__lte=params.last_month)
            .order_by().values("community_id").annotate(
                n_posts=Count("pk"),
                n_image=Count("pk", filter=Q(has_image=True)),
                n_media=Count("pk", filter=Q(has_image=True) | Q(has_video=True)),
                n_external=Count("pk", filter=Q(has_external_video=True)),
                n_many_tags=Count("pk", filter=Q(hashtags__gt=max_hashtags)),
                n_month_formats=Count(Concat(Cast("month", CharField()), "format",
                                             output_field=CharField()), distinct=True),
                interactions=Sum(F("likes") + F("reposts") + F("comments"))))


def tags_queryset(params: QualityParams) -> QuerySet:
    """Per community and hashtag: the period's posts carrying it."""
    return (PostHashtag.objects.filter(month__gte=params.first_month,
                                       month__lte=params.last_month)
            .order_by().values("community_id", "tag").annotate(n=Count("pk")))


_POST_FIGURES = ("n_posts", "n_image", "n_media", "n_external", "n_many_tags",
                 "n_month_formats")


def _joined(sql: SqlParts, params: QualityParams, max_hashtags: int) -> tuple[str, str]:
    """(the CTEs, the joined rows): communities with their posts' aggregates and most used
    hashtag (0 without posts).

    The communities are a MATERIALIZED CTE: inlined, each reference to their members would
    probe the snapshots again.
    """
    parts = [(name, qs.query.sql_with_params()) for name, qs in (
        ("c", communities_queryset(params)), ("p", posts_queryset(params, max_hashtags)),
        ("t", tags_queryset(params)))]
    c, p, t = (sql.embed(name, text, values) for name, (text, values) in parts)
    figures = ", ".join(f"COALESCE(p.{name}, 0) AS {name}" for name in _POST_FIGURES)
    ctes = f"WITH c AS MATERIALIZED ({c}), p AS ({p}), t AS (SELECT x.community_id, " \
           f"MAX(x.n) AS top_tag_posts FROM ({t}) x GROUP BY x.community_id)"
    return ctes, (f"SELECT c.*, {figures}, p.interactions, COALESCE(t.top_tag_posts, 0) "
                  "AS top_tag_posts FROM c LEFT JOIN p ON p.community_id = c.id "
                  "LEFT JOIN t ON t.community_id = c.id")


def _known(column: str, passed: str) -> str:
    return f"CASE WHEN {column} IS NULL THEN NULL WHEN {passed} THEN 1 ELSE 0 END"


def _profile(condition: str) -> str:
    """A page rule: not applicable until the network has described the page (``kind``)."""
    return f"CASE WHEN j.kind = '' THEN NULL WHEN {condition} THEN 1 ELSE 0 END"


def _posts_rule(condition: str) -> str:
    return f"CASE WHEN j.n_posts = 0 THEN NULL WHEN {condition} THEN 1 ELSE 0 END"


def rule_sql(sql: SqlParts, methodology: Methodology) -> dict[str, str]:
    """Each enabled rule as SQL over the base row ``j``: 1, 0 or NULL (not applicable)."""
    def t(code: str) -> str:
        return sql.param(f"t_{code}", float(methodology.rule(code).threshold or 0))

    ok = sql.param("ok", Network.OK)
    both = {
        "open": f"CASE WHEN j.state = {sql.param('closed', CommunityState.CLOSED)} THEN 0 "
                "ELSE 1 END",
        "kind": "CASE WHEN j.kind = '' THEN NULL WHEN j.kind IN ('group', 'page') THEN 1 "
                "ELSE 0 END",
        "name_short": f"CASE WHEN j.title_length = 0 THEN NULL "
                      f"WHEN j.title_length <= {t('name_short')} THEN 1 ELSE 0 END",
        "name_matches": _known("j.name_similarity",
                               f"j.name_similarity >= {t('name_matches')}"),
        "description_filled": _profile(f"j.description_length >= {t('description_filled')}"),
        "description_contacts": _profile("j.d_address AND j.d_phone AND j.d_hours AND "
                                         "(j.d_link OR j.site <> '')"),
        "avatar": _known("j.has_avatar", "j.has_avatar"),
        "cover": _known("j.has_cover", "j.has_cover"),
        "wall_limited": _known("j.wall_mode", "j.wall_mode IN (2, 3)"),
        "verified": f"CASE WHEN j.network = {ok} OR j.kind = '' THEN NULL "
                    "WHEN j.is_verified THEN 1 ELSE 0 END",
        "comments_open": _known("j.wall_mode", "j.wall_mode IN (1, 2)"),
        "own_hashtag": _posts_rule(f"COALESCE(j.top_tag_posts, 0) >= "
                                   f"{t('own_hashtag')} * j.n_posts"),
        "hashtags_max": _posts_rule("j.n_many_tags = 0"),
        "videos_uploaded": _posts_rule("j.n_external = 0"),
        "images": _posts_rule(f"j.n_image >= {t('images')} * j.n_posts"),
    }
    return {r.code: both[r.code] for r in methodology.enabled_rules}


def _facts_columns(sql: SqlParts, params: QualityParams) -> str:
    days = sql.param("days", params.days)
    months = sql.param("months", params.months)
    return (
        f"CASE WHEN j.start_members > 0 AND j.end_members IS NOT NULL THEN "
        f"CAST(j.end_members - j.start_members AS {_FLOAT}) * 100.0 / j.start_members END "
        f"AS growth_pct, "
        f"CASE WHEN j.n_posts > 0 AND j.end_members > 0 THEN CAST(j.interactions AS {_FLOAT})"
        f" * 100.0 / (CAST(j.n_posts AS {_FLOAT}) * j.end_members) END AS er_post, "
        f"CAST(j.n_posts AS {_FLOAT}) * 7.0 / {days} AS posts_per_week, "
        f"CASE WHEN j.n_posts > 0 THEN CAST(j.n_media AS {_FLOAT}) / j.n_posts ELSE 0 END "
        f"AS media_share, CAST(j.n_month_formats AS {_FLOAT}) / {months} AS formats")


def _norm_sql(sql: SqlParts, methodology: Methodology, code: str) -> str:
    """1 when the row's category norm ``code`` is met (over the facts row ``k``)."""
    whens = " ".join(
        f"WHEN k.effective_category = {sql.param(f'cat_{category}_{code}', category)} "
        f"THEN CASE WHEN k.{code} >= {sql.param(f'n_{category}_{code}', norms[code])} "
        "THEN 1 ELSE 0 END"
        for category, norms in methodology.norms.items())
    return f"CASE {whens} ELSE 0 END"


def _percentile(column: str) -> str:
    return (f"CASE WHEN {column} IS NULL THEN 0 ELSE CUME_DIST() OVER "
            f"(PARTITION BY CASE WHEN {column} IS NULL THEN 0 ELSE 1 END ORDER BY {column}) "
            "END")


def quality_sql(params: QualityParams, methodology: Methodology,
                only: str = "", only_params: tuple = ()) -> tuple[str, dict[str, Any]]:
    """The statement and its named parameters; ``only`` filters the scored rows (``q.id``)."""
    sql = SqlParts()
    max_tags = int(methodology.rule("hashtags_max").threshold or 0)
    rules = rule_sql(sql, methodology)
    rule_columns = "".join(f", {expr} AS r_{code}" for code, expr in rules.items())
    ctes, joined = _joined(sql, params, max_tags)
    facts = (f"SELECT j.*{rule_columns}, {_facts_columns(sql, params)} "
             f"FROM ({joined}) j")
    weights = {r.code: sql.param(f"w_{r.code}", r.weight) for r in methodology.enabled_rules}
    passed = " + ".join(f"{w} * COALESCE(k.r_{c}, 0)" for c, w in weights.items()) or "0"
    applicable = " + ".join(f"CASE WHEN k.r_{c} IS NULL THEN 0 ELSE {w} END"
                            for c, w in weights.items()) or "0"
    norm_columns = "".join(f", {_norm_sql(sql, methodology, n.code)} AS m_{n.code}"
                           for n in NORMS)
    shares = (
        f"SELECT k.*{norm_columns}, CASE WHEN ({applicable}) > 0 THEN "
        f"CAST({passed} AS {_FLOAT}) / ({applicable}) END AS checklist_share, "
        f"{_percentile('k.growth_pct')} AS growth_share, "
        f"{_percentile('k.er_post')} AS engagement_share, "
        f"{_percentile('k.n_posts')} AS publications_share FROM ({facts}) k")
    norms_share = " + ".join(f"m.m_{n.code}" for n in NORMS)
    points = {
        "checklist": "COALESCE(m.checklist_share, 0)",
        "norms": f"CAST({norms_share} AS {_FLOAT}) / {len(NORMS)}",
        "growth": "m.growth_share", "engagement": "m.engagement_share",
        "publications": "m.publications_share",
    }
    point_columns = ", ".join(
        f"{sql.param(f'W_{code}', methodology.weights[code])} * {share} AS p_{code}"
        for code, share in points.items())
    scored = f"SELECT m.*, {point_columns} FROM ({shares}) m"
    total = " + ".join(f"s.p_{code}" for code in points)
    ranked = (f"SELECT s.*, {total} AS quality_index, RANK() OVER (ORDER BY {total} DESC) "
              f"AS place FROM ({scored}) s")
    where = f" WHERE {sql.embed('only', only, only_params)}" if only else ""
    return f"{ctes} SELECT q.* FROM ({ranked}) q{where} ORDER BY q.place, q.id", sql.params


def quality_rows(params: QualityParams, methodology: Methodology, *,
                 only: str = "", only_params: tuple = ()) -> list[dict[str, Any]]:
    """The ranked rows as dicts (one query)."""
    statement, named = quality_sql(params, methodology, only, only_params)
    with transaction.atomic(), connection.cursor() as cursor:
        tune_for_analytics()
        cursor.execute(statement, named)
        names = [c[0] for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
