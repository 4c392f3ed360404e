"""The registry: territories, institutions, their communities, and who may see what."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager
from simple_history.models import HistoricalRecords

from institutions.choices import (
    CommunityCategory,
    CommunityKind,
    CommunityState,
    InstitutionType,
    Network,
    Role,
    Subordination,
    TerritoryKind,
    WallMode,
)
from institutions.validators import validate_inn, validate_oktmo


class ApiTokenManager(BaseAPIKeyManager):
    """The library's key generation and lookup by prefix, for the portal's own token model."""

    def get_usable_keys(self) -> models.QuerySet:
        return super().get_usable_keys().select_related("user")


REGION_WIDE_ROLES = {Role.REGIONAL_METHODOLOGIST, Role.VIEWER, Role.API_CLIENT}


def profile_of(user) -> UserProfile | None:
    """The user's profile, or None for anonymous users and users without a role."""
    if not getattr(user, "is_authenticated", False):
        return None
    try:
        return user.profile
    except UserProfile.DoesNotExist:
        return None


def sees_whole_region(user) -> bool:
    """Superusers, regional methodologists, and viewers/API clients with no territory limit."""
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    profile = profile_of(user)
    if profile is None or profile.role not in REGION_WIDE_ROLES:
        return False
    return profile.role == Role.REGIONAL_METHODOLOGIST or not profile.territory_ids()


def is_regional_methodologist(user) -> bool:
    if getattr(user, "is_superuser", False) and user.is_active:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role == Role.REGIONAL_METHODOLOGIST


class TerritoryQuerySet(models.QuerySet):
    def visible_to(self, user) -> TerritoryQuerySet:
        if sees_whole_region(user):
            return self
        profile = profile_of(user)
        if profile is None:
            return self.none()
        if profile.role == Role.EDITOR:
            return self.filter(institutions__in=profile.institution_ids()).distinct()
        return self.filter(pk__in=profile.territory_ids())


class InstitutionQuerySet(models.QuerySet):
    def visible_to(self, user) -> InstitutionQuerySet:
        if sees_whole_region(user):
            return self
        profile = profile_of(user)
        if profile is None:
            return self.none()
        if profile.role == Role.EDITOR:
            return self.filter(pk__in=profile.institution_ids())
        return self.filter(territory_id__in=profile.territory_ids())


class CommunityQuerySet(models.QuerySet):
    def visible_to(self, user) -> CommunityQuerySet:
        if sees_whole_region(user):
            return self
        return self.filter(institution__in=Institution.objects.visible_to(user).values("pk"))

    def active(self) -> CommunityQuerySet:
        return self.filter(state=CommunityState.ACTIVE, institution__is_active=True)

    def as_of(self, day: dt.date) -> CommunityQuerySet:
        """Annotated with ``state_then`` and ``title_then``: what the community was on ``day``.

        A community with no recorded change has always been as it is now.
        """
        rows = CommunityHistory.objects.filter(community_id=OuterRef("pk"),
                                               valid_from__lte=day).order_by("-valid_from")
        return self.annotate(
            state_then=Coalesce(Subquery(rows.values("state")[:1]), F("state")),
            title_then=Coalesce(Subquery(rows.values("title")[:1]), F("title")))

    def active_on(self, day: dt.date) -> CommunityQuerySet:
        """Communities that were active on ``day`` (of institutions active now)."""
        return self.as_of(day).filter(state_then=CommunityState.ACTIVE,
                                      institution__is_active=True)


class Territory(models.Model):
    """A municipality of the region."""

    name = models.CharField("название", max_length=200)
    kind = models.CharField("вид", max_length=32, choices=TerritoryKind.choices)
    oktmo = models.CharField("код ОКТМО", max_length=11, unique=True, validators=[validate_oktmo])

    objects = TerritoryQuerySet.as_manager()

    class Meta:
        verbose_name = "территория"
        verbose_name_plural = "территории"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=TerritoryKind.values), name="territory_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Institution(models.Model):
    """A state or municipal institution that runs official communities."""

    full_name = models.CharField("полное наименование", max_length=500)
    short_name = models.CharField("краткое наименование", max_length=200)
    type = models.CharField("тип", max_length=32, choices=InstitutionType.choices)
    inn = models.CharField(
        "ИНН", max_length=12, null=True, blank=True, validators=[validate_inn]
    )
    territory = models.ForeignKey(
        Territory, on_delete=models.PROTECT, related_name="institutions", verbose_name="территория"
    )
    subordination = models.CharField(
        "подведомственность",
        max_length=16,
        choices=Subordination.choices,
        default=Subordination.MUNICIPAL,
    )
    is_active = models.BooleanField("действует", default=True)
    created_at = models.DateTimeField("создано", auto_now_add=True)
    updated_at = models.DateTimeField("изменено", auto_now=True)

    objects = InstitutionQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = "учреждение"
        verbose_name_plural = "учреждения"
        ordering = ["short_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["inn"], condition=Q(inn__isnull=False), name="institution_inn_unique"
            ),
            models.CheckConstraint(condition=~Q(inn=""), name="institution_inn_null_not_blank"),
            models.CheckConstraint(
                condition=Q(type__in=InstitutionType.values), name="institution_type_valid"
            ),
            models.CheckConstraint(
                condition=Q(subordination__in=Subordination.values),
                name="institution_subordination_valid",
            ),
        ]
        indexes = [models.Index(fields=["territory", "type"], name="institution_terr_type_idx")]

    def __str__(self) -> str:
        return self.short_name

    @property
    def skips_municipal_review(self) -> bool:
        return self.subordination == Subordination.REGIONAL


class Community(models.Model):
    """An official VK or OK community of an institution."""

    institution = models.ForeignKey(
        Institution, on_delete=models.CASCADE, related_name="communities", verbose_name="учреждение"
    )
    network = models.CharField("соцсеть", max_length=2, choices=Network.choices)
    network_id = models.BigIntegerField("id в соцсети", null=True, blank=True)
    screen_name = models.CharField("короткое имя", max_length=100, blank=True)
    title = models.CharField("название", max_length=300, blank=True)
    url = models.URLField("ссылка", max_length=300)
    is_verified = models.BooleanField("отметка «Госорганизация»", default=False)
    state = models.CharField(
        "состояние", max_length=16, choices=CommunityState.choices, default=CommunityState.ACTIVE
    )
    members_count = models.PositiveIntegerField("участников (последнее)", null=True, blank=True)
    last_collected_at = models.DateTimeField("последний сбор", null=True, blank=True)
    last_error = models.CharField("последняя ошибка", max_length=300, blank=True)
    # What the network says about how the page is kept (groups.getById, group.getInfo);
    # NULL: not said yet (not collected, or the network has no such setting).
    kind = models.CharField("вид страницы", max_length=8, choices=CommunityKind.choices,
                            blank=True)
    description = models.TextField("описание", blank=True)
    site = models.CharField("сайт", max_length=300, blank=True)
    has_avatar = models.BooleanField("аватар", null=True, blank=True)
    has_cover = models.BooleanField("обложка", null=True, blank=True)
    wall_mode = models.PositiveSmallIntegerField("стена", choices=WallMode.choices, null=True,
                                                 blank=True)
    has_addresses = models.BooleanField("адреса в сообществе", null=True, blank=True)
    name_similarity = models.FloatField(
        "сходство названия с учреждением", null=True, blank=True,
        help_text="0–1: доля слов названия учреждения в названии сообщества")
    category = models.CharField(
        "категория (задана методистом)", max_length=16, choices=CommunityCategory.choices,
        blank=True, help_text="Пусто — по правилу: флагманский при числе участников выше "
        "порога, иначе активный.")
    created_at = models.DateTimeField("создано", auto_now_add=True)
    updated_at = models.DateTimeField("изменено", auto_now=True)

    objects = CommunityQuerySet.as_manager()

    class Meta:
        verbose_name = "сообщество"
        verbose_name_plural = "сообщества"
        ordering = ["institution_id", "network", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["network", "network_id"],
                condition=Q(network_id__isnull=False),
                name="community_network_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(network_id__isnull=False) | ~Q(screen_name=""),
                name="community_has_id_or_screen_name",
            ),
            models.CheckConstraint(
                condition=Q(network__in=Network.values), name="community_network_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=CommunityState.values), name="community_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(network_id__gt=0) | Q(network_id__isnull=True),
                name="community_network_id_positive",
            ),
            models.CheckConstraint(
                condition=Q(category="") | Q(category__in=CommunityCategory.values),
                name="community_category_valid",
            ),
        ]
        indexes = [models.Index(fields=["network", "state"], name="community_network_state_idx")]

    def __str__(self) -> str:
        return self.title or self.screen_name or f"{self.network}:{self.network_id}"


#: The first row of a community's history holds what it was before any recorded change.
SINCE_ALWAYS = dt.date(1900, 1, 1)


class CommunityHistory(models.Model):
    """A community's state and title from a date on, so a past period shows them as they were.

    Written when a change is seen (collection, registry edits); a community without rows has
    always been as it is now. The first row of a community starts on ``SINCE_ALWAYS``.
    """

    community = models.ForeignKey(
        Community, on_delete=models.CASCADE, related_name="history_rows",
        verbose_name="сообщество",
    )
    valid_from = models.DateField("действует с")
    state = models.CharField("состояние", max_length=16, choices=CommunityState.choices)
    title = models.CharField("название", max_length=300, blank=True)
    recorded_at = models.DateTimeField("записано", auto_now=True)

    class Meta:
        verbose_name = "состояние и название сообщества на дату"
        verbose_name_plural = "история состояний и названий сообществ"
        ordering = ["community_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(fields=["community", "valid_from"],
                                    name="community_history_natural_key"),
            models.CheckConstraint(condition=Q(state__in=CommunityState.values),
                                   name="community_history_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.community_id} с {self.valid_from:%d.%m.%Y}: {self.state}, {self.title}"


class UserProfile(models.Model):
    """A user's role and the territories or institutions it covers."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    role = models.CharField("роль", max_length=16, choices=Role.choices)
    territories = models.ManyToManyField(Territory, blank=True, verbose_name="территории")
    institutions = models.ManyToManyField(Institution, blank=True, verbose_name="учреждения")

    class Meta:
        verbose_name = "профиль пользователя"
        verbose_name_plural = "профили пользователей"
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="profile_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()}"

    def territory_ids(self) -> list[int]:
        """Cached per instance: scoping asks this several times per request."""
        if not hasattr(self, "_territory_ids"):
            self._territory_ids = list(self.territories.values_list("pk", flat=True))
        return self._territory_ids

    def institution_ids(self) -> list[int]:
        if not hasattr(self, "_institution_ids"):
            self._institution_ids = list(self.institutions.values_list("pk", flat=True))
        return self._institution_ids


class ApiToken(AbstractAPIKey):
    """A named API token of one person; only its hash is stored (djangorestframework-api-key).

    The token authenticates as its owner, so it sees exactly what the owner sees.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens",
        verbose_name="владелец",
    )
    last_used_at = models.DateTimeField("последнее использование", null=True, blank=True)

    objects = ApiTokenManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = "токен API"
        verbose_name_plural = "токены API"
        ordering = ["-created"]
        indexes = [models.Index(fields=["user", "revoked"], name="apitoken_user_revoked_idx")]
