"""An independent computation of rankings from raw rows, written plainly for the tests.

Nothing here imports the code under test: places, figures and leagues are recomputed from the
MemberSnapshot / MetricValue rows as a person would with a spreadsheet.
"""

import datetime as dt
import random

from institutions.choices import CommunityState, Network, Subordination
from metrics.models import MemberSnapshot
from tests.factories import CommunityFactory, InstitutionFactory

LEAGUE_BOUNDS = [("starter", 0, 500), ("small", 501, 2000), ("medium", 2001, 10000),
                 ("large", 10001, 10**12)]


def members_on(series: dict[dt.date, int], day: dt.date) -> tuple[dt.date, int] | None:
    earlier = [d for d in series if d <= day]
    if not earlier:
        return None
    used = max(earlier)
    return used, series[used]


def competition_places(values: dict[int, float]) -> dict[int, int]:
    """Standard competition ranking: 1 + how many are strictly better."""
    return {key: 1 + sum(1 for other in values.values() if other > value)
            for key, value in values.items()}


def league(members: int) -> str:
    return next(code for code, low, high in LEAGUE_BOUNDS if low <= members <= high)


def random_region(territories, seed: int = 7, communities: int = 40):
    """Communities with daily members over two months, gaps, ties and odd cases.

    Returns {community: {date: members}} of what was written to the database.
    """
    rng = random.Random(seed)
    start = dt.date(2026, 1, 1)
    series_by_community = {}
    institutions = [
        InstitutionFactory(territory=territories[i % len(territories)],
                           subordination=rng.choice(list(Subordination.values)),
                           is_active=rng.random() > 0.08)
        for i in range(communities // 2)
    ]
    rows = []
    for n in range(communities):
        community = CommunityFactory(
            institution=institutions[n % len(institutions)],
            network=rng.choice([Network.VK, Network.OK]),
            state=rng.choices(list(CommunityState.values), [85, 10, 5])[0],
        )
        series, members = {}, rng.choice([0, 40, 300, 499, 500, 501, 1500, 2500, 12000])
        first_day = rng.choice([0, 0, 0, 5, 20, 70])  # some begin late, some after the period
        for day in range(first_day, 62):
            members = max(0, members + rng.choice([-2, 0, 0, 1, 3, 5, 10]))
            if rng.random() < 0.15:  # a gap: no collection that day
                continue
            date = start + dt.timedelta(days=day)
            series[date] = members
            rows.append(MemberSnapshot(community=community, date=date, members=members))
        series_by_community[community] = series
    MemberSnapshot.objects.bulk_create(rows)
    return series_by_community
