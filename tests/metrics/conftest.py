"""Tokens the emulator accepts and communities of each fate (the emulator itself is the
``emulator`` fixture of ``tests/emulator_fixtures.py``, shared by every test folder).
"""

from __future__ import annotations

import pytest

from emulator import data as emu_data
from institutions.choices import Network
from metrics.collect.choices import TokenKind
from metrics.tokens import token_register
from tests.emulator_fixtures import ROOT, SEED, EmulatorHandle, start_emulator
from tests.factories import CommunityFactory, InstitutionFactory

__all__ = ["ROOT", "SEED", "EmulatorHandle", "start_emulator"]


# --- tokens ---------------------------------------------------------------------------------------
def register(network: str, secret: str, *, kind: str = TokenKind.SERVICE, communities=(),
             label: str = "", check: bool = False):
    """Register a token as the regional methodologist would (skip the API check by default)."""
    extra = {}
    if network == Network.OK:
        extra = {"app_key": "CBAEMULATOR", "app_secret": "emulator-secret"}
        kind = TokenKind.USER
    return token_register(user=None, network=network, kind=kind, secret=secret,
                          label=label or secret, community_ids=[c.pk for c in communities],
                          check=check, **extra)


@pytest.fixture
def vk_token(db):
    """The region's service token: VK takes it for groups.getById, resolveScreenName and wall.get,
    one call a request (never ``execute``)."""
    return register(Network.VK, "vkemu-svc-tests")


@pytest.fixture
def vk_user_token(db):
    """A user token (no admin rights): it may send ``execute``, 25 calls a request."""
    return register(Network.VK, "vkemu-usr-tests", kind=TokenKind.USER)


@pytest.fixture
def ok_token(db):
    return register(Network.OK, "okemu-usr-tests")


# --- communities of each fate ---------------------------------------------------------------------
def vk_ids(fate: str, count: int, start: int = 1000) -> list[int]:
    return emu_data.ids_with_fate(SEED, "vk", fate, count, start)


def ok_ids(fate: str, count: int, start: int = 50_000_000_000_000) -> list[int]:
    return emu_data.ids_with_fate(SEED, "ok", fate, count, start)


def make_communities(network_ids: list[int], *, network: str = Network.VK, institution=None,
                     **fields) -> list:
    institution = institution or InstitutionFactory()
    prefix = "https://vk.com/club" if network == Network.VK else "https://ok.ru/group/"
    return [CommunityFactory(institution=institution, network=network, network_id=gid,
                             url=f"{prefix}{gid}", **fields) for gid in network_ids]
