"""The hand-written SQL the ranking measures compare the portal with (run through psycopg2)."""

from __future__ import annotations

import datetime as dt

from reports.rankings import LEAGUES


def _league_case() -> str:
    whens = " ".join(f"WHEN e.members <= {lg.high} THEN '{lg.code}'"
                     for lg in LEAGUES if lg.high is not None)
    return f"CASE WHEN e.members IS NULL THEN NULL {whens} ELSE '{LEAGUES[-1].code}' END"


def growth_ranking_sql() -> str:
    """Every community ranked by members' growth from %(start)s to %(end)s (1224 places).

    Members on a date are the nearest earlier snapshot (one index probe, LATERAL); communities
    without both figures, closed ones and those of inactive institutions come last, unranked.
    """
    return f"""
WITH j AS (
  SELECT c.id, c.title, c.network, c.url, i.short_name AS institution, t.name AS territory,
         s.members AS start_members, s.date AS start_date, e.members, e.date AS members_date,
         CASE WHEN c.state = 'active' AND i.is_active THEN e.members - s.members END AS growth,
         CASE WHEN c.state = 'active' AND i.is_active AND s.members > 0
              THEN (e.members - s.members) * 100.0 / s.members END AS growth_pct,
         {_league_case()} AS league
  FROM institutions_community c
  JOIN institutions_institution i ON i.id = c.institution_id
  JOIN institutions_territory t ON t.id = i.territory_id
  LEFT JOIN LATERAL (SELECT members, date FROM metrics_membersnapshot
                     WHERE community_id = c.id AND date <= %(end)s
                     ORDER BY date DESC LIMIT 1) e ON TRUE
  LEFT JOIN LATERAL (SELECT members, date FROM metrics_membersnapshot
                     WHERE community_id = c.id AND date <= %(start)s
                     ORDER BY date DESC LIMIT 1) s ON TRUE
)
SELECT CASE WHEN growth IS NOT NULL THEN RANK() OVER (PARTITION BY growth IS NULL
            ORDER BY growth DESC) END AS place,
       CASE WHEN growth IS NOT NULL THEN RANK() OVER (PARTITION BY growth IS NULL, league
            ORDER BY growth DESC) END AS league_place,
       league, territory, institution, title, network, url, start_members, start_date,
       members, members_date, growth, growth_pct
FROM j ORDER BY growth IS NULL, place, id
"""


def bare_read_sql() -> str:
    """The figures a growth ranking needs and nothing else: every community's members on
    %(start)s and on %(end)s, read from the portal's carry-forward ``metrics_membersonday``."""
    return ("SELECT community_id, date, members FROM metrics_membersonday"
            " WHERE date IN (%(start)s, %(end)s)")


#: The session settings the portal's ranking uses too (reports/rankings/query.py), so the baseline
#: is not slowed by JIT compilation or an on-disk sort the portal avoids.
SESSION_SQL = "SET jit = off; SET work_mem = '64MB'"


def growth_params(start: dt.date, end: dt.date) -> dict[str, dt.date]:
    return {"start": start, "end": end}
