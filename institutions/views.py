from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from institutions.filters import InstitutionFilter
from institutions.forms import XLSX_MIME, RegistryImportForm
from institutions.imports.template import registry_template_xlsx
from institutions.imports.vocabulary import institution_type_words
from institutions.models import is_regional_methodologist, profile_of
from institutions.selectors import (
    institution_communities,
    institution_for_page,
    institution_list,
)
from institutions.services import (
    import_upload_delete,
    import_upload_path,
    import_upload_save,
    registry_import,
)
from portal.errors import PortalError, ValidationFailed

REGISTRY_PAGE_SIZE = 50


def _can_edit_in_admin(user) -> bool:
    """The "edit" links lead to the admin, so they show only to those the admin lets in."""
    return (
        is_regional_methodologist(user)
        and user.is_staff
        and user.has_perm("institutions.change_institution")
    )


def _has_role(user) -> bool:
    """Rankings, summaries and exports are open to anyone with a role; the links show only then."""
    return bool(user.is_superuser or profile_of(user))


@login_required
def registry(request: HttpRequest) -> HttpResponse:
    filterset = InstitutionFilter(
        request.GET or None, queryset=institution_list(user=request.user), request=request
    )
    # An invalid filter shows its error and no rows, never a silently unfiltered list.
    valid = not filterset.is_bound or filterset.is_valid()
    rows = filterset.qs if valid else filterset.queryset.none()
    page = Paginator(rows, REGISTRY_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "is_filtered": any(query.values()),
        "can_edit": _can_edit_in_admin(request.user),
        "can_import": is_regional_methodologist(request.user),
        "has_role": _has_role(request.user),
    }
    return render(request, "institutions/registry.html", context)


@login_required
def institution_detail(request: HttpRequest, pk: int) -> HttpResponse:
    institution = institution_for_page(user=request.user, pk=pk)
    if institution is None:
        raise Http404("Учреждение не найдено или недоступно.")
    context = {
        "institution": institution,
        "communities": institution_communities(institution=institution),
        "can_edit": _can_edit_in_admin(request.user),
        "has_role": _has_role(request.user),
    }
    return render(request, "institutions/institution_detail.html", context)


# --- registry import from .xlsx ------------------------------------------------------------------

IMPORT_SESSION_KEY = "registry_import_tokens"
IMPORT_SESSION_KEEP = 5


def _require_regional_methodologist(user) -> None:
    if not is_regional_methodologist(user):
        raise PermissionDenied("Импортировать реестр могут только региональные методисты.")


def _remember_upload(request: HttpRequest, token: str) -> str:
    """Only the session that uploaded a file may apply it."""
    tokens = request.session.get(IMPORT_SESSION_KEY, [])
    request.session[IMPORT_SESSION_KEY] = [*tokens, token][-IMPORT_SESSION_KEEP:]
    return token


def _forget_upload(request: HttpRequest, token: str) -> None:
    tokens = request.session.get(IMPORT_SESSION_KEY, [])
    request.session[IMPORT_SESSION_KEY] = [t for t in tokens if t != token]
    import_upload_delete(token=token)


@login_required
def registry_import_template(request: HttpRequest) -> HttpResponse:
    """The .xlsx template: columns, an example row, notes and the accepted type words."""
    _require_regional_methodologist(request.user)
    response = HttpResponse(registry_template_xlsx(), content_type=XLSX_MIME)
    response["Content-Disposition"] = 'attachment; filename="registry-template.xlsx"'
    return response


@login_required
def registry_import_upload(request: HttpRequest) -> HttpResponse:
    """Upload a registry .xlsx and see the plan; nothing is written until «Применить»."""
    _require_regional_methodologist(request.user)
    form = RegistryImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "plan": None, "token": None,
               "type_words": institution_type_words()}
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            plan = registry_import(file=upload, user=request.user, dry_run=True)
        except ValidationFailed as exc:
            form.add_error("file", exc.message)
        else:
            context["plan"] = plan
            if not plan.is_rejected and plan.has_changes:
                context["token"] = _remember_upload(request, import_upload_save(file=upload))
    # A refused file is a bad request, as on the Table-1 upload page.
    return render(request, "institutions/import.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def registry_import_apply(request: HttpRequest) -> HttpResponse:
    """Apply a previewed upload; it is planned again, so a changed registry is re-checked."""
    _require_regional_methodologist(request.user)
    token = request.POST.get("token", "")
    if token not in request.session.get(IMPORT_SESSION_KEY, []):
        messages.error(request, "Загруженный файл не найден или устарел. Загрузите его снова.")
        return redirect("registry-import")
    try:
        path = import_upload_path(token=token)
        plan = registry_import(file=path, user=request.user, dry_run=False)
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("registry-import")
    finally:
        _forget_upload(request, token)
    if not plan.applied:
        context = {"form": RegistryImportForm(), "plan": plan, "token": None,
                   "type_words": institution_type_words()}
        return render(request, "institutions/import.html", context)
    messages.success(request, f"Импорт реестра выполнен. {plan.summary()}")
    return redirect("registry")
