"""What every measure gets: the scale, repeats, the emulator, and the benchmark's user."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection
from rest_framework.test import APIClient

from bench.data import Scale
from institutions.choices import Role
from institutions.models import UserProfile

BENCH_USER = "bench-methodologist"


@dataclass
class Context:
    """The run's settings as a measure sees them."""

    scale: Scale
    repeats: int
    smoke: bool
    emulator_url: str = ""

    def regional_user(self):
        """A regional methodologist (sees the whole region), created on first use."""
        user, _ = get_user_model().objects.get_or_create(username=BENCH_USER)
        UserProfile.objects.update_or_create(user=user,
                                             defaults={"role": Role.REGIONAL_METHODOLOGIST})
        return get_user_model().objects.select_related("profile").get(pk=user.pk)

    def api_client(self) -> APIClient:
        """Django's test client (in process, no HTTP server) as the regional methodologist."""
        client = APIClient()
        client.force_authenticate(self.regional_user())
        return client


def dsn() -> str:
    """A psycopg2 DSN of the database Django uses, for the hand-written baselines."""
    s = connection.settings_dict
    parts = [f"dbname={s['NAME']}", f"host={s['HOST'] or '127.0.0.1'}",
             f"port={s['PORT'] or 5432}", f"user={s['USER'] or 'postgres'}"]
    if s.get("PASSWORD"):
        parts.append(f"password={s['PASSWORD']}")
    return " ".join(parts)
