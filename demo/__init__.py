"""A believable demo region for ``make run`` and ``docker compose up``: the registry, a year of
members, two years of Table 1 with reports in every state, and the emulator's tokens.

It lives above the layers (``institutions`` ← ``metrics`` ← ``reports``) because it fills them
all; no app imports it. Run: ``python manage.py seed_demo``.
"""
