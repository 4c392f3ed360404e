"""DRF authentication by the portal's hashed API tokens: ``Authorization: Token <key>``."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

# "Token" keeps existing clients working; "Bearer" is what generated clients send by default.
KEYWORDS = (b"token", b"bearer")


class ApiTokenAuthentication(BaseAuthentication):
    """Authenticates as the token's owner; a wrong, revoked or expired token is a 401."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() not in KEYWORDS:
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Заголовок Authorization: «Token <ключ>».")
        try:
            key = parts[1].decode()
        except UnicodeError as exc:
            message = "Ключ токена содержит недопустимые символы."
            raise exceptions.AuthenticationFailed(message) from exc
        # Imported here: DRF loads this class while rest_framework.views is still initialising,
        # and the services import portal.errors, which needs rest_framework.views.
        from institutions.apitokens import api_token_authenticate

        token = api_token_authenticate(key)
        if token is None:
            raise exceptions.AuthenticationFailed("Токен неверен, отозван или истёк.")
        return token.user, token

    def authenticate_header(self, request) -> str:
        return "Token"


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the schema documents the token: an ``Authorization`` header, ``Token <key>``."""

    target_class = "institutions.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "«Token <ключ>»; ключ создаётся в профиле или POST /api/v1/tokens/.",
        }
