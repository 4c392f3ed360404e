"""Communities kept as each rule needs, collected from the emulator as the schedule would."""

from __future__ import annotations

import datetime as dt

import pytest

from emulator import data as emu_data
from emulator import keeping as emu_keeping
from institutions.choices import Network
from metrics.collect.choices import RunKind
from metrics.collect.runs import collection_run_start
from tests.emulator_fixtures import SEED
from tests.factories import CommunityFactory, InstitutionFactory
from tests.metrics.conftest import ok_token, vk_user_token  # noqa: F401  (fixtures)

FEBRUARY = dt.date(2026, 2, 1)
FEBRUARY_END = dt.date(2026, 2, 28)
EMULATOR_TODAY = "2026-03-25"


def vk_where(test, *, count: int = 1, start: int = 1000) -> list[int]:
    """Active VK ids whose habits pass ``test``."""
    return emu_keeping.ids_where(SEED, "vk", test, count=count, start=start,
                                 fate=lambda gid: emu_data.vk_fate(SEED, gid))


def february_posts(gid: int) -> list[dict]:
    return emu_data.month_posts(SEED, gid, FEBRUARY)


def vk_posts_where(test, *, start: int = 1000) -> int:
    """An active VK id whose February posts (there are some) pass ``test``."""
    gid = start
    for _ in range(200):
        gid = vk_where(lambda k: True, start=gid)[0]
        posts = february_posts(gid)
        if posts and test(posts):
            return gid
        gid += 1
    raise LookupError("no emulated wall has such February posts")


def community_of(gid: int, *, network: str = Network.VK, institution=None, **fields):
    """A registry community of the emulated id, its institution named as the network names it."""
    name = emu_data.display_name(SEED, network, gid)
    institution = institution or InstitutionFactory(short_name=name, full_name=f"МБУК «{name}»")
    url = f"https://vk.com/club{gid}" if network == Network.VK else f"https://ok.ru/group/{gid}"
    return CommunityFactory(institution=institution, network=network, network_id=gid, url=url,
                            title="", **fields)


def collect(network: str = Network.VK) -> None:
    """The daily members run and February's posts run, as the schedule starts them."""
    collection_run_start(kind=RunKind.MEMBERS, network=network)
    collection_run_start(kind=RunKind.POSTS, network=network, period=FEBRUARY)


@pytest.fixture
def february(emulator):
    emulator.faults(today=EMULATOR_TODAY)
    return emulator
