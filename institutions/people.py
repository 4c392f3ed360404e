"""People of the portal: who may manage whom, saving a person's role and scope, invitations.

Regional methodologists manage everyone except superusers; a municipal department manages the
editors and viewers of its own territories (editors of institutions there, viewers limited to
those territories). An invitation is a one-time link to set a password, made with Django's
password-reset token machinery: it stops working once a password is set or after
``PASSWORD_RESET_TIMEOUT`` (``INVITATION_TIMEOUT_DAYS``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from institutions.choices import Role
from institutions.models import (
    Institution,
    UserProfile,
    is_regional_methodologist,
    profile_of,
)
from portal.errors import NotAllowed, ValidationFailed

INVITATIONS_TASK = "institutions.send_invitations"
TERRITORY_ROLES = {Role.MUNICIPAL, Role.VIEWER, Role.API_CLIENT}
MUNICIPAL_MANAGES = (Role.EDITOR, Role.VIEWER)
REFUSED = "Управлять пользователями могут региональные методисты и муниципальные отделы культуры."


def can_manage_people(user) -> bool:
    profile = profile_of(user)
    return is_regional_methodologist(user) or (
        profile is not None and profile.role == Role.MUNICIPAL)


def _manager_territories(manager) -> list[int]:
    profile = profile_of(manager)
    return profile.territory_ids() if profile else []


def assignable_roles(manager) -> list[tuple[str, str]]:
    """The roles a manager may give, as form choices."""
    if is_regional_methodologist(manager):
        return list(Role.choices)
    if can_manage_people(manager):
        return [(r.value, r.label) for r in MUNICIPAL_MANAGES]
    return []


def people_visible_to(manager) -> QuerySet:
    """The users the manager may see and change (never superusers, never themselves)."""
    users = get_user_model().objects.filter(is_superuser=False).exclude(pk=manager.pk)
    if is_regional_methodologist(manager):
        return users
    if not can_manage_people(manager):
        return users.none()
    mine = _manager_territories(manager)
    links_in = UserProfile.institutions.through.objects.filter(userprofile__user=OuterRef("pk"))
    areas_in = UserProfile.territories.through.objects.filter(userprofile__user=OuterRef("pk"))
    editors = (Q(profile__role=Role.EDITOR) & Exists(links_in)
               & ~Exists(links_in.exclude(institution__territory_id__in=mine)))
    viewers = (Q(profile__role=Role.VIEWER) & Exists(areas_in)
               & ~Exists(areas_in.exclude(territory_id__in=mine)))
    return users.filter(editors | viewers)


@dataclass(frozen=True)
class PersonData:
    """What a manager sets for a person."""

    email: str
    first_name: str
    last_name: str
    role: str
    territory_ids: tuple[int, ...] = ()
    institution_ids: tuple[int, ...] = ()
    is_active: bool = True


def check_scope(manager, data: PersonData) -> list[str]:
    """Why the manager may not give this role and scope (empty when they may)."""
    problems = []
    if data.role not in dict(assignable_roles(manager)):
        problems.append(f"роль «{Role(data.role).label if data.role in Role.values else data.role}"
                        "» вы назначать не можете")
    if data.role == Role.EDITOR and not data.institution_ids:
        problems.append("редактору нужно хотя бы одно учреждение")
    if data.role == Role.MUNICIPAL and not data.territory_ids:
        problems.append("муниципальному отделу нужна хотя бы одна территория")
    if is_regional_methodologist(manager):
        return problems
    mine = set(_manager_territories(manager))
    if data.role == Role.VIEWER and not data.territory_ids:
        problems.append("наблюдателю укажите территории (весь регион назначает методист)")
    if not set(data.territory_ids) <= mine:
        problems.append("можно указывать только свои территории")
    outside = Institution.objects.filter(pk__in=data.institution_ids).exclude(
        territory_id__in=mine)
    if outside.exists():
        problems.append("можно указывать только учреждения своих территорий")
    return problems


@transaction.atomic
def person_save(*, manager, data: PersonData, user=None):
    """Create (with an unusable password, to be set through the invitation) or update a person."""
    if not can_manage_people(manager):
        raise NotAllowed(REFUSED)
    if user is not None and not people_visible_to(manager).filter(pk=user.pk).exists():
        raise NotAllowed("Этим пользователем управляет региональный методист.")
    problems = check_scope(manager, data)
    email = data.email.strip().lower()
    taken = get_user_model().objects.filter(Q(email__iexact=email) | Q(username__iexact=email))
    if user is not None:
        taken = taken.exclude(pk=user.pk)
    if taken.exists():
        problems.append(f"пользователь с адресом {email} уже есть")
    if problems:
        raise ValidationFailed("Не сохранено: " + "; ".join(problems) + ".",
                               details={"problems": problems})
    if user is None:
        user = get_user_model()(username=email)
        user.set_unusable_password()
    user.email, user.first_name, user.last_name = email, data.first_name, data.last_name
    user.is_active = data.is_active
    user.save()
    profile, _ = UserProfile.objects.update_or_create(user=user, defaults={"role": data.role})
    profile.territories.set(data.territory_ids if data.role in TERRITORY_ROLES else [])
    profile.institutions.set(data.institution_ids if data.role == Role.EDITOR else [])
    return user


def person_deactivate(*, manager, user) -> None:
    """Switch a person off: they can no longer sign in and their API tokens stop working."""
    if not people_visible_to(manager).filter(pk=user.pk).exists():
        raise NotAllowed("Этим пользователем управляет региональный методист.")
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)


def invitation_path(user) -> str:
    """The one-time path that lets the person set their password."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/invite/{uid}/{default_token_generator.make_token(user)}/"


def invitation_text(user, base_url: str) -> str:
    return (f"Здравствуйте, {user.get_full_name() or user.email}!\n\n"
            "Для вас создана учётная запись на портале отчётности госпабликов региона.\n"
            "Чтобы войти, задайте пароль по ссылке (она действует один раз и ограниченное "
            f"время):\n{base_url.rstrip('/')}{invitation_path(user)}\n\n"
            f"Имя для входа: {user.username}\n")


def invitations_send(*, user_ids: Iterable[int], base_url: str) -> int:
    """E-mail an invitation to each of these people who has not set a password yet."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection

    users = get_user_model().objects.filter(pk__in=list(user_ids), is_active=True)
    messages = [EmailMessage("Приглашение на портал госпабликов", invitation_text(u, base_url),
                             settings.DEFAULT_FROM_EMAIL, [u.email])
                for u in users if u.email and not u.has_usable_password()]
    with get_connection() as connection:
        connection.send_messages(messages)
    return len(messages)
