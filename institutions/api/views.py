from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, QuerySet
from rest_framework import viewsets
from rest_framework.serializers import BaseSerializer

from institutions.api.serializers import (
    CommunitySerializer,
    InstitutionSerializer,
    TerritorySerializer,
)
from institutions.filters import CommunityFilter, InstitutionFilter, TerritoryFilter
from institutions.models import Community, Institution, Territory
from institutions.permissions import RegistryPermission
from portal.errors import Conflict


class RegistryViewSet(viewsets.ModelViewSet):
    """Shared write handling: one transaction per write, database refusals as clear errors.

    The serializers check uniqueness first; the database constraints still decide when two
    requests race, and their refusal must reach the caller as a 409, not a 500.
    """

    permission_classes = [RegistryPermission]
    conflict_message = "Запись противоречит данным реестра; обновите страницу и повторите."
    protected_message = "Нельзя удалить: на запись ссылаются другие данные реестра."

    def perform_create(self, serializer: BaseSerializer) -> None:
        self._save(serializer)

    def perform_update(self, serializer: BaseSerializer) -> None:
        self._save(serializer)

    def _save(self, serializer: BaseSerializer) -> None:
        try:
            with transaction.atomic():
                serializer.save()
        except IntegrityError as exc:
            raise Conflict(self.conflict_message) from exc

    def perform_destroy(self, instance) -> None:
        try:
            with transaction.atomic():
                instance.delete()
        except ProtectedError as exc:
            raise Conflict(self.protected_message) from exc


class TerritoryViewSet(RegistryViewSet):
    """Territories (municipalities) within the caller's scope."""

    serializer_class = TerritorySerializer
    filterset_class = TerritoryFilter
    ordering_fields = ["name", "oktmo"]
    protected_message = "Нельзя удалить территорию, пока к ней относятся учреждения."

    def get_queryset(self) -> QuerySet[Territory]:
        return Territory.objects.visible_to(self.request.user).order_by("name", "pk")


class InstitutionViewSet(RegistryViewSet):
    """Institutions within the caller's scope, with their communities."""

    serializer_class = InstitutionSerializer
    filterset_class = InstitutionFilter
    ordering_fields = ["short_name", "created_at"]
    conflict_message = "Учреждение с таким ИНН уже есть в реестре."
    protected_message = "Нельзя удалить учреждение, пока на него ссылаются данные отчётов."

    def get_queryset(self) -> QuerySet[Institution]:
        return (
            Institution.objects.visible_to(self.request.user)
            .select_related("territory")
            .prefetch_related("communities")
            .order_by("short_name", "pk")
        )


class CommunityViewSet(RegistryViewSet):
    """Communities of the institutions within the caller's scope."""

    serializer_class = CommunitySerializer
    filterset_class = CommunityFilter
    ordering_fields = ["title", "members_count", "last_collected_at"]
    conflict_message = "Это сообщество уже есть в реестре."
    protected_message = "Нельзя удалить сообщество, пока на него ссылаются данные отчётов."

    def get_queryset(self) -> QuerySet[Community]:
        return Community.objects.visible_to(self.request.user).order_by("pk")
