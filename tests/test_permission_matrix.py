"""The permission matrix, generated from the URL configuration.

Every page and API endpoint that exists when the suite runs (``get_resolver().url_patterns``)
is requested by every persona, once with its path parameters filled with territory A's objects
and once with B's:

- anonymous: a login redirect (pages) or 401/403 (API), never a 200 with data;
- outsider (signed in, no role): 403/404, or an answer without A's or B's names;
- editor of A, municipal user of A: nothing of B in any answer; B's objects give 403/404;
- regional methodologist: every page answers (no 4xx except 405 for POST-only addresses);
- read-only personas (viewer, API client, outsider): every write is refused (403, or 405 where the
  address has no write) and leaves the database as it was;
- nobody ever gets a 5xx.

Public addresses (login, published rankings, health check, the API schema and docs) are an
explicit allow-list. A new address whose path parameter this file cannot fill fails loudly, so
nothing is skipped silently.

The admin (every page of every registered model, found the same way) is unscoped, so it is for
staff regional methodologists alone: every other persona — a staff editor of A included — is
sent to the admin's login, sees no names and changes nothing; the staff methodologist opens every
page without a server error.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import openpyxl
import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import connection
from django.http import QueryDict
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from institutions.choices import Role
from institutions.models import ApiToken, Community, Institution, Territory
from metrics.collect.choices import RunKind
from metrics.models import Anomaly, CollectionRun, MetricValue, NetworkToken
from metrics.tokens import token_register
from reports.models import ExportJob, PublishedRanking, Report
from reports.models.rankings import ExportKind, ExportState
from reports.quality.query import QualityParams
from reports.quality.ranking import quality_publish
from reports.rankings.forms import parse_ranking_params
from reports.rankings.publishing import ranking_publish
from tests.factories import MemberSnapshotFactory, MetricValueFactory, ProfileFactory

PERSONAS = ["anonymous", "outsider", "editor_a", "municipal_a", "regional", "viewer",
            "api_client_user"]
READ_ONLY = {"outsider", "viewer", "api_client_user"}
SCOPED_TO_A = {"editor_a", "municipal_a"}
WRITE_METHODS = ("post", "put", "patch", "delete")
MONTH = dt.date(2026, 1, 1)
PUBLISHED_SLUG = "matrix-ranking"
ADMIN = "/admin/"

# Addresses anyone may open without signing in, by URL name.
PUBLIC = {
    "login", "logout", "healthz", "api-schema", "api-docs",
    "api-token-obtain",  # the API's login: a token for a correct name and password
    "invite-confirm", "invite-done",  # the one-time link to set a password
    "reports:published-list", "reports:published-latest", "reports:published-version",
    "reports:published-export", "reports:quality-published",
    "published-ranking-list", "published-ranking-detail", "published-ranking-version",
}
# ``pk`` of page views (API viewsets tell their model themselves), by URL name.
PK_MODEL_BY_NAME = {
    "institution-detail": Institution,
    "metrics:collection-run": CollectionRun,
    "metrics:collection-run-progress": CollectionRun,
    "metrics:collection-run-resume": CollectionRun,
    "metrics:collection-token-delete": NetworkToken,
    "metrics:anomaly-decision": Anomaly,
    "reports:action": Report,
    "reports:quality-community": Community,
    "reports:quality-community-category": Community,
    "reports:value-history": MetricValue,
    "reports:export-detail": ExportJob,
    "reports:export-status": ExportJob,
    "reports:export-download": ExportJob,
    "report-detail": Report,
    "report-accept": Report,
    "report-approve": Report,
    "report-reopen": Report,
    "report-return": Report,
    "report-submit": Report,
    "metrics:connect-result": NetworkToken,
    "person-edit": get_user_model(),
    "person-deactivate": get_user_model(),
    "person-reinvite": get_user_model(),
}
# Required query parameters of some addresses, by URL name.
QUERY = {
    "ranking-why": lambda w: {"community": w.objects[Community].pk},
    "summary-list": lambda w: {"territory": w.objects[Territory].pk},
    "reports:summary": lambda w: {"territory": w.objects[Territory].pk},
    "summary-file": lambda w: {"territory": w.objects[Territory].pk},
    "reports:summary-export": lambda w: {"territory": w.objects[Territory].pk},
}
# Ordering a file is reading: read-only personas may start these (the job is theirs alone).
READER_ORDERS = {"reports:export-start-ranking", "reports:export-start-summaries"}
# A person's own API tokens are theirs to make whatever the role: an empty body is refused (400).
OWN_TOKENS = {"api-token-list", "profile"}
# Tables a read-only persona's request may write: its session, login bookkeeping, its own
# export jobs (ordering a file is reading) and its API token's last-use time.
WRITABLE_BY_READERS = ("django_session", "axes_%", "reports_exportjob",
                       "institutions_apitoken")  # the last use of the request's own API token
# Other path parameters by name; a callable gets the side's objects.
PARAMS = {
    "institution_id": lambda w: w.objects[Institution].pk,
    "community_id": lambda w: w.objects[Community].pk,
    "year": lambda w: MONTH.year,
    "month": lambda w: MONTH.strftime("%Y-%m"),
    "action": lambda w: "submit",
    "fmt": lambda w: "xlsx",
    "slug": lambda w: PUBLISHED_SLUG,
    "number": lambda w: 1,
    "prefix": lambda w: w.objects[ApiToken].prefix,  # the methodologist's own token
    "network": lambda w: "vk",
    "uidb64": lambda w: "MA",  # an invitation link that is not valid
    "token": lambda w: "no-such-token",
}


# --- the URL configuration ------------------------------------------------------------------
@dataclass(frozen=True)
class Address:
    template: str  # "/registry/{pk}/"
    name: str
    callback: Any

    @property
    def params(self) -> list[str]:
        return re.findall(r"\{(\w+)\}", self.template)

    @property
    def is_api(self) -> bool:
        return self.template.startswith("/api/")

    @property
    def is_public(self) -> bool:
        return self.name in PUBLIC

    def __str__(self) -> str:
        return f"{self.template} ({self.name})"


def _as_template(pattern: Any) -> str | None:
    """``<int:pk>`` and ``(?P<pk>[^/.]+)`` become ``{pk}``; format-suffix twins are dropped."""
    text = str(pattern)
    if "format" in getattr(pattern, "converters", {}) or "(?P<format>" in text:
        return None
    text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", text)
    positions = iter(range(10))  # unnamed groups (simple_history's admin): {_0}, {_1}
    text = re.sub(r"\((?!\?)[^)]*\)", lambda _m: f"{{_{next(positions)}}}", text)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", text)
    return text.replace("^", "").replace("$", "").replace("\\.", ".")


def _walk(patterns: list, prefix: str = "", namespace: str = "") -> list[Address]:
    found = []
    for entry in patterns:
        part = _as_template(entry.pattern)
        if part is None:
            continue
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found += _walk(entry.url_patterns, prefix + part, inner)
        elif isinstance(entry, URLPattern):
            found.append(Address("/" + prefix + part, namespace + (entry.name or ""),
                                 entry.callback))
    return found


ALL_ADDRESSES = sorted(set(_walk(get_resolver().url_patterns)), key=lambda a: a.template)
ADDRESSES = [a for a in ALL_ADDRESSES if not a.template.startswith(ADMIN)]
ADMIN_ADDRESSES = [a for a in ALL_ADDRESSES if a.template.startswith(ADMIN)]


def test_the_matrix_covers_the_whole_portal():
    names = {a.name for a in ADDRESSES}
    assert {"home", "registry", "reports:list", "metrics:collection-runs",
            "territory-list", "report-list", "reports:export-download"} <= names
    assert len(ADDRESSES) >= 40
    admin_names = {a.name for a in ADMIN_ADDRESSES}
    assert {"admin:index", "admin:institutions_institution_change",
            "admin:reports_exportjob_changelist", "admin:reports_exportjob_change",
            "admin:reports_publishedranking_change", "admin:metrics_networktoken_change",
            "admin:institutions_institution_simple_history"} <= admin_names
    assert len(ADMIN_ADDRESSES) == len({a.template for a in ADMIN_ADDRESSES}) >= 100


# --- the two territories, fully populated --------------------------------------------------
@dataclass
class World:
    side: str
    objects: dict[type, Any]
    names: list[str]


@pytest.fixture
def sides(world, territory_a, territory_b, regional, settings, tmp_path):
    """A's and B's objects of every kind an address can name, and the names to look for."""
    settings.MEDIA_ROOT = tmp_path
    job = ExportJob(kind=ExportKind.RANKING, requested_by=regional, state=ExportState.DONE,
                    progress=100, filename="matrix.txt")
    job.file.save("matrix.txt", ContentFile(b"matrix export"), save=False)
    job.save()
    shared = {
        CollectionRun: CollectionRun.objects.create(kind=RunKind.MEMBERS, network="vk",
                                                    period=MONTH),
        NetworkToken: token_register(user=None, network="vk", kind="service",
                                     secret="matrix-secret-token", label="matrix",
                                     check=False),
        ExportJob: job,
        Anomaly: Anomaly.objects.create(community=world["a"], kind="members_jump",
                                        day=MONTH, source="vk_api", previous_members=10,
                                        members=90_000),
        ApiToken: ApiToken.objects.create_key(user=regional, name="матрица")[0],
    }
    made = {}
    for side, community, territory in (("a", world["a"], territory_a),
                                       ("b", world["b"], territory_b)):
        for day, members in ((dt.date(2026, 1, 1), 600), (dt.date(2026, 1, 31), 700)):
            MemberSnapshotFactory(community=community, date=day, members=members)
        made[side] = World(side, {
            **shared,
            Territory: territory,
            Institution: community.institution,
            Community: community,
            Report: Report.objects.create(institution=community.institution, month=MONTH),
            MetricValue: MetricValueFactory(community=community, month=MONTH),
            get_user_model(): ProfileFactory(user__username=f"person_{side}", role=Role.EDITOR,
                                             institutions=[community.institution]).user,
        }, [territory.name, community.institution.short_name, community.title])
    params = parse_ranking_params(
        QueryDict("metric=growth&date_from=2026-01-01&date_to=2026-01-31"), user=regional)
    ranking_publish(user=regional, params=params, title="Рейтинг для матрицы",
                    slug=PUBLISHED_SLUG, methodology="Прирост участников за месяц.")
    assert PublishedRanking.objects.filter(slug=PUBLISHED_SLUG).exists()
    quality_publish(user=regional, params=QualityParams(MONTH, dt.date(2026, 1, 31)),
                    title="Индекс качества для матрицы")
    return made


def _model_of(address: Address) -> type | None:
    view_class = getattr(address.callback, "cls", None)
    if view_class is not None:
        serializer = getattr(view_class, "serializer_class", None)
        meta = getattr(serializer, "Meta", None)
        if meta is not None and hasattr(meta, "model"):
            return meta.model
        queryset = getattr(view_class, "queryset", None)
        if queryset is not None:
            return queryset.model
    return PK_MODEL_BY_NAME.get(address.name)


def url_for(address: Address, side: World) -> str:
    """The address with its path (and required query) parameters filled with the side's objects."""
    values = {}
    for param in address.params:
        if param in ("pk", "id"):
            model = _model_of(address)
            if model is None or model not in side.objects:
                pytest.fail(f"{address}: cannot fill «{param}» — add the view to PK_MODEL_BY_NAME")
            values[param] = side.objects[model].pk
        elif param in PARAMS:
            values[param] = PARAMS[param](side)
        else:
            pytest.fail(f"{address}: cannot fill «{param}» — add it to PARAMS")
    url = address.template.format(**values)
    if address.name in QUERY:
        url += "?" + urlencode(QUERY[address.name](side))
    return url


def depends_on_side(address: Address) -> bool:
    """Whether A's and B's URLs differ (they name territory objects, not shared ones)."""
    shared = (CollectionRun, NetworkToken, ExportJob, ApiToken)
    return address.name in QUERY or any(
        p in ("institution_id", "community_id") for p in address.params
    ) or (any(p in ("pk", "id") for p in address.params) and _model_of(address) not in shared)


# --- reading any answer as text ------------------------------------------------------------
def body_text(response: Any) -> str:
    """The answer's text, whatever its format: HTML, JSON (even \\u-escaped), CSV, XLSX, ZIP."""
    raw = (b"".join(response.streaming_content) if getattr(response, "streaming", False)
           else response.content)
    kind = response.get("Content-Type", "")
    if raw[:2] == b"PK":
        return _zip_text(raw)
    text = raw.decode("utf-8", errors="replace")
    if "json" in kind:
        try:
            return json.dumps(json.loads(text), ensure_ascii=False)
        except ValueError:
            return text
    return text


def _zip_text(raw: bytes) -> str:
    try:
        book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError):
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            return " ".join(_zip_text(archive.read(n)) if n.endswith((".xlsx", ".zip"))
                            else archive.read(n).decode("utf-8", "replace")
                            for n in archive.namelist())
    return " ".join(str(cell) for sheet in book.worksheets
                    for row in sheet.iter_rows(values_only=True) for cell in row if cell)


# --- personas and database fingerprint -------------------------------------------------------
def client_for(request: Any, persona: str, address: Address) -> Client:
    if persona == "anonymous":
        return APIClient() if address.is_api else Client()
    user = request.getfixturevalue(persona)
    if address.is_api:
        return request.getfixturevalue("api_as")(user)
    return request.getfixturevalue("login")(user)


def rows_written() -> int:
    """Rows inserted, updated or deleted so far in this test's transaction (PostgreSQL's own
    per-transaction counters), outside the tables readers may write."""
    exclude = " AND ".join("relname NOT LIKE %s" for _ in WRITABLE_BY_READERS)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            f"FROM pg_stat_xact_user_tables WHERE {exclude}", WRITABLE_BY_READERS)
        return int(cursor.fetchone()[0])


def write_methods(address: Address) -> list[str]:
    actions = getattr(address.callback, "actions", None)
    if actions is not None:  # a DRF viewset route knows its methods
        return [m for m in WRITE_METHODS if m in actions]
    return ["post"]


# --- the expectations --------------------------------------------------------------------
def judge_read(address: Address, persona: str, side: str, response: Any, text: str,
               sides: dict[str, World]) -> str | None:
    """None when the answer is right for this persona; otherwise what is wrong."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if address.is_public:
        return None
    if persona == "anonymous":
        if address.is_api:
            return None if status in (401, 403) else f"anonymous got {status}"
        location = response.get("Location", "")
        if status == 302 and location.startswith("/login/"):
            return None
        return f"anonymous got {status} {location}"
    leaked = []
    if persona == "outsider":
        leaked = [n for s in sides.values() for n in s.names if n in text]
    elif persona in SCOPED_TO_A:
        leaked = [n for n in sides["b"].names if n in text]
        # B's object in the query string is refused by form validation (400) instead.
        refusals = (400, 403, 404, 405) if address.name in QUERY else (403, 404, 405)
        if side == "b" and status not in refusals:
            return f"{persona} opened B's object: {status}"
    elif persona == "regional" and 400 <= status < 500 and status != 405:
        return f"the regional methodologist got {status}"
    return f"shows {leaked}" if leaked else None


def judge_write(address: Address, persona: str, answer: Any, read_status: int,
                changed: bool) -> str | None:
    """Writes by anonymous and read-only personas are refused and change nothing.

    A page that has no write path and answers a POST like a GET (same 200) is not a write.
    """
    status = answer.status_code
    if status >= 500:
        return f"server error {status}"
    if address.is_public or persona not in READ_ONLY | {"anonymous"}:
        return None
    if address.name in READER_ORDERS and persona != "outsider" and status == 302:
        return None
    if address.name in OWN_TOKENS and persona != "outsider" and status in (200, 400):
        return None if not changed else f"{persona} changed the database ({status})"
    if changed:
        return f"{persona} changed the database ({status})"
    if persona == "anonymous":
        if address.is_api:
            return None if status in (401, 403, 405) else f"anonymous write answered {status}"
        if status == 302 and answer["Location"].startswith("/login/"):
            return None
        return None if status in (403, 405) else f"anonymous write answered {status}"
    if status in (403, 404, 405) or (status == read_status == 200 and not address.is_api):
        return None
    return f"{persona} write answered {status}"


@pytest.mark.parametrize("address", ADDRESSES, ids=str)
def test_every_persona_gets_only_what_is_theirs(address, sides, request):
    problems = []
    side_names = ("a", "b") if depends_on_side(address) else ("a",)
    for persona in PERSONAS:
        client = client_for(request, persona, address)
        for side in side_names:
            url = url_for(address, sides[side])
            response = client.get(url)
            problem = judge_read(address, persona, side, response, body_text(response), sides)
            if problem:
                problems.append(f"GET {url} as {persona}: {problem}")
            for method in write_methods(address):
                before = rows_written()
                answer = getattr(client, method)(url, {} if method == "post" else None)
                problem = judge_write(address, persona, answer, response.status_code,
                                      rows_written() != before)
                if problem:
                    problems.append(f"{method.upper()} {url} as {persona}: {problem}")
    assert not problems, "\n".join(problems)


# --- the admin ------------------------------------------------------------------------------
ADMIN_PERSONAS = ["anonymous", "outsider", "editor_a", "municipal_a", "regional", "viewer",
                  "api_client_user", "staff_editor_a"]
# Pages of the admin that answer people it refuses without sending them to its login.
ADMIN_OPEN = {"admin:login", "admin:logout"}


@pytest.fixture
def staff_editor_a(institution_a):
    """An editor of A with the staff flag: still not allowed into the unscoped admin."""
    return ProfileFactory(user__username="staff_editor_a", user__is_staff=True,
                          role=Role.EDITOR, institutions=[institution_a]).user


@pytest.fixture
def staff_regional(db):
    """A regional methodologist as deployments set one up (the demo's ``methodist``)."""
    from demo.registry import _methodologist_permissions

    user = ProfileFactory(user__username="staff_methodist", user__is_staff=True,
                          role=Role.REGIONAL_METHODOLOGIST).user
    user.user_permissions.set(_methodologist_permissions())
    return user


@pytest.fixture
def superuser(django_user_model):
    return django_user_model.objects.create_superuser("root", password="x-pass-1")


# Apps whose models a methodologist administers (demo.registry gives these permissions).
METHODOLOGIST_APPS = {"institutions", "metrics", "reports", "django_celery_beat"}


def _admin_model(address: Address) -> type | None:
    parts = address.template.strip("/").split("/")
    if len(parts) < 3 or "{" in parts[1] + parts[2]:
        return None
    try:
        return apps.get_model(parts[1], parts[2])
    except LookupError:
        return None


def admin_url_for(address: Address) -> str:
    """The admin address with its parameters filled from what the database holds."""
    model = _admin_model(address)
    if "content_type_id" in address.params:
        model = Institution
    obj = model.objects.order_by("pk").first() if model is not None else None
    values: dict[str, Any] = {}
    for param in address.params:
        if param in ("object_id", "id", "_0"):
            values[param] = obj.pk if obj is not None else 0
        elif param == "_1":
            history = getattr(model, "history", None)
            record = history.filter(id=obj.pk).first() if history and obj else None
            values[param] = record.history_id if record is not None else 0
        elif param == "content_type_id":
            values[param] = ContentType.objects.get_for_model(Institution).pk
        elif param == "app_label":
            values[param] = "institutions"
        elif param == "url":
            values[param] = "no-such-page/"
        else:
            pytest.fail(f"{address}: cannot fill «{param}» — teach admin_url_for")
    return address.template.format(**values)


def judge_admin(address: Address, persona: str, response: Any, text: str,
                names: list[str]) -> str | None:
    if response.status_code >= 500:
        return f"server error {response.status_code}"
    leaked = [n for n in names if n in text]
    if leaked:
        return f"shows {leaked}"
    if address.name in ADMIN_OPEN and response.status_code in (200, 302, 405):
        return None
    location = response.get("Location", "")
    if response.status_code == 302 and location.startswith(f"{ADMIN}login/"):
        return None
    return f"{persona} got {response.status_code} {location}"


@pytest.mark.parametrize("persona", ADMIN_PERSONAS)
def test_only_staff_methodologists_enter_the_admin(persona, sides, request):
    names = [n for side in sides.values() for n in side.names]
    client = Client() if persona == "anonymous" else request.getfixturevalue("login")(
        request.getfixturevalue(persona))
    problems = []
    for address in ADMIN_ADDRESSES:
        url = admin_url_for(address)
        response = client.get(url)
        problem = judge_admin(address, persona, response, body_text(response), names)
        if problem:
            problems.append(f"GET {url}: {problem}")
        if address.name in ADMIN_OPEN:
            continue
        before = rows_written()
        answer = client.post(url, {"post": "yes", "action": "delete_selected",
                                   "_selected_action": [1, 2, 3]})
        problem = judge_admin(address, persona, answer, "", [])
        if problem or rows_written() != before:
            problems.append(f"POST {url}: {problem or 'changed the database'}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("persona", ["staff_regional", "superuser"])
def test_the_admin_opens_every_page_without_a_server_error(persona, sides, login, request):
    user = request.getfixturevalue(persona)
    client, problems, opened = login(user), [], 0
    for address in ADMIN_ADDRESSES:
        url = admin_url_for(address)
        status = client.get(url).status_code
        app = address.template.split("/")[2]
        must_open = address.name.endswith("_changelist") and (
            user.is_superuser or app in METHODOLOGIST_APPS)
        if status >= 500 or (must_open and status != 200):
            problems.append(f"GET {url}: {status}")
        opened += status == 200
    assert not problems, "\n".join(problems)
    assert opened >= 50, opened
