"""Security settings as the people who run and use the portal meet them.

Production settings pass ``check --deploy``; pages carry a Content-Security-Policy that still
lets Swagger UI and the portal's own scripts run; a guessed password locks the name for a while
(in Russian) without locking anyone else out; the API slows a runaway client down; logins,
failures and permission denials land in the ``portal.security`` log.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import secrets
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from rest_framework.throttling import SimpleRateThrottle, UserRateThrottle

from metrics.collect.choices import RunKind
from metrics.models import CollectionRun
from portal.errors import ValidationFailed

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "secret-pass-1"  # tests.factories.UserFactory


def production_env() -> dict[str, str]:
    """The environment of a production process (without what the browser tests switch on)."""
    env = {name: value for name, value in os.environ.items()
           if name != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    return {**env, "DJANGO_SETTINGS_MODULE": "portal.settings", "HTTPS": "1", "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(64), "ALLOWED_HOSTS": "portal.example.ru",
            "TOKEN_ENCRYPTION_KEYS": Fernet.generate_key().decode()}


def start(env: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    """A portal process (``manage.py …``), as a deployment starts one."""
    return subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


# --- deployment -------------------------------------------------------------------------------
def test_production_settings_pass_the_deploy_check(monkeypatch):
    # What the browser tests' conftest puts into this process's environment must not leak into
    # the production process (it would fail the check with async.E001).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output, output


@pytest.mark.parametrize("secret_key", [
    "",
    "dev-insecure-key-change-me-in-production-0123456789",  # the built-in development key
    "change-me-to-a-long-random-string",                   # .env.example's of old
])
def test_with_debug_off_the_portal_refuses_to_start_without_a_secret_key_of_its_own(secret_key):
    result = start({**production_env(), "SECRET_KEY": secret_key}, "check")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "SECRET_KEY is empty or a key published in the portal's repository" in output
    assert "secrets.token_urlsafe(50)" in output and "README" in output


def test_development_still_starts_on_the_built_in_key():
    """``make run`` (DEBUG=1) needs no key; the deploy check then says it is not one to deploy."""
    env = {**production_env(), "DEBUG": "1", "SECRET_KEY": ""}
    assert start(env, "check").returncode == 0
    deploy = start(env, "check", "--deploy")
    output = deploy.stdout + deploy.stderr
    assert "portal.E002" in output and "SECRET_KEY пуст или опубликован" in output


def test_the_deploy_check_names_the_built_in_key_and_derived_token_keys(settings):
    from portal.security import check_secret_key

    settings.SECRET_KEY, settings.TOKEN_ENCRYPTION_KEYS = settings.DEVELOPMENT_SECRET_KEY, []
    assert [p.id for p in check_secret_key()] == ["portal.E002", "portal.W001"]
    settings.SECRET_KEY = secrets.token_urlsafe(50)
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    assert check_secret_key() == []


def test_production_settings_secure_cookies_and_hsts():
    probe = ("import django; django.setup(); from django.conf import settings as s; "
             "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
             "s.SECURE_HSTS_SECONDS, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SESSION_COOKIE_HTTPONLY)")
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT, env=production_env(), capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "31536000", "True", "True"]


def test_static_files_are_served_without_collectstatic_and_without_a_warning(client, settings):
    """The suite and development run without STATIC_ROOT: no "No directory at" warning."""
    from whitenoise.middleware import WhiteNoiseMiddleware

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        WhiteNoiseMiddleware(lambda request: None)
    if not settings.STATIC_COLLECTED:
        assert settings.WHITENOISE_USE_FINDERS and settings.WHITENOISE_AUTOREFRESH
    response = client.get("/static/js/table1.js")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/javascript")


# --- Content-Security-Policy ---------------------------------------------------------------
def csp_of(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_forbid_foreign_and_inline_scripts(login, regional, world):
    response = login(regional).get("/registry/")
    policy = csp_of(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no nonce needed: the page has no inline script
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]
    assert "<script>" not in response.content.decode()


def test_an_inline_script_carries_the_nonce_of_its_response(login, regional):
    run = CollectionRun.objects.create(kind=RunKind.MEMBERS, network="vk",
                                       period=dt.date(2026, 1, 1))
    response = login(regional).get(f"/collection/runs/{run.pk}/")
    nonces = re.findall(r'<script nonce="([^"]+)">', response.content.decode())
    assert nonces, "the progress script lost its nonce"
    assert f"'nonce-{nonces[0]}'" in csp_of(response)["script-src"]
    again = login(regional).get(f"/collection/runs/{run.pk}/")
    assert csp_of(again)["script-src"] != csp_of(response)["script-src"]


def test_swagger_ui_runs_under_the_policy_with_its_script_as_a_file(login, regional, client):
    page = login(regional).get("/api/v1/docs/")
    body = page.content.decode()
    assert page.status_code == 200 and "Content-Security-Policy" in page
    assert not re.search(r"<script>\s*\S", body), "Swagger UI must not start from inline script"
    script_url = re.search(r'<script src="([^"]*script=[^"]*)"', body).group(1)
    script = client.get(script_url.replace("&amp;", "&"))
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css|png))"', body)
    assert assets and all(a.startswith("/static/") for a in assets), assets  # local: 'self'
    assert any("drf_spectacular_sidecar" in a for a in assets)  # Swagger UI's own copy


# --- login throttling --------------------------------------------------------------------
def _try(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password},
                       REMOTE_ADDR="203.0.113.7")


def test_guessing_a_password_locks_the_name_for_a_while(viewer, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        refused = _try(client, "viewer", "wrong-guess")
        assert refused.status_code == 200 and "Неверное имя" in refused.content.decode()
    locked = _try(client, "viewer", "wrong-guess")
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Слишком много неудачных попыток входа" in text and "15 мин" in text
    # Even the right password is refused while the lock holds.
    assert _try(client, "viewer", PASSWORD).status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_lifts_after_the_cool_off(viewer, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(client, "viewer", "wrong-guess")
    assert _try(client, "viewer", PASSWORD).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=dt.datetime.now(dt.UTC) - settings.AXES_COOLOFF_TIME - dt.timedelta(minutes=1)
    )
    welcome = _try(client, "viewer", PASSWORD)
    assert welcome.status_code == 302 and welcome["Location"] == "/"


def test_a_lock_on_one_name_does_not_lock_out_colleagues(viewer, regional, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(client, "viewer", "wrong-guess")
    colleague = _try(Client(), "methodist", PASSWORD)  # same office address
    assert colleague.status_code == 302


def test_the_test_clients_force_login_is_not_throttled(login, viewer, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        assert login(viewer).get("/").status_code == 200


# --- API throttling -----------------------------------------------------------------------
def test_the_api_slows_a_runaway_client_down(api_as, viewer, monkeypatch, world):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "2/min"})
    client = api_as(viewer)
    answers = [client.get("/api/v1/territories/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    error = answers[-1].json()["error"]
    assert error["code"] == "throttled" and re.search("[а-яА-Я]", error["message"])
    assert int(answers[-1]["Retry-After"]) > 0


def test_anonymous_api_callers_have_their_own_lower_limit(db, client, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"user": "3/min", "anon": "2/min"})
    statuses = [client.get("/api/v1/published-rankings/").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_default_api_rates_are_generous(settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    assert UserRateThrottle().parse_rate(rates["user"]) == (1200, 60)
    assert UserRateThrottle().parse_rate(rates["anon"]) == (120, 60)


# --- the security log ---------------------------------------------------------------------
def test_logins_and_failed_logins_are_logged_without_passwords(viewer, caplog):
    caplog.set_level("INFO", logger="portal.security")
    _try(Client(), "viewer", "wrong-guess-Zz9")
    _try(Client(), "viewer", PASSWORD)
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "login_failed username='viewer' ip=203.0.113.7" in lines
    assert f"login user=viewer#{viewer.pk} ip=203.0.113.7" in lines
    assert not any("wrong-guess-Zz9" in line or PASSWORD in line for line in lines)


def test_a_lockout_is_logged(viewer, settings, caplog):
    caplog.set_level("INFO", logger="portal.security")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try(Client(), "viewer", "wrong-guess")
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    assert "locked_out username='viewer' ip=203.0.113.7" in lines


def test_permission_denials_on_pages_and_the_api_are_logged(login, api_as, viewer, caplog):
    caplog.set_level("INFO", logger="portal.security")
    assert login(viewer).get("/collection/tokens/").status_code == 403
    assert api_as(viewer).post("/api/v1/territories/", {}).status_code == 403
    lines = [r.getMessage() for r in caplog.records if r.name == "portal.security"]
    who = f"user=viewer#{viewer.pk}"
    assert any(line.startswith("permission_denied") and who in line
               and "method=GET path=/collection/tokens/" in line for line in lines)
    assert any(line.startswith("permission_denied") and who in line
               and "method=POST path=/api/v1/territories/" in line for line in lines)


def test_an_allowed_request_is_not_logged_as_a_denial(login, regional, caplog):
    caplog.set_level("INFO", logger="portal.security")
    assert login(regional).get("/collection/tokens/").status_code == 200
    assert not [r for r in caplog.records if r.getMessage().startswith("permission_denied")]


PROXY = "192.0.2.10"  # our reverse proxy (TEST-NET-1: an address only for examples)


@pytest.mark.parametrize("peer, forwarded, expected", [
    (PROXY, "198.51.100.1, 203.0.113.9", "203.0.113.9"),   # the proxy appended the last hop
    (PROXY, "203.0.113.9, 192.0.2.11", "203.0.113.9"),     # an inner proxy of ours skipped
    ("203.0.113.5", "198.51.100.1, 203.0.113.9", "203.0.113.5"),  # not our proxy: ignored
    (PROXY, "not-an-address", PROXY),                       # garbage never reaches the log/db
    (PROXY, "", PROXY),
])
def test_the_client_address_behind_the_proxy(rf, settings, peer, forwarded, expected):
    from portal.security import client_ip

    settings.TRUSTED_PROXIES = [PROXY, "192.0.2.11/32"]
    request = rf.get("/", HTTP_X_FORWARDED_FOR=forwarded, REMOTE_ADDR=peer)
    assert client_ip(request) == expected


@pytest.fixture
def behind_the_proxy(settings):
    """Production as .env.example sets it up: HTTPS, our reverse proxy in front."""
    settings.TRUSTED_PROXIES = [PROXY]
    # What HTTPS=1 used to switch on: X-Forwarded-For believed from anyone. It must not be.
    settings.TRUST_X_FORWARDED_FOR = True


def _try_from(peer: str, forwarded: str | None, password: str):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post("/login/", {"username": "viewer", "password": password}, **extra)


def test_a_locked_account_stays_locked_whatever_x_forwarded_for_says(viewer, settings,
                                                                     behind_the_proxy):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try_from("203.0.113.7", None, "wrong-guess")
    assert _try_from("203.0.113.7", None, PASSWORD).status_code == 429
    # The probe's bypass: the same guesser, straight to the portal, naming a new address each try.
    for forged in ("10.9.0.1", "10.9.1.1", "10.9.2.1", f"{PROXY}, 198.51.100.4"):
        answer = _try_from("203.0.113.7", forged, PASSWORD)
        assert answer.status_code == 429, forged
    assert AccessAttempt.objects.get().ip_address == "203.0.113.7"


def test_through_the_trusted_proxy_the_forwarded_address_is_the_clients(viewer, settings,
                                                                          behind_the_proxy):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _try_from(PROXY, "203.0.113.7", "wrong-guess")
    assert _try_from(PROXY, "203.0.113.7", PASSWORD).status_code == 429
    # The proxy appends the address it saw: a forged one in front of it changes nothing.
    assert _try_from(PROXY, "10.9.0.1, 203.0.113.7", PASSWORD).status_code == 429
    # Someone else behind the same proxy is not locked out.
    assert _try_from(PROXY, "198.51.100.23", PASSWORD).status_code == 302
    assert AccessAttempt.objects.filter(ip_address="203.0.113.7").exists()


def test_only_the_trusted_proxy_may_say_the_request_came_over_https(rf, settings,
                                                                     behind_the_proxy):
    from portal.security import ProxyHeadersMiddleware

    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    seen = {}

    def view(request):
        seen[request.META["REMOTE_ADDR"]] = request.is_secure()

    for peer in (PROXY, "203.0.113.7"):
        ProxyHeadersMiddleware(view)(rf.get("/", HTTP_X_FORWARDED_PROTO="https",
                                            REMOTE_ADDR=peer))
    assert seen == {PROXY: True, "203.0.113.7": False}


def test_a_trusted_proxy_that_is_not_an_address_fails_the_checks(settings):
    from portal.security import check_trusted_proxies

    settings.TRUSTED_PROXIES = ["172.30.0.10", "proxy.local"]
    assert [e.id for e in check_trusted_proxies()] == ["portal.E003"]


# --- network tokens at rest ---------------------------------------------------------------
SECRET = "okemu-usr-plaintext-Secret-Zq7W"  # a tail no timestamp contains
APP_SECRET = "app-secret-Plaintext-0042"


def _register_ok_token():
    from metrics.tokens import token_register

    return token_register(user=None, network="ok", kind="user", secret=SECRET, label="Ключ OK",
                          app_key="CBAFAKEKEY", app_secret=APP_SECRET, check=False)


def tables_containing(text: str) -> list[str]:
    """Every table of the database with a row whose text form contains ``text``."""
    found = []
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{table}" t WHERE t::text LIKE %s',
                           [f"%{text}%"])
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_network_tokens_leave_no_plaintext_anywhere_in_the_database(db):
    token = _register_ok_token()
    assert tables_containing(token.label) == ["metrics_networktoken"]  # the search works
    assert tables_containing(SECRET) == [] and tables_containing(APP_SECRET) == []
    assert tables_containing(SECRET[-4:]) == ["metrics_networktoken"]  # only the masked tail


def test_a_key_rotation_reencrypts_every_token_and_the_old_key_can_go(db, settings):
    from metrics.tokens import token_credential

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.TOKEN_ENCRYPTION_KEYS = [old]
    token = _register_ok_token()
    stored = token.secret_encrypted
    settings.TOKEN_ENCRYPTION_KEYS = [new]
    with pytest.raises(ValidationFailed, match="сменился ключ шифрования"):
        token_credential(token)  # the old key really is needed before the rotation

    settings.TOKEN_ENCRYPTION_KEYS = [new, old]
    out = io.StringIO()
    call_command("rotate_token_key", stdout=out)
    assert "Перешифровано ключей: 1." in out.getvalue()

    settings.TOKEN_ENCRYPTION_KEYS = [new]
    token.refresh_from_db()
    assert token.secret_encrypted != stored
    credential = token_credential(token)
    assert (credential.secret, credential.app_secret) == (SECRET, APP_SECRET)


def test_a_new_secret_key_keeps_tokens_readable_and_duplicates_found(db, settings):
    from metrics.tokens import secret_fingerprint, token_credential

    settings.TOKEN_ENCRYPTION_KEYS = []  # the key derived from SECRET_KEY
    settings.SECRET_KEY = "old-secret-key-" + "x" * 40
    token = _register_ok_token()
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = "new-secret-key-" + "y" * 40, [
        settings.SECRET_KEY]
    assert token_credential(token).secret == SECRET
    call_command("rotate_token_key", stdout=io.StringIO())
    settings.SECRET_KEY_FALLBACKS = []
    token.refresh_from_db()
    assert token_credential(token).secret == SECRET
    assert token.fingerprint == secret_fingerprint("ok", SECRET)
    with pytest.raises(ValidationFailed, match="уже зарегистрирован"):
        _register_ok_token()


def test_the_rotation_names_tokens_no_key_can_read(db, settings):
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    token = _register_ok_token()
    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match=f"Ключи с id {token.pk} не расшифровываются"):
        call_command("rotate_token_key", stdout=io.StringIO())


def test_a_malformed_encryption_key_fails_the_system_check(settings):
    from portal.security import check_token_encryption_keys

    settings.TOKEN_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), "not-a-fernet-key"]
    problems = check_token_encryption_keys()
    assert [p.id for p in problems] == ["portal.E001"]
    assert "ключ № 2" in problems[0].msg


def test_the_rotation_command_generates_a_usable_key():
    out = io.StringIO()
    call_command("rotate_token_key", "--generate", stdout=out)
    Fernet(out.getvalue().strip().encode())  # raises if it is not a Fernet key
