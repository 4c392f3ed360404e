"""A separate process that calls the emulator through the VK client (for limiter tests).

``python -m tests.metrics.probe URL TOKEN N START [--local]``: at the wall-clock time START, N
requests on one token, paced by the shared Redis limiter (or, with --local, by a limiter of this
process only). Exits 6 when VK answered "too many requests per second".
"""

import os
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    django.setup()
    from metrics.collect.credentials import Credential
    from metrics.collect.errors import RateLimited
    from metrics.ratelimit import LimitKey, LocalRateLimiter, get_limiter
    from metrics.vk.client import VkClient

    url, token, count, start = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    limiter = LocalRateLimiter(hold=10) if "--local" in sys.argv else get_limiter()
    client = VkClient(credentials=[Credential(1, token, LimitKey(f"probe:{token}", 3))],
                      limiter=limiter, base_url=url, timeout=5)
    time.sleep(max(0.0, start - time.time()))  # every probe starts its burst together
    try:
        for i in range(count):
            client.resolve_screen_name(f"probe{i}")
    except RateLimited:
        sys.exit(6)


if __name__ == "__main__":
    main()
