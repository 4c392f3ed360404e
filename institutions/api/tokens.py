"""API tokens through the API: the owner lists, creates (key shown once) and revokes them."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from institutions.apitokens import (
    TOKEN_NAME_MAX,
    api_token_create,
    api_token_list,
    api_token_revoke,
    can_have_api_tokens,
)
from institutions.models import ApiToken
from portal.errors import PortalError


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it later: never the key, only its public prefix."""

    class Meta:
        model = ApiToken
        fields = ["prefix", "name", "created", "last_used_at", "expiry_date", "revoked"]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=TOKEN_NAME_MAX, label="Название токена")


class ApiTokenObtainSerializer(ApiTokenCreateSerializer):
    username = serializers.CharField(max_length=150, label="Имя пользователя")
    password = serializers.CharField(max_length=128, label="Пароль",
                                     style={"input_type": "password"})


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    """The answer to a creation: the only time the key itself is shown."""

    key = serializers.CharField(read_only=True, help_text="Ключ; показывается один раз.")

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "key"]
        read_only_fields = fields


PREFIX = OpenApiParameter("prefix", str, OpenApiParameter.PATH, pattern="^[A-Za-z0-9]{8}$",
                          description="начало токена (8 букв и цифр до точки)")


def _created(token: ApiToken, key: str) -> Response:
    token.key = key
    return Response(ApiTokenCreatedSerializer(token).data, status=status.HTTP_201_CREATED)


class HasApiTokens(IsAuthenticated):
    message = "Токены API выдаются только пользователям с ролью в портале."

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and can_have_api_tokens(request.user)


@extend_schema_view(list=extend_schema(summary="Мои токены API", operation_id="tokens_list"))
class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens. DELETE revokes a token for good."""

    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # for the schema; get_queryset gives the owner's tokens
    permission_classes = [HasApiTokens]
    lookup_field = "prefix"
    lookup_value_regex = "[A-Za-z0-9]{8}"
    filter_backends: list = []

    def get_queryset(self):
        return api_token_list(user=self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer},
                   operation_id="tokens_create", summary="Создать токен API (ключ виден один раз)")
    def create(self, request: Request) -> Response:
        body = ApiTokenCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return _created(*api_token_create(user=request.user, name=body.validated_data["name"]))

    @extend_schema(parameters=[PREFIX], responses={200: ApiTokenSerializer},
                   operation_id="tokens_retrieve", summary="Токен API по его началу")
    def retrieve(self, request: Request, prefix: str) -> Response:
        return super().retrieve(request, prefix=prefix)

    @extend_schema(parameters=[PREFIX], responses={204: None}, operation_id="tokens_revoke",
                   summary="Отозвать токен API")
    def destroy(self, request: Request, prefix: str) -> Response:
        api_token_revoke(user=request.user, prefix=prefix)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=ApiTokenObtainSerializer, responses={201: ApiTokenCreatedSerializer},
                   operation_id="tokens_obtain", auth=[],
                   summary="Получить токен API по имени и паролю")
    @action(detail=False, methods=["post"], permission_classes=[AllowAny],
            authentication_classes=[])
    def obtain(self, request: Request) -> Response:
        """Create a token with the owner's name and password (for scripts with no browser)."""
        body = ApiTokenObtainSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        user = authenticate(request._request, username=data["username"], password=data["password"])
        if user is None:
            raise _BadCredentials("Неверное имя пользователя или пароль.")
        return _created(*api_token_create(user=user, name=data["name"]))


class _BadCredentials(PortalError):
    code = "authentication_failed"
    http_status = status.HTTP_401_UNAUTHORIZED
