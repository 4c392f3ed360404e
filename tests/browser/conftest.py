"""Browser tests: Debian's headless Chromium, driven by Playwright, against Django's live server.

How to write one (any module under ``tests/browser/`` is marked ``browser`` automatically, so
``pytest -m "not browser"`` leaves them out)::

    def test_the_methodologist_filters_the_registry(logged_in_page, regional, world):
        page = logged_in_page(regional)       # logs in through the real login form
        page.goto("/registry/")               # paths are relative to the live server
        expect(page.locator("#registry-count")).to_have_text("3")

Fixtures provided here (on top of pytest-playwright's ``browser``/``context``/``page``):

- ``page`` — a fresh tab in a fresh context (Russian locale, desktop viewport), with
  ``base_url`` pointing at ``live_server`` and a 15-second default timeout.
- ``logged_in_page(user, password=...)`` — sets the user's password, logs in through the
  ``/login/`` form and returns ``page`` showing the home page.
- ``base_url`` — ``live_server.url``; use it for absolute URLs.
- ``mobile_page`` — like ``page`` but in a 375-pixel-wide phone context, for responsive layouts.

Every test that uses these runs against ``live_server``, which needs committed data, so
pytest-django switches such tests to ``transactional_db`` by itself (personas and factories work
unchanged; the tables are emptied after each test). Playwright's sync API keeps an asyncio loop
running in the main thread, which Django would take for async context and refuse ORM calls; hence
``DJANGO_ALLOW_ASYNC_UNSAFE`` below. The browser is Debian's ``/usr/bin/chromium`` (``make
browser`` installs it); Playwright's own browser downloads are never used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 15_000
BROWSER_PASSWORD = "browser-pass-1"
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/browser/ as ``browser``."""
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    """pytest-playwright's launch options, pointed at Debian's Chromium."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Браузер Chromium не найден по пути {CHROMIUM}: установите его командой "
            "`make browser` или укажите путь в переменной PORTAL_CHROMIUM.",
            pytrace=False,
        )
    headed = browser_type_launch_args.get("headless") is False
    args = [a for a in CHROMIUM_ARGS if not (headed and a.startswith("--headless"))]
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": args}


@pytest.fixture(scope="session")
def base_url(live_server) -> str:
    """Every ``page.goto("/path")`` goes to Django's live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {
        **browser_context_args,
        "locale": "ru-RU",
        "timezone_id": "Europe/Samara",
        "viewport": {"width": 1280, "height": 900},
    }


@pytest.fixture
def page(page: Page) -> Page:
    page.set_default_timeout(DEFAULT_TIMEOUT_MS)
    return page


@pytest.fixture
def mobile_page(browser: Browser, browser_context_args: dict) -> Iterator[Page]:
    """A phone-sized tab (375×740, touch) on the live server."""
    context = browser.new_context(
        **{**browser_context_args, "viewport": {"width": 375, "height": 740}},
        is_mobile=True, has_touch=True,
    )
    phone = context.new_page()
    phone.set_default_timeout(DEFAULT_TIMEOUT_MS)
    yield phone
    context.close()


def login_through_form(page: Page, user, password: str = BROWSER_PASSWORD) -> Page:
    """Log ``user`` in on ``page`` through the real /login/ form; return the page."""
    user.set_password(password)
    user.save(update_fields=["password"])
    page.goto("/login/")
    page.get_by_label("Имя пользователя").fill(user.username)
    page.get_by_label("Пароль").fill(password)
    page.get_by_role("button", name="Войти").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))
    # Attached, not necessarily visible: on a phone it sits in the folded menu.
    expect(page.locator(".logout .who")).to_be_attached()
    page.wait_for_load_state()  # the page's scripts have run: keys and clicks reach their handlers
    return page


@pytest.fixture
def logged_in_page(page: Page) -> Callable[..., Page]:
    """``logged_in_page(user)`` logs the user in through the login form and returns ``page``."""

    def login(user, *, password: str = BROWSER_PASSWORD) -> Page:
        return login_through_form(page, user, password)

    return login
