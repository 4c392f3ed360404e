"""People pages: the list, one person, deactivation, bulk invitation, the invitation link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from institutions.choices import Role
from institutions.forms_people import PeopleFilterForm, PeopleImportForm, PersonForm
from institutions.people import (
    INVITATIONS_TASK,
    REFUSED,
    can_manage_people,
    people_visible_to,
    person_deactivate,
)
from institutions.people import person_save as save_person
from institutions.people_import import people_apply, people_plan, read_people
from institutions.services import import_upload_delete, import_upload_path, import_upload_save
from portal.errors import PortalError
from portal.queue import enqueue

PAGE_SIZE = 50
SESSION_KEY = "people_import_tokens"


def _require_manager(user) -> None:
    if not can_manage_people(user):
        raise PermissionDenied(REFUSED)


def _invite(request: HttpRequest, user_ids: list[int]) -> None:
    if user_ids:
        enqueue(INVITATIONS_TASK, user_ids, request.build_absolute_uri("/"),
                unavailable="Приглашения не отправлены: очередь задач недоступна.")


def _filtered(request: HttpRequest, people: QuerySet) -> tuple[PeopleFilterForm, QuerySet]:
    form = PeopleFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            people = people.filter(Q(email__icontains=data["q"]) | Q(
                last_name__icontains=data["q"]) | Q(first_name__icontains=data["q"]))
        if data["role"]:
            people = people.filter(profile__role=data["role"])
        people = {"yes": people.filter(is_active=True), "no": people.filter(is_active=False),
                  "invited": people.filter(password__startswith="!")}.get(data["active"], people)
    return form, people


@login_required
def people_list(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    people = people_visible_to(request.user).select_related("profile").prefetch_related(
        "profile__territories", "profile__institutions").order_by("last_name", "email", "pk")
    form, people = _filtered(request, people)
    query = request.GET.copy()
    query.pop("page", None)
    page = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "institutions/people_list.html",
                  {"filter": form, "page": page, "query": query.urlencode()})


def _person_or_404(request: HttpRequest, pk: int):
    person = people_visible_to(request.user).filter(pk=pk).first()
    if person is None:
        raise Http404("Пользователь не найден или им управляет региональный методист.")
    return person


@login_required
def person_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Create a person (they get an invitation) or change role, scope and access."""
    _require_manager(request.user)
    person = _person_or_404(request, pk) if pk is not None else None
    initial = (PersonForm.initial_for(person) if person
               else {"is_active": True, "role": Role.VIEWER})
    form = PersonForm(request.POST or None, manager=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_person(manager=request.user, data=form.person(), user=person)
        except PortalError as exc:
            form.add_error(None, exc.message)
        else:
            if person is None:
                _invite(request, [saved.pk])
                messages.success(request, f"Пользователь {saved.email} создан; приглашение "
                                          "с ссылкой для пароля отправлено на почту.")
            else:
                messages.success(request, f"Изменения пользователя {saved.email} сохранены.")
            return redirect("people")
    return render(request, "institutions/person_form.html", {"form": form, "person": person})


@login_required
@require_POST
def person_deactivate_view(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request.user)
    person = _person_or_404(request, pk)
    person_deactivate(manager=request.user, user=person)
    messages.success(request, f"Пользователь {person.email or person.username} отключён.")
    return redirect("people")


@login_required
@require_POST
def person_reinvite(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request.user)
    person = _person_or_404(request, pk)
    _invite(request, [person.pk])
    messages.success(request, f"Приглашение отправлено ещё раз на {person.email}.")
    return redirect("people")


@login_required
def people_import(request: HttpRequest) -> HttpResponse:
    """Upload a list and see the plan; «Применить» writes it and sends the invitations."""
    _require_manager(request.user)
    form = PeopleImportForm(request.POST or None, request.FILES or None)
    context = {"form": form, "plan": None, "token": None}
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            plan = people_plan(manager=request.user, rows=read_people(upload.read()))
        except PortalError as exc:
            form.add_error("file", exc.message)
            status = 400
        else:
            context["plan"] = plan
            if plan.has_changes and not plan.is_rejected:
                token = import_upload_save(file=upload)
                request.session[SESSION_KEY] = [*request.session.get(SESSION_KEY, []),
                                                token][-5:]
                context["token"] = token
    return render(request, "institutions/people_import.html", context, status=status)


@login_required
@require_POST
def people_import_apply(request: HttpRequest) -> HttpResponse:
    _require_manager(request.user)
    token = request.POST.get("token", "")
    if token not in request.session.get(SESSION_KEY, []):
        messages.error(request, "Загруженный файл не найден или устарел. Загрузите его снова.")
        return redirect("people-import")
    try:
        plan = people_apply(manager=request.user,
                            rows=read_people(import_upload_path(token=token).read_bytes()))
    except PortalError as exc:
        messages.error(request, exc.message)
        return redirect("people-import")
    finally:
        import_upload_delete(token=token)
        request.session[SESSION_KEY] = [t for t in request.session.get(SESSION_KEY, [])
                                        if t != token]
    if not plan.applied:
        return render(request, "institutions/people_import.html",
                      {"form": PeopleImportForm(), "plan": plan, "token": None})
    _invite(request, plan.invited)
    messages.success(request, plan.summary())
    return redirect("people")


class InvitationConfirmView(auth_views.PasswordResetConfirmView):
    """The invitation link: Django's reset-token check, then «set your password» once."""

    template_name = "registration/invite_set_password.html"
    success_url = reverse_lazy("invite-done")
    post_reset_login = False


def invite_done(request: HttpRequest) -> HttpResponse:
    return render(request, "registration/invite_done.html")

