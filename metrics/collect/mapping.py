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


STATS_MAPPING = [
    FieldMapping(Indicator.VISITS, "stats.get → visitors.views (просмотры страниц сообщества)",
                 "group.getStatTrends → page_visits"),
    FieldMapping(Indicator.UNIQUE_VISITORS, "stats.get → visitors.visitors (уникальные "
                 "посетители за месяц)", "group.getStatTrends → reach (уникальные пользователи)"),
    FieldMapping(Indicator.WALL_VIEWS, "stats.get → reach.reach (охват: стена и лента "
                 "«Новости»)", "group.getStatTrends → content_opens"),
    FieldMapping(Indicator.FEEDBACK, "stats.get → activity.likes + activity.comments + "
                 "activity.copies (репосты)", "group.getStatTrends → likes + comments + reshares"),
    FieldMapping(Indicator.REACH, "stats.get → reach.reach", "group.getStatTrends → reach"),
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


def vk_stats_values(periods: list[VkStats]) -> dict[str, int]:
    """Table-1 values from stats.get intervals of one month."""
    def total(name: str) -> int:
        return sum(getattr(p, name) for p in periods)

    return {
        Indicator.VISITS: total("views"),
        Indicator.UNIQUE_VISITORS: total("visitors"),
        Indicator.WALL_VIEWS: total("reach"),
        Indicator.FEEDBACK: total("likes") + total("comments") + total("copies"),
        Indicator.REACH: total("reach"),
    }


def ok_stats_values(stats: OkStats) -> dict[str, int]:
    """Table-1 values from group.getStatTrends summed over one month."""
    return {
        Indicator.VISITS: stats.page_visits,
        Indicator.UNIQUE_VISITORS: stats.reach,
        Indicator.WALL_VIEWS: stats.content_opens,
        Indicator.FEEDBACK: stats.likes + stats.comments + stats.reshares,
        Indicator.REACH: stats.reach,
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
