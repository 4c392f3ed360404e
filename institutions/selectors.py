"""Reads of the registry, always scoped to a user."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from institutions.choices import CommunityState, Network
from institutions.filters import live_communities
from institutions.models import Community, Institution, Territory

_LIVE = ~Q(communities__state=CommunityState.DELETED)


def registry_counts(*, user) -> dict[str, int]:
    """What the home page shows: how much of the registry the user sees.

    "Without community" and "not verified" use the same definitions as the registry filters the
    home page links to, so a number and the list behind it always agree.
    """
    institutions = Institution.objects.visible_to(user)
    has_live = live_communities().filter(institution=OuterRef("pk"))
    by_institution = institutions.aggregate(
        total=Count("pk"),
        without_community=Count("pk", filter=~Q(Exists(has_live))),
        not_verified=Count("pk", filter=Q(Exists(has_live.filter(is_verified=False)))),
    )
    by_community = Community.objects.visible_to(user).aggregate(
        total=Count("pk"),
        vk=Count("pk", filter=Q(network=Network.VK)),
        ok=Count("pk", filter=Q(network=Network.OK)),
        verified=Count("pk", filter=Q(is_verified=True)),
        inactive=Count("pk", filter=~Q(state=CommunityState.ACTIVE)),
    )
    return {
        "territories": Territory.objects.visible_to(user).count(),
        "institutions": by_institution["total"],
        "institutions_without_community": by_institution["without_community"],
        "institutions_not_verified": by_institution["not_verified"],
        "communities": by_community["total"],
        "communities_vk": by_community["vk"],
        "communities_ok": by_community["ok"],
        "communities_verified": by_community["verified"],
        "communities_inactive": by_community["inactive"],
    }


def institution_list(*, user) -> QuerySet[Institution]:
    """The registry rows a user sees, with per-network counts of live communities."""
    return (
        Institution.objects.visible_to(user)
        .select_related("territory")
        .annotate(
            community_count=Count("communities", filter=_LIVE, distinct=True),
            vk_count=Count(
                "communities", filter=_LIVE & Q(communities__network=Network.VK), distinct=True
            ),
            ok_count=Count(
                "communities", filter=_LIVE & Q(communities__network=Network.OK), distinct=True
            ),
            unverified_count=Count(
                "communities", filter=_LIVE & Q(communities__is_verified=False), distinct=True
            ),
        )
        .order_by("short_name", "pk")
    )


def institution_for_page(*, user, pk: int) -> Institution | None:
    """One institution within the user's scope, or None when it is absent or out of scope."""
    return (
        Institution.objects.visible_to(user).select_related("territory").filter(pk=pk).first()
    )


def institution_communities(*, institution: Institution) -> QuerySet[Community]:
    """An institution's communities for its page, VK first."""
    return institution.communities.order_by("-network", "pk")
