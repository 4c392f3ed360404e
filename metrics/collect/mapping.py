"""How the networks' statistics become Table-1 rows (also rendered on /help/collection/)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from metrics.choices import Indicator
from metrics.ok.client import OkStats, OkTopic
from metrics.vk.answers import VkPost, VkStats


@dataclass(frozen=True)
class FieldMapping:
    """One Table-1 row and the network fields it is computed from."""

    indicator: str
    vk: str
    ok: str


#: What no field of the network gives, said in the mapping table's cell.
NOT_DERIVED = "не выводится"
# Reviewed against VK's own field descriptions (stats/objects.json of its schema 5.199) and OK's
# documentation (emulator/ok_contract.json). Unique people are never summed: a month's come only
# from the month's own interval, and where a network gives them by day only they are not derived.
STATS_MAPPING = [
    FieldMapping(
        Indicator.VISITS,
        "stats.get, интервал «месяц» → visitors.views («Views number»: просмотры страниц "
        "сообщества)",
        "group.getStatTrends → page_visits (посещения страницы группы), сумма по дням"),
    FieldMapping(
        Indicator.UNIQUE_VISITORS,
        "stats.get, интервал «месяц» → visitors.visitors («Visitors number»: уникальные "
        "посетители месяца, как их считает VK; не сумма дней)",
        f"{NOT_DERIVED}: OK даёт уникальных людей только по дням (reach), а люди за месяц из "
        "дневных чисел не складываются — значение вводит учреждение"),
    FieldMapping(
        Indicator.WALL_VIEWS,
        f"{NOT_DERIVED}: у stats.get нет просмотров стены и ленты новостей; reach.reach («Reach "
        "count») — число уникальных людей, а не просмотров (собирается отдельно как «Охват»), "
        "просмотры записей месяца — сумма views.count (сбор публикаций); значение вводит "
        "учреждение со страницы статистики сообщества",
        "group.getStatTrends → renderings (показы материалов группы в лентах и в группе), "
        "сумма по дням"),
    FieldMapping(
        Indicator.FEEDBACK,
        "stats.get, интервал «месяц» → activity.likes + activity.comments + activity.copies "
        "(«Likes number», «Comments number», «Reposts number»)",
        "group.getStatTrends → likes + comments + reshares, сумма по дням"),
    FieldMapping(
        Indicator.REACH,
        "stats.get, интервал «месяц» → reach.reach («Reach count»: уникальные люди, видевшие "
        "записи сообщества за месяц)",
        f"{NOT_DERIVED}: охват OK дан по дням, а уникальные люди по дням не складываются"),
]
POSTS_MAPPING = [
    FieldMapping(Indicator.POSTS, "число записей сообщества за месяц (wall.get, filter=owner)",
                 "число тем ленты группы за месяц (mediatopic.getTopics)"),
    FieldMapping(Indicator.LIKES, "сумма likes.count записей месяца",
                 "сумма like_summary.count тем месяца"),
    FieldMapping(Indicator.REPOSTS, "сумма reposts.count", "сумма reshare_summary.count"),
    FieldMapping(Indicator.COMMENTS, "сумма comments.count",
                 "сумма discussion_summary.comments_count"),
    FieldMapping(Indicator.VIEWS, "сумма views.count", "сумма views_count"),
]


def vk_stats_values(month: VkStats) -> dict[str, int]:
    """Table-1 values from the stats.get interval that is the month itself (never a sum of
    intervals: unique visitors and reach are people, counted once a month by VK)."""
    return {
        Indicator.VISITS: month.views,
        Indicator.UNIQUE_VISITORS: month.visitors,
        Indicator.FEEDBACK: month.likes + month.comments + month.copies,
        Indicator.REACH: month.reach,
    }


def ok_stats_values(stats: OkStats) -> dict[str, int]:
    """Table-1 values from group.getStatTrends summed over one month (counts only: events,
    not people, add up across days)."""
    return {
        Indicator.VISITS: stats.page_visits,
        Indicator.WALL_VIEWS: stats.renderings,
        Indicator.FEEDBACK: stats.likes + stats.comments + stats.reshares,
    }


@dataclass
class PostTotals:
    """A month's posts of one community, summed as its pages are read."""

    posts: int = 0
    likes: int = 0
    reposts: int = 0
    comments: int = 0
    views: int = 0

    def add(self, posts: int, likes: int, reposts: int, comments: int, views: int) -> None:
        self.posts += posts
        self.likes += likes
        self.reposts += reposts
        self.comments += comments
        self.views += views

    def values(self) -> dict[str, int]:
        """The month's post count and the sums of their counters, as Table-1 values."""
        return {Indicator.POSTS: self.posts, Indicator.LIKES: self.likes,
                Indicator.REPOSTS: self.reposts, Indicator.COMMENTS: self.comments,
                Indicator.VIEWS: self.views}


def posts_values(posts: Sequence[VkPost | OkTopic]) -> dict[str, int]:
    """The month's post count and the sums of their counters (VK posts or OK topics)."""
    return {
        Indicator.POSTS: len(posts),
        Indicator.LIKES: sum(p.likes for p in posts),
        Indicator.REPOSTS: sum(p.reposts for p in posts),
        Indicator.COMMENTS: sum(p.comments for p in posts),
        Indicator.VIEWS: sum(p.views for p in posts),
    }
