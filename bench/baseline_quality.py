"""The quality index of the region written by hand (run through psycopg2): the same figures as
``reports.quality`` with the default methodology, as plain CTEs and LATERAL probes."""

from __future__ import annotations

from typing import Any

from reports.quality.query import ADDRESS, HOURS, LINK, PHONE, QualityParams
from reports.quality.rules import DEFAULT_NORMS, DEFAULT_WEIGHTS, RULE_BY_CODE
from reports.rankings.definitions import flagship_threshold

_RULES = """
  CASE WHEN state = 'closed' THEN 0 ELSE 1 END AS r_open,
  CASE WHEN kind = '' THEN NULL WHEN kind IN ('group', 'page') THEN 1 ELSE 0 END AS r_kind,
  CASE WHEN title_length = 0 THEN NULL WHEN title_length <= %(name_short)s THEN 1 ELSE 0 END
    AS r_name_short,
  CASE WHEN name_similarity IS NULL THEN NULL WHEN name_similarity >= %(name_matches)s THEN 1
    ELSE 0 END AS r_name_matches,
  CASE WHEN kind = '' THEN NULL WHEN description_length >= %(description_filled)s THEN 1
    ELSE 0 END AS r_description_filled,
  CASE WHEN kind = '' THEN NULL WHEN d_address AND d_phone AND d_hours
    AND (d_link OR site <> '') THEN 1 ELSE 0 END AS r_description_contacts,
  CASE WHEN has_avatar IS NULL THEN NULL WHEN has_avatar THEN 1 ELSE 0 END AS r_avatar,
  CASE WHEN has_cover IS NULL THEN NULL WHEN has_cover THEN 1 ELSE 0 END AS r_cover,
  CASE WHEN wall_mode IS NULL THEN NULL WHEN wall_mode IN (2, 3) THEN 1 ELSE 0 END
    AS r_wall_limited,
  CASE WHEN network = 'ok' OR kind = '' THEN NULL WHEN is_verified THEN 1 ELSE 0 END
    AS r_verified,
  CASE WHEN wall_mode IS NULL THEN NULL WHEN wall_mode IN (1, 2) THEN 1 ELSE 0 END
    AS r_comments_open,
  CASE WHEN n_posts = 0 THEN NULL WHEN top_tag_posts >= %(own_hashtag)s * n_posts THEN 1
    ELSE 0 END AS r_own_hashtag,
  CASE WHEN n_posts = 0 THEN NULL WHEN n_many_tags = 0 THEN 1 ELSE 0 END AS r_hashtags_max,
  CASE WHEN n_posts = 0 THEN NULL WHEN n_external = 0 THEN 1 ELSE 0 END AS r_videos_uploaded,
  CASE WHEN n_posts = 0 THEN NULL WHEN n_image >= %(images)s * n_posts THEN 1 ELSE 0 END
    AS r_images"""


def _checklist() -> str:
    codes = list(RULE_BY_CODE)
    passed = " + ".join(f"{RULE_BY_CODE[c].weight} * COALESCE(r_{c}, 0)" for c in codes)
    known = " + ".join(f"CASE WHEN r_{c} IS NULL THEN 0 ELSE {RULE_BY_CODE[c].weight} END"
                       for c in codes)
    return f"CASE WHEN ({known}) > 0 THEN ({passed})::float / ({known}) END"


def _norm(code: str) -> str:
    whens = " ".join(f"WHEN category = '{cat}' THEN ({code} >= {norms[code]})::int"
                     for cat, norms in DEFAULT_NORMS.items())
    return f"CASE {whens} ELSE 0 END"


def _cume(column: str) -> str:
    return (f"CASE WHEN {column} IS NULL THEN 0 ELSE CUME_DIST() OVER (PARTITION BY {column} "
            f"IS NULL ORDER BY {column}) END")


def quality_index_sql() -> str:
    """Every scored community with its five components' points, its index and its place."""
    w = DEFAULT_WEIGHTS
    return f"""
WITH p AS (
  SELECT community_id, count(*) AS n_posts, count(*) FILTER (WHERE has_image) AS n_image,
         count(*) FILTER (WHERE has_image OR has_video) AS n_media,
         count(*) FILTER (WHERE has_external_video) AS n_external,
         count(*) FILTER (WHERE hashtags > %(hashtags_max)s) AS n_many_tags,
         count(DISTINCT month::text || format) AS n_month_formats,
         sum(likes + reposts + comments) AS interactions
  FROM metrics_post WHERE month BETWEEN %(first)s AND %(last)s GROUP BY community_id),
tags AS (
  SELECT community_id, max(n) AS top_tag_posts FROM (
    SELECT community_id, tag, count(*) AS n FROM metrics_posthashtag
    WHERE month BETWEEN %(first)s AND %(last)s GROUP BY community_id, tag) x
  GROUP BY community_id),
j AS (
  SELECT c.id, c.state, c.kind, c.network, c.is_verified, c.name_similarity, c.has_avatar,
         c.has_cover, c.wall_mode, c.site, length(c.title) AS title_length,
         length(c.description) AS description_length,
         c.description ~* %(address)s AS d_address, c.description ~* %(phone)s AS d_phone,
         c.description ~* %(hours)s AS d_hours, c.description ~* %(link)s AS d_link,
         e.members AS end_members, s.members AS start_members,
         COALESCE(p.n_posts, 0) AS n_posts, COALESCE(p.n_image, 0) AS n_image,
         COALESCE(p.n_media, 0) AS n_media, COALESCE(p.n_external, 0) AS n_external,
         COALESCE(p.n_many_tags, 0) AS n_many_tags,
         COALESCE(p.n_month_formats, 0) AS n_month_formats, p.interactions,
         COALESCE(tags.top_tag_posts, 0) AS top_tag_posts,
         CASE WHEN c.category <> '' THEN c.category WHEN c.members_count > %(flagship)s
              THEN 'flagship' ELSE 'active' END AS category
  FROM institutions_community c
  JOIN institutions_institution i ON i.id = c.institution_id AND i.is_active
  LEFT JOIN LATERAL (SELECT members FROM metrics_membersnapshot WHERE community_id = c.id
                     AND date <= %(end)s ORDER BY date DESC LIMIT 1) e ON TRUE
  LEFT JOIN LATERAL (SELECT members FROM metrics_membersnapshot WHERE community_id = c.id
                     AND date <= %(start)s ORDER BY date DESC LIMIT 1) s ON TRUE
  LEFT JOIN p ON p.community_id = c.id
  LEFT JOIN tags ON tags.community_id = c.id
  WHERE c.state IN ('active', 'closed')),
f AS (
  SELECT j.*, {_RULES},
    CASE WHEN start_members > 0 AND end_members IS NOT NULL
         THEN (end_members - start_members)::float * 100.0 / start_members END AS growth_pct,
    CASE WHEN n_posts > 0 AND end_members > 0
         THEN interactions::float * 100.0 / (n_posts::float * end_members) END AS er_post,
    n_posts::float * 7.0 / %(days)s AS posts_per_week,
    CASE WHEN n_posts > 0 THEN n_media::float / n_posts ELSE 0 END AS media_share,
    n_month_formats::float / %(months)s AS formats
  FROM j),
g AS (
  SELECT f.id, {_checklist()} AS checklist_share,
    ({_norm('posts_per_week')} + {_norm('media_share')} + {_norm('formats')})::float / 3
      AS norms_share,
    {_cume('growth_pct')} AS growth_share, {_cume('er_post')} AS engagement_share,
    {_cume('n_posts')} AS publications_share
  FROM f),
pts AS (
  SELECT id, {w['checklist']} * COALESCE(checklist_share, 0) AS p_checklist,
         {w['norms']} * norms_share AS p_norms, {w['growth']} * growth_share AS p_growth,
         {w['engagement']} * engagement_share AS p_engagement,
         {w['publications']} * publications_share AS p_publications
  FROM g)
SELECT id, p_checklist, p_norms, p_growth, p_engagement, p_publications,
       p_checklist + p_norms + p_growth + p_engagement + p_publications AS quality_index,
       RANK() OVER (ORDER BY p_checklist + p_norms + p_growth + p_engagement + p_publications
                    DESC) AS place
FROM pts ORDER BY place, id
"""


def quality_index_params(params: QualityParams) -> dict[str, Any]:
    thresholds = {code: float(rule.threshold) for code, rule in RULE_BY_CODE.items()
                  if rule.threshold is not None}
    return {**thresholds, "hashtags_max": int(RULE_BY_CODE["hashtags_max"].threshold or 0),
            "first": params.first_month, "last": params.last_month, "start": params.date_from,
            "end": params.date_to, "days": params.days, "months": params.months,
            "flagship": flagship_threshold(), "address": ADDRESS, "phone": PHONE,
            "hours": HOURS, "link": LINK}
