"""Named personas, so tests read as stories: "the municipal user of territory A cannot see B".

Two territories, A and B, each with one municipal institution and one VK community; territory A
also has a regional institution. Personas: ``regional`` (regional methodologist), ``municipal_a``
(municipal department of territory A), ``editor_a`` (editor of institution A), ``viewer``
(region-wide read-only), ``api_client`` (read-only API token), ``outsider`` (logged in, no role).
"""

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from institutions.choices import Role, Subordination
from institutions.models import ApiToken
from portal.celery import app as celery_app
from tests.factories import CommunityFactory, InstitutionFactory, ProfileFactory, TerritoryFactory

pytest_plugins = ["tests.emulator_fixtures"]  # the network emulator, one process per session


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tasks run eagerly unless a test is about Celery itself (marker ``celery``)."""
    if request.node.get_closest_marker("celery"):
        yield
        return
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    with override_settings(TASKS_IN_BACKGROUND=False):  # in the test's thread and transaction
        yield
    celery_app.conf.task_always_eager = previous


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    """Personas are created in almost every test; PBKDF2's deliberate slowness is for real users.

    Hashing still happens and logins through the real form still check the password.
    """
    from django.conf import settings
    from django.contrib.auth.hashers import get_hashers, get_hashers_by_algorithm

    previous = settings.PASSWORD_HASHERS
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()
    yield
    settings.PASSWORD_HASHERS = previous
    get_hashers.cache_clear()
    get_hashers_by_algorithm.cache_clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache, so API throttle counters never carry over."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def territory_a(db):
    return TerritoryFactory(name="Алексеевский муниципальный район", oktmo="36602000")


@pytest.fixture
def territory_b(db):
    return TerritoryFactory(name="Борский муниципальный район", oktmo="36608000")


@pytest.fixture
def institution_a(territory_a):
    return InstitutionFactory(short_name="Дом культуры Алексеевки", territory=territory_a)


@pytest.fixture
def institution_b(territory_b):
    return InstitutionFactory(short_name="Библиотека Бора", territory=territory_b)


@pytest.fixture
def regional_institution(territory_a):
    return InstitutionFactory(
        short_name="Областная библиотека", territory=territory_a,
        subordination=Subordination.REGIONAL,
    )


@pytest.fixture
def community_a(institution_a):
    return CommunityFactory(institution=institution_a, title="ДК Алексеевки ВКонтакте")


@pytest.fixture
def community_b(institution_b):
    return CommunityFactory(institution=institution_b, title="Библиотека Бора ВКонтакте")


@pytest.fixture
def regional(db):
    return ProfileFactory(user__username="methodist", role=Role.REGIONAL_METHODOLOGIST).user


@pytest.fixture
def municipal_a(territory_a):
    return ProfileFactory(
        user__username="municipal_a", role=Role.MUNICIPAL, territories=[territory_a]
    ).user


@pytest.fixture
def editor_a(institution_a):
    return ProfileFactory(
        user__username="editor_a", role=Role.EDITOR, institutions=[institution_a]
    ).user


@pytest.fixture
def viewer(db):
    return ProfileFactory(user__username="viewer", role=Role.VIEWER).user


@pytest.fixture
def api_client_user(db):
    return ProfileFactory(user__username="api_robot", role=Role.API_CLIENT).user


@pytest.fixture
def outsider(django_user_model):
    return django_user_model.objects.create_user("outsider", password="x-pass-1")


@pytest.fixture
def world(community_a, community_b, regional_institution):
    """Both territories populated: institutions, communities, a regional institution."""
    return {"a": community_a, "b": community_b, "regional": regional_institution}


@pytest.fixture
def login():
    """``login(user)`` gives a Django test client with that user's session."""

    def make(user) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def api_as():
    """``api_as(user)`` gives a DRF client authenticated with the user's API token.

    The token is one in steady use (used a moment ago), so a request does not also record its
    last use: query budgets count the request's own work.
    """

    def make(user) -> APIClient:
        client = APIClient()
        _, key = ApiToken.objects.create_key(user=user, name="тесты", last_used_at=timezone.now())
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


# --- lines a test leaves for the end of the run's output ---------------------------------------
_SUMMARY_LINES = pytest.StashKey[list]()


@pytest.fixture
def summary_line(request, record_property):
    """``summary_line(text)``: shown at the end of the run (with or without -s) and kept in the
    test's properties (JUnit XML)."""

    def write(text: str) -> None:
        record_property("summary", text)
        request.config.stash.setdefault(_SUMMARY_LINES, []).append(
            f"{request.node.name}: {text}")

    return write


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    lines = config.stash.get(_SUMMARY_LINES, [])
    if lines:
        terminalreporter.section("what the soak and limit tests measured")
        for line in lines:
            terminalreporter.write_line(line)
