from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from metrics.api.serializers import (
    CollectionRunItemSerializer,
    CollectionRunSerializer,
    NetworkTokenSerializer,
)
from metrics.collect.selectors import can_see_runs, run_items, runs_list
from metrics.models import NetworkToken
from metrics.tokens import can_manage_tokens, token_delete, token_register, tokens_visible_to
from portal.errors import NotFound


class SeesRuns(BasePermission):
    message = "Сборы видят пользователи с ролью на портале."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and can_see_runs(request.user)


class ManagesTokens(BasePermission):
    message = "Ключи доступа ведут региональные методисты и редакторы учреждений."

    def has_permission(self, request, view) -> bool:
        return request.user.is_authenticated and can_manage_tokens(request.user)


class CollectionRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Collection runs from VK and OK; ``items`` lists the communities not collected and why."""

    serializer_class = CollectionRunSerializer
    permission_classes = [SeesRuns]
    filterset_fields = ["kind", "network", "state"]
    ordering_fields = ["created_at"]

    def get_queryset(self) -> QuerySet:
        return runs_list()

    # A page of items, declared as the paginated list it is (a detail action is not, by default).
    @extend_schema(responses=CollectionRunItemSerializer(many=True),
                   parameters=[OpenApiParameter("page", int, description="номер страницы"),
                               OpenApiParameter("page_size", int,
                                                description="строк на странице (до 1000)")])
    @action(detail=True, serializer_class=CollectionRunItemSerializer, filterset_fields=[])
    def items(self, request: Request, pk: int | None = None) -> Response:
        items = run_items(run=self.get_object(), user=request.user)
        page = self.paginate_queryset(items)
        return self.get_paginated_response(CollectionRunItemSerializer(page, many=True).data)


class NetworkTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, mixins.DestroyModelMixin,
                          viewsets.GenericViewSet):
    """Network tokens: registered (checked against the API) and deleted; never read back."""

    serializer_class = NetworkTokenSerializer
    permission_classes = [ManagesTokens]
    filterset_fields = ["network", "is_active"]
    ordering_fields = ["created_at", "label"]

    def get_queryset(self) -> QuerySet[NetworkToken]:
        return tokens_visible_to(self.request.user).prefetch_related("communities").order_by(
            "network", "label", "pk")

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        token = token_register(
            user=request.user, network=data["network"], kind=data["kind"],
            secret=data["secret"], label=data["label"],
            community_ids=data.get("community_ids", []), app_key=data.get("app_key", ""),
            app_secret=data.get("app_secret", ""),
        )
        return Response(self.get_serializer(token).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        if not str(kwargs["pk"]).isdecimal():  # the router lets any path segment through
            raise NotFound("Ключ не найден.")
        token_delete(user=request.user, token_id=int(kwargs["pk"]))
        return Response(status=status.HTTP_204_NO_CONTENT)
