"""The plausibility guard: a jump is held with its evidence, counts nowhere, counts once accepted;
a name unlike the old one is proposed, not applied."""

import datetime as dt

import pytest
from django.utils import timezone

from emulator import data as emu_data
from institutions.choices import Network
from institutions.models import Community
from metrics.collect.choices import AnomalyKind, AnomalyState, RunKind
from metrics.collect.guard import anomaly_decide, members_jump_implausible, names_resemble
from metrics.collect.runs import collection_run_start
from metrics.models import Anomaly, MemberSnapshot
from reports.rankings import RankingParams, ranking_compute
from tests.metrics.conftest import SEED, make_communities, vk_ids

pytestmark = pytest.mark.django_db


def test_names_resemble_when_renamed_not_when_replaced():
    assert names_resemble("Дом культуры №12", "Дом культуры №12 (новое название)")
    assert names_resemble("ДК «Юбилейный»", "ДК Юбилейный")
    assert not names_resemble("СОУНБ", "Дом культуры №4670")


def test_a_jump_counts_only_beyond_both_thresholds(settings):
    settings.MEMBERS_JUMP_SHARE, settings.MEMBERS_JUMP_ABSOLUTE = 0.5, 500
    assert members_jump_implausible(1_032, 21_948)
    assert not members_jump_implausible(100, 400)  # +300 %, but 300 people
    assert not members_jump_implausible(100_000, 101_000)  # 1,000 people, but 1 %
    assert members_jump_implausible(21_948, 1_032)  # a fall too


def _members_on(community, day):
    params = RankingParams(metric="members", date_from=day, date_to=day)
    ranking = ranking_compute(communities=Community.objects.filter(pk=community.pk),
                              params=params)
    return ranking.rows[0].value if ranking.rows else None


def test_an_injected_jump_is_held_listed_left_out_and_counted_once_accepted(
        emulator, vk_token, login, regional):
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    steady, jumping = make_communities(vk_ids("active", 2, start=5000))
    network_today = dt.datetime.now(dt.UTC).date()
    for community in (steady, jumping):
        community.title = emu_data.display_name(SEED, "vk", community.network_id)
        community.save()
    MemberSnapshot.objects.create(community=steady, date=yesterday, members=emu_data.members_on(
        SEED, "vk", steady.network_id, network_today))
    MemberSnapshot.objects.create(community=jumping, date=yesterday, members=7)  # injected

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    anomaly = Anomaly.objects.get()
    real = emu_data.members_on(SEED, "vk", jumping.network_id, network_today)
    assert (anomaly.community, anomaly.kind, anomaly.state) == (
        jumping, AnomalyKind.MEMBERS_JUMP, AnomalyState.HELD)
    assert (anomaly.previous_members, anomaly.previous_date, anomaly.members) == (
        7, yesterday, real)
    assert anomaly.source == "vk_api" and anomaly.run_id is not None
    assert MemberSnapshot.objects.filter(community=steady, date=today).exists()
    assert not MemberSnapshot.objects.filter(community=jumping, date=today).exists()
    assert _members_on(jumping, today) == 7  # the held figure is in no ranking

    client = login(regional)
    page = client.get("/collection/anomalies/").content.decode()
    assert f'id="anomaly-{anomaly.pk}"' in page and "Скачок числа участников" in page
    assert f"{real - 7:,}".replace(",", "\xa0") in page  # the jump, as evidence
    assert f"+{round(100 * (real - 7) / 7):,} %".replace(",", "\xa0") in page

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)  # the same day again
    assert Anomaly.objects.count() == 1

    client.post(f"/collection/anomalies/{anomaly.pk}/", {"decision": "accept"})
    anomaly.refresh_from_db()
    assert anomaly.state == AnomalyState.ACCEPTED and anomaly.decided_by == regional
    assert _members_on(jumping, today) == real
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)  # accepted: not held again
    assert Anomaly.objects.filter(state=AnomalyState.HELD).count() == 0


def test_a_rejected_jump_is_never_written(emulator, vk_token, regional):
    [community] = make_communities(vk_ids("active", 1, start=7000))
    community.title = emu_data.display_name(SEED, "vk", community.network_id)
    community.save()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    MemberSnapshot.objects.create(community=community, date=yesterday, members=3)
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    anomaly_decide(anomaly_id=Anomaly.objects.get().pk, user=regional, accept=False)
    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)
    assert not MemberSnapshot.objects.filter(community=community,
                                             date=timezone.localdate()).exists()
    assert Anomaly.objects.get().state == AnomalyState.REJECTED


def test_an_unlike_name_is_proposed_not_applied(emulator, vk_token):
    [community] = make_communities(vk_ids("active", 1, start=9000))
    community.title = "СОУНБ"
    community.save()
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    MemberSnapshot.objects.create(community=community, date=yesterday, members=emu_data.members_on(
        SEED, "vk", community.network_id, dt.datetime.now(dt.UTC).date()))

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    community.refresh_from_db()
    assert community.title == "СОУНБ"
    anomaly = Anomaly.objects.get()
    assert anomaly.kind == AnomalyKind.RENAME
    assert anomaly.title == emu_data.display_name(SEED, "vk", community.network_id)
    assert MemberSnapshot.objects.filter(community=community,
                                         date=timezone.localdate()).exists()


def test_an_id_answering_with_another_community_is_held_whole(emulator, vk_token):
    [community] = make_communities(vk_ids("active", 1, start=11000), title="СОУНБ",
                                   screen_name="sounb_samara")
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    MemberSnapshot.objects.create(community=community, date=yesterday, members=emu_data.members_on(
        SEED, "vk", community.network_id, dt.datetime.now(dt.UTC).date()))

    collection_run_start(kind=RunKind.MEMBERS, network=Network.VK)

    anomaly = Anomaly.objects.get()
    assert anomaly.kind == AnomalyKind.IDENTITY
    assert (anomaly.previous_screen_name, anomaly.screen_name) == (
        "sounb_samara", f"club{community.network_id}")
    community.refresh_from_db()
    assert (community.title, community.screen_name) == ("СОУНБ", "sounb_samara")
    assert not MemberSnapshot.objects.filter(community=community,
                                             date=timezone.localdate()).exists()
