"""The one data generator every benchmark shares: a region or the whole country, loaded by COPY.

Deterministic for a seed. Writes straight into the registry and metrics tables of the database
Django is configured with, which must be a dedicated benchmark or test database.
"""

from __future__ import annotations

import datetime as dt
import io
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import connection, transaction

from emulator import data as network_data

#: Bumped when the generated tables change, so a database loaded before is loaded again.
DATA_VERSION = 3
TABLE1 = ("members", "visits", "unique_visitors", "wall_views", "feedback")
STAMP = "2026-01-01 00:00:00+00"
DAYS_DEFERRED = "metrics.members_on_day_deferred"


@dataclass(frozen=True)
class Scale:
    name: str
    communities: int
    days: int
    months: int
    territories: int
    end: dt.date = dt.date(2026, 10, 31)
    #: The registry as the emulator's network shows it (titles, the day's members), so a
    #: collection finds what a daily one finds: no renames, no impossible jumps to hold back.
    as_network: bool = False

    @property
    def start(self) -> dt.date:
        return self.end - dt.timedelta(days=self.days - 1)


REGION = Scale("region", communities=3_000, days=730, months=24, territories=30)
COUNTRY = Scale("country", communities=130_000, days=90, months=0, territories=2_400)
SMOKE = Scale("smoke", communities=120, days=60, months=3, territories=4)
# Collection rewrites communities (states, titles) and snapshots, so it gets a registry of its own,
# reloaded before every run: the region's 3,000 communities with one day of members, the day
# before the collection's pinned "today" (22.11.2026), as a daily collection finds them.
COLLECTED_UP_TO = dt.date(2026, 11, 21)
COLLECT = Scale("collect", communities=3_000, days=1, months=0, territories=30,
                end=COLLECTED_UP_TO, as_network=True)
SMOKE_COLLECT = Scale("smoke_collect", communities=30, days=1, months=0, territories=2,
                      end=COLLECTED_UP_TO, as_network=True)
# The country's registry for its members run, and a tenth of it whose whole walls stand in for
# the country's posts run (its requests scale with the communities).
COLLECT_COUNTRY = Scale("collect_country", communities=130_000, days=1, months=0,
                        territories=2_400, end=COLLECTED_UP_TO, as_network=True)
COLLECT_SAMPLE = Scale("collect_sample", communities=13_000, days=1, months=0, territories=240,
                       end=COLLECTED_UP_TO, as_network=True)
SCALES = {s.name: s for s in (REGION, COUNTRY, SMOKE, COLLECT, SMOKE_COLLECT, COLLECT_COUNTRY,
                              COLLECT_SAMPLE)}


class _LineReader(io.TextIOBase):
    """A file-like object over an iterator of lines, so COPY streams without building a file."""

    def __init__(self, lines: Iterable[str]) -> None:
        self._lines: Iterator[str] = iter(lines)
        self._buffer = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> str:
        while size < 0 or len(self._buffer) < size:
            chunk = "".join(line for _, line in zip(range(2000), self._lines, strict=False))
            if not chunk:
                break
            self._buffer += chunk
        if size < 0:
            out, self._buffer = self._buffer, ""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    readline = read


def _copy(table: str, columns: str, lines: Iterable[str]) -> None:
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", _LineReader(lines))


def _territories(scale: Scale) -> Iterator[str]:
    for t in range(1, scale.territories + 1):
        yield f"{t}\tТерритория {t} муниципальный район\tmunicipal_district\t{10_000_000 + t}\n"


def _institution_count(scale: Scale) -> int:
    return max(1, scale.communities * 2 // 3)


def _institutions(scale: Scale) -> Iterator[str]:
    types = ("club", "library", "museum", "education", "theatre", "park", "other")
    for i in range(1, _institution_count(scale) + 1):
        territory = (i - 1) % scale.territories + 1
        kind, sub = types[i % len(types)], "regional" if i % 50 == 0 else "municipal"
        yield (f"{i}\tМБУК «Учреждение {i}»\tУчреждение {i}\t{kind}\t\\N\t{territory}\t{sub}"
               f"\tt\t{STAMP}\t{STAMP}\n")


def _tsv(text: str) -> str:
    """``text`` as a field of PostgreSQL's COPY text format."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def _community_network(c: int) -> tuple[str, int]:
    return ("ok", 50_000_000_000 + c) if c % 5 == 0 else ("vk", 100_000_000 + c)


def _communities(scale: Scale, seed: int) -> Iterator[str]:
    institutions = _institution_count(scale)
    for c in range(1, scale.communities + 1):
        network, nid = _community_network(c)
        title = network_data.display_name(seed, network, nid) if scale.as_network \
            else f"Сообщество {c}"
        url = f"https://ok.ru/group/{nid}" if network == "ok" else f"https://vk.com/club{nid}"
        state = "closed" if c % 97 == 0 else "active"
        yield (f"{c}\t{(c - 1) % institutions + 1}\t{network}\t{nid}\t\t{_tsv(title)}\t{url}"
               f"\t{'t' if c % 3 else 'f'}\t{state}\t\\N\t\\N\t\t{STAMP}\t{STAMP}"
               f"\t{_keeping(c, network)}\n")


_DESCRIPTIONS = (
    "Дом культуры: концерты, кружки и выставки. Адрес: ул. Ленина, д. 5. Телефон: "
    "+7 (846) 200-10-20. Режим работы: 10:00–18:00. Сайт: https://dk.example.ru",
    "Библиотека села: книги, клубы по интересам, встречи с писателями.",
    "",
)


def _keeping(c: int, network: str) -> str:
    """How the community is kept: kind, description, site, avatar, cover, wall, addresses,
    name similarity, category (COPY text; \\N is NULL)."""
    vk = network == "vk"
    wall = ("2", "2", "1", "3")[c % 4] if vk else "\\N"
    cover = ("t" if c % 4 else "f") if vk else "\\N"
    category = "card" if c % 53 == 0 else ""
    return (f"{'page' if c % 2 else 'group'}\t{_DESCRIPTIONS[c % 3]}\t"
            f"{'https://dk.example.ru' if c % 5 else ''}\t{'t' if c % 9 else 'f'}\t{cover}\t"
            f"{wall}\t{'t' if c % 3 else 'f'}\t{(c % 10) / 10}\t{category}")


POST_FORMATS = ("photo", "photo", "video", "text", "clip", "article", "poll", "link")


def _post_rows(scale: Scale, seed: int) -> Iterator[tuple[int, int, dt.date, int, int]]:
    """(post id, community, month, index in the month, roll) of the last two months' posts."""
    rng, post_id = random.Random(seed + 7), 0
    first = dt.date(scale.end.year, scale.end.month, 1)
    months = [first, (first - dt.timedelta(days=1)).replace(day=1)][:min(2, scale.months)]
    for c in range(1, scale.communities + 1):
        for month in months:
            for i in range(rng.randrange(0, 40)):
                post_id += 1
                yield post_id, c, month, i, rng.getrandbits(32)


def _posts(scale: Scale, seed: int) -> Iterator[str]:
    for post_id, c, month, i, roll in _post_rows(scale, seed):
        fmt = POST_FORMATS[roll % len(POST_FORMATS)]
        day = month + dt.timedelta(days=i % 28)
        image = "t" if fmt == "photo" or roll % 3 == 0 else "f"
        video = "t" if fmt in ("video", "clip") else "f"
        external = "t" if fmt == "link" and c % 7 == 0 else "f"
        likes = roll // 8 % 60
        yield (f"{post_id}\t{c}\t{c}-{post_id}\t{month.isoformat()}\t{day.isoformat()} "
               f"12:00:00+00\t{fmt}\t{image}\t{video}\t{external}\t{roll // 16 % 5}\tt\t"
               f"{likes}\t{roll // 64 % 6}\t{roll // 512 % 9}\t{likes * 12}\n")


def _hashtags(scale: Scale, seed: int) -> Iterator[str]:
    for post_id, c, month, _, roll in _post_rows(scale, seed):
        if roll // 16 % 5 and c % 4:
            yield f"{post_id}\t{post_id}\t{c}\t{month.isoformat()}\tнашдк{c % 50}\n"


def member_series(scale: Scale, community: int, seed: int) -> Iterator[tuple[dt.date, int]]:
    """Plausible daily members: a log-normal base, a drifting walk, late starts and gaps.

    ``as_network`` scales: the emulator's own figure for each day (the network's members).
    """
    if scale.as_network:
        network, nid = _community_network(community)
        for offset in range(scale.days):
            day = scale.start + dt.timedelta(days=offset)
            yield day, network_data.members_on(seed, network, nid, day)
        return
    rng = random.Random(seed * 1_000_003 + community)
    members = int(rng.lognormvariate(6.3, 1.3)) + 10
    drift = rng.uniform(-0.0005, 0.002)
    late_start = scale.days // 4 if community % 41 == 0 else 0
    for offset in range(late_start, scale.days):
        members = max(0, round(members * (1 + drift + rng.gauss(0, 0.002))))
        if community % 13 == 0 and offset % 11 == 5:
            continue  # a collection gap: that day has no row
        yield scale.start + dt.timedelta(days=offset), members


def _snapshots(scale: Scale, seed: int) -> Iterator[str]:
    row_id = 0
    for c in range(1, scale.communities + 1):
        if c % 97 == 1:
            continue  # never collected: ranked apart as "no data"
        for day, members in member_series(scale, c, seed):
            row_id += 1
            yield f"{row_id}\t{c}\t{day.isoformat()}\t{members}\t{STAMP}\n"


def _values(scale: Scale, seed: int) -> Iterator[str]:
    row_id, rng = 0, random.Random(seed)
    first = dt.date(scale.end.year, scale.end.month, 1)
    for c in range(1, scale.communities + 1):
        for m in range(scale.months):
            index = first.year * 12 + first.month - 1 - m
            month = dt.date(index // 12, index % 12 + 1, 1).isoformat()
            visits = rng.randrange(50, 5000)
            figures = (rng.randrange(100, 20000), visits, visits // 2, visits * 3, visits // 10)
            for indicator, value in zip(TABLE1, figures, strict=True):
                row_id += 1
                yield (f"{row_id}\t{c}\t{month}\t{indicator}\t{value}\tmanual\t\\N\t{STAMP}"
                       f"\t\\N\t\tf\n")


TABLES: list[tuple[str, str, Callable[[Scale, int], Iterable[str]]]] = [
    ("institutions_territory", "id, name, kind, oktmo", lambda s, _: _territories(s)),
    ("institutions_institution",
     "id, full_name, short_name, type, inn, territory_id, subordination, is_active, created_at,"
     " updated_at", lambda s, _: _institutions(s)),
    ("institutions_community",
     "id, institution_id, network, network_id, screen_name, title, url, is_verified, state,"
     " members_count, last_collected_at, last_error, created_at, updated_at, kind, description,"
     " site, has_avatar, has_cover, wall_mode, has_addresses, name_similarity, category",
     _communities),
    ("metrics_membersnapshot", "id, community_id, date, members, collected_at", _snapshots),
    ("metrics_metricvalue",
     "id, community_id, month, indicator, value, source, updated_by_id, updated_at, api_value,"
     " api_source, is_confirmed", _values),
    ("metrics_post",
     "id, community_id, key, month, published_at, format, has_image, has_video,"
     " has_external_video, hashtags, comments_open, likes, reposts, comments, views", _posts),
    ("metrics_posthashtag", "id, post_id, community_id, month, tag", _hashtags),
]


def _guard_database() -> None:
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or not ("bench" in name or name.startswith("test_")):
        raise RuntimeError(
            f"The benchmark data generator replaces all registry data; database {name!r} is not a "
            "benchmark database (its name must contain 'bench' or start with 'test_')."
        )


def loaded_scale() -> str | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_meta')")
        if cursor.fetchone()[0] is None:
            return None
        cursor.execute("SELECT scale FROM bench_meta")
        row = cursor.fetchone()
    return row[0] if row else None


def load(scale: Scale, *, seed: int = 1, force: bool = False) -> bool:
    """Replace the registry and metrics with ``scale``; skip when already loaded. True if loaded."""
    _guard_database()
    marker = f"{scale.name}:{seed}:{DATA_VERSION}"
    if not force and loaded_scale() == marker:
        return False
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE institutions_territory, institutions_institution, institutions_community,"
            " metrics_membersnapshot, metrics_membersonday, metrics_metricvalue, metrics_post,"
            " metrics_posthashtag"
            " RESTART IDENTITY CASCADE"
        )
        # The snapshots' trigger would carry millions of COPY rows forward one range at a
        # time; the rebuild does it in one statement (metrics/migrations/0008).
        cursor.execute(f"SELECT set_config('{DAYS_DEFERRED}', 'on', true)")
        for table, columns, rows in TABLES:
            _copy(table, columns, rows(scale, seed))
        cursor.execute(f"SELECT set_config('{DAYS_DEFERRED}', 'off', true)")
        cursor.execute("SELECT metrics_members_on_day_rebuild()")
        for table, _, _ in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" COALESCE((SELECT max(id) FROM {table}), 1))"
            )
        cursor.execute(
            "UPDATE institutions_community c SET members_count = s.members FROM ("
            " SELECT DISTINCT ON (community_id) community_id, members FROM metrics_membersnapshot"
            " ORDER BY community_id, date DESC) s WHERE s.community_id = c.id"
        )
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_meta (scale text)")
        cursor.execute("DELETE FROM bench_meta")
        cursor.execute("INSERT INTO bench_meta VALUES (%s)", [marker])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return True
