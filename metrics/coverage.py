"""Which communities have a token that can read their statistics, which do not, which expire."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from institutions.models import Community
from metrics.collect.choices import TokenKind
from metrics.models import NetworkToken

EXPIRES_SOON_DAYS = 7
# As the collector plans statistics (metrics.tokens.tokens_usable): user tokens of admins only.
STATS_KINDS = (TokenKind.USER,)


@dataclass(frozen=True)
class Coverage:
    total: int
    covered: int
    expiring: int

    @property
    def missing(self) -> int:
        return self.total - self.covered


def _live_tokens(now: dt.datetime) -> QuerySet[NetworkToken]:
    return NetworkToken.objects.filter(kind__in=STATS_KINDS, is_active=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def communities_with_coverage(*, user) -> QuerySet[Community]:
    """The user's active communities, each with ``has_stats_token`` and ``token_expires``.

    ``token_expires`` is the latest expiry among its live tokens (None: one never expires).
    """
    now = timezone.now()
    live = _live_tokens(now).filter(communities=OuterRef("pk"))
    forever = live.filter(expires_at__isnull=True)
    return (Community.objects.visible_to(user).active()
            .select_related("institution__territory")
            .annotate(has_stats_token=Exists(live), never_expires=Exists(forever),
                      token_expires=Max("admin_tokens__expires_at",
                                        filter=Q(admin_tokens__in=_live_tokens(now))))
            .order_by("institution__territory__name", "institution__short_name", "pk"))


def coverage_summary(*, communities: QuerySet[Community]) -> Coverage:
    soon = timezone.now() + dt.timedelta(days=EXPIRES_SOON_DAYS)
    return Coverage(
        total=communities.count(),
        covered=communities.filter(has_stats_token=True).count(),
        expiring=communities.filter(has_stats_token=True, never_expires=False,
                                    token_expires__lte=soon).count())
