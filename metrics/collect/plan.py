"""What the registered tokens let a run do, said on the run page: why a run is slower than it
could be, and what to register to make it faster.

VK takes each kind of token for some methods only (its schema's ``access_token_type``):
``execute`` (25 calls a request) only user and community tokens, ``wall.get`` user and service
tokens, ``stats.get`` user tokens — of the community's admins. A run plans around the tokens it
has (``VkClient.run``, ``posts.wall_plan``); this module only explains the plan to people.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef
from django.utils.translation import ngettext

from institutions.choices import CommunityState, Network
from institutions.models import Community
from metrics.collect.choices import RunKind, TokenKind
from metrics.models import NetworkToken
from metrics.tokens import tokens_usable

REGISTER_USER = ("Чтобы ускорить, зарегистрируйте на странице «Ключи доступа» ключ пользователя "
                 "VK (права администратора для этого не нужны).")


def run_plan(*, kind: str, network: str) -> str:
    """The run page's note on how this run goes with the tokens registered now ("" if at full
    speed)."""
    if network != Network.VK:
        return ""
    kinds = set(tokens_usable(network=network).values_list("kind", flat=True))
    if kind == RunKind.STATS:
        return _stats_plan()
    if kind == RunKind.POSTS and TokenKind.USER not in kinds:
        if TokenKind.SERVICE in kinds:
            return ("Стены читаются по одной странице за запрос: из ключей, читающих стены, "
                    "зарегистрирован только сервисный, а с ним VK не принимает execute (25 "
                    "страниц за запрос). Сбор завершится, но запросов в 25 раз больше. "
                    + REGISTER_USER)
        return ("Стены VK читает только ключ пользователя или сервисный ключ; ключи сообществ "
                "для этого не подходят. " + REGISTER_USER)
    if kind == RunKind.MEMBERS and not kinds & {TokenKind.USER, TokenKind.COMMUNITY}:
        return ("Сообщества запрашиваются по 500 за запрос, а не по 12 500: зарегистрирован "
                "только сервисный ключ, а с ним VK не принимает execute. Сбор завершится, но "
                "медленнее. " + REGISTER_USER.replace("ключ пользователя VK", "ключ "
                                                      "пользователя или ключ сообщества VK"))
    return ""


def _stats_plan() -> str:
    admins = NetworkToken.communities.through.objects.filter(
        community_id=OuterRef("pk"), networktoken__is_active=True,
        networktoken__kind=TokenKind.USER)
    missing = (Community.objects.filter(network=Network.VK, institution__is_active=True)
               .exclude(state=CommunityState.DELETED).exclude(Exists(admins)).count())
    if not missing:
        return ""
    return ngettext(
        "Статистику VK отдаёт только ключ пользователя — администратора сообщества (ключи "
        "сообществ и сервисные ключи метод stats.get не принимает). Без такого ключа "
        "статистика %(count)d сообщества не собирается: зарегистрируйте ключ его "
        "администратора.",
        "Статистику VK отдаёт только ключ пользователя — администратора сообщества (ключи "
        "сообществ и сервисные ключи метод stats.get не принимает). Без такого ключа "
        "статистика %(count)d сообществ не собирается: зарегистрируйте ключи их "
        "администраторов.", missing) % {"count": missing}
