"""The Table-1 values list API against a bare ``.values()`` JsonResponse of the same rows."""

from __future__ import annotations

from django.test import Client, override_settings

from bench.context import Context
from bench.harness import Result, median_seconds, speed_ratio

PAGE_SIZE = 100
REQUESTS_PER_SAMPLE = 20


def _throughput(client: Client, url: str, repeats: int) -> float:
    """Requests a second: a sample is ``REQUESTS_PER_SAMPLE`` requests (ms-scale timings)."""

    def sample() -> None:
        for _ in range(REQUESTS_PER_SAMPLE):
            response = client.get(url)
            assert response.status_code == 200, response.content[:300]

    return REQUESTS_PER_SAMPLE / median_seconds(sample, repeats=repeats)


def metrics_list(context: Context) -> list[Result]:
    client = Client()
    client.force_login(context.regional_user())  # session auth on both sides: same cost
    api_url = f"/api/v1/report-values/?page_size={PAGE_SIZE}"
    bare_url = f"/bench/bare-values/?page_size={PAGE_SIZE}"
    with override_settings(ROOT_URLCONF="bench.urls"):
        rows = len(client.get(api_url).json()["results"])
        bare_rows = len(client.get(bare_url).json()["results"])
        bare = _throughput(client, bare_url, context.repeats)
        portal = _throughput(client, api_url, context.repeats)
    result = speed_ratio("metrics_api", portal, bare, at_least=0.5, unit="req/s")
    result.extra = {"page_rows": rows, "bare_rows": bare_rows, "url": api_url,
                    "client": "Django test client, session login"}
    return [result]
