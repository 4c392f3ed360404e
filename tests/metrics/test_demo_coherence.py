"""The demo collects what it shows: «Собрать сейчас» against the emulator (at the demo's seed)
continues every community's curve and keeps every name, so the guard holds nothing."""

import datetime as dt
import itertools

import pytest
from django.db.models import Max

from demo.members import seed_member_history
from demo.network import EMULATOR_SEED, network_today
from demo.registry import seed_registry
from demo.tokens import demo_tokens_ensure
from institutions.choices import CommunityState, Network
from institutions.models import Community
from metrics.collect.choices import RunKind
from metrics.collect.runs import collection_run_start
from metrics.models import Anomaly, MemberSnapshot
from metrics.ratelimit import get_limiter
from reports.rankings.audience import audience_series
from tests.metrics.conftest import start_emulator

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_emulator():
    handle = start_emulator(seed=EMULATOR_SEED)
    yield handle
    handle.process.terminate()
    handle.process.wait(timeout=10)


@pytest.fixture
def demo_region(demo_emulator, settings):
    settings.VK_API_BASE_URL = demo_emulator.vk_url
    settings.OK_API_BASE_URL = demo_emulator.ok_url
    get_limiter().clear()
    seed_registry(seed=1, institutions=40)
    demo_tokens_ensure()
    seed_member_history()
    return Community.objects.all()


def test_collect_now_continues_every_curve_and_keeps_every_name(demo_region):
    # The seeded history ends the day before the emulator's "today".
    assert MemberSnapshot.objects.aggregate(last=Max("date"))["last"] == (
        network_today() - dt.timedelta(days=1))
    titles = dict(demo_region.values_list("pk", "title"))
    last = {pk: members for pk, members in MemberSnapshot.objects.filter(
        date=network_today() - dt.timedelta(days=1)).values_list("community_id", "members")}

    for network in (Network.VK, Network.OK):
        collection_run_start(kind=RunKind.MEMBERS, network=network)

    assert not Anomaly.objects.exists()
    assert dict(Community.objects.values_list("pk", "title")) == titles
    newest = dict(MemberSnapshot.objects.filter(date__gt=network_today() - dt.timedelta(days=1))
                  .values_list("community_id", "members"))
    active = set(demo_region.filter(state=CommunityState.ACTIVE).values_list("pk", flat=True))
    assert active <= set(newest)
    for pk in active & set(last):
        assert abs(newest[pk] - last[pk]) <= max(10, last[pk] // 100), pk

    today = MemberSnapshot.objects.aggregate(d=Max("date"))["d"]
    points = audience_series(communities=Community.objects.all(),
                             date_from=today - dt.timedelta(days=10), date_to=today)
    assert points[-1].date == today
    for before, after in itertools.pairwise(points):
        assert abs(after.members - before.members) <= before.members // 100


def test_the_demo_names_districts_in_the_genitive():
    """«Краеведческий музей Алексеевского района», not «…Алексеевскийго района»."""
    from institutions.models import Institution

    seed_registry(seed=1, institutions=120)
    names = list(Institution.objects.values_list("short_name", flat=True))
    of_district = [n for n in names if n.endswith(" района")]
    assert of_district, "the demo has institutions named after their district"
    wrong = [n for n in of_district if not n.split()[-2].endswith("ого") or "йго" in n]
    assert not wrong, wrong
